"""The chain web → Rasa → action server, over HTTP against the three real processes."""

from __future__ import annotations

import uuid

import pytest
import requests

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def chat(stack, text: str, conversation_id: str | None = None) -> dict:
    response = requests.post(
        f"{stack.web_url}/api/chat",
        json={"text": text, "conversation_id": conversation_id or uuid.uuid4().hex},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_chat_page_is_served_in_danish(stack) -> None:
    page = requests.get(f"{stack.web_url}/", timeout=10)
    assert page.status_code == 200
    assert '<html lang="da">' in page.text


def test_greeting_comes_from_the_trained_rasa_model(stack) -> None:
    data = chat(stack, "Hej")
    texts = [m["text"] for m in data["messages"]]
    assert any(t.startswith("Hej! Jeg er kommunens digitale assistent") for t in texts), texts


def test_opening_hours_question_runs_the_custom_action(stack) -> None:
    data = chat(stack, "hvornår har I åbent?")
    text = "\n".join(m["text"] for m in data["messages"])
    # Produced by actions/opening_hours.py from bot/schedule.yml, not by a domain response.
    assert "Her kan du chatte med en medarbejder" in text, text
    assert "mandag:" in text and "18.30-22.00" in text


def test_bad_input_gets_a_danish_message(stack) -> None:
    response = requests.post(f"{stack.web_url}/api/chat", json={"text": "  "}, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"] == "Skriv en besked, før du sender."


def test_rasa_offers_only_its_rest_channel(stack) -> None:
    """No --enable-api: Rasa's HTTP API (trackers, events, model upload) has no token here, so it
    is not started; the web front needs only the REST channel."""
    rasa = stack.settings.rasa_url
    assert requests.get(f"{rasa}/webhooks/rest/", timeout=10).json() == {"status": "ok"}
    for path in ("/status", "/conversations/x/tracker", "/domain"):
        assert requests.get(f"{rasa}{path}", timeout=10).status_code == 404, path
