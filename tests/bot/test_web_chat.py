"""The citizen chat API's input handling (Flask test client; Rasa is deliberately unreachable)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": "   "}, "Skriv en besked, før du sender."),
        ({"text": 42}, "Skriv en besked, før du sender."),
        ({"text": "x" * 1001}, "Beskeden er for lang. Skriv højst 1000 tegn."),
        ({"text": "hej", "conversation_id": "../etc"}, "Samtalen kunne ikke findes. "
         "Genindlæs siden og prøv igen."),
        ({"text": "hej", "municipality": "<script>"}, "Ukendt kommune."),
        ([1, 2], "Beskeden kunne ikke læses. Prøv at sende den igen."),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_danish_message(client: FlaskClient, body, message: str) -> None:
    response = client.post("/api/chat", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"error": message}
    assert "\\u00" not in response.get_data(as_text=True)  # Danish letters, not JSON escapes


def test_rasa_down_gives_503_with_a_danish_message(client: FlaskClient) -> None:
    response = client.post("/api/chat", json={"text": "Hvordan får jeg MitID?"})
    assert response.status_code == 503
    assert response.get_json() == {"error": "Assistenten svarer ikke lige nu. Prøv igen om lidt."}


def test_demo_page_is_danish_and_embeds_the_widget(client: FlaskClient) -> None:
    page = client.get("/?kommune=0101").get_data(as_text=True)
    assert '<html lang="da">' in page
    assert 'src="http://localhost/widget.js" data-municipality="0101"' in page
