"""The dialogue through Rasa's real REST webhook, with the real action server and database."""

from __future__ import annotations

import uuid

import pytest
import requests
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MONDAY_EVENING = "2026-11-23T19:00:00+01:00"  # evening hotline open
MONDAY_NIGHT = "2026-11-23T23:00:00+01:00"  # closed
DUTY_PASSWORD = "en-lang-vagt-adgangskode"


@pytest.fixture(scope="module")
def duty_agent(stack) -> str:
    """An agent who can log into the console; each test decides whether they are at it."""
    stack.create_user("vagt", "agent", "Vera Vagt", DUTY_PASSWORD)
    return "vagt"


def say(stack, sender: str, message: str, now: str = MONDAY_EVENING) -> list[dict]:
    response = requests.post(
        f"{stack.settings.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message, "metadata": {"now": now}},
        timeout=120,
    )
    response.raise_for_status()
    return response.json()


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def rows(stack, sql: str, **params) -> list:
    engine = create_engine(stack.settings.database_url)
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def test_question_is_answered_from_the_guide_with_its_link(stack) -> None:
    replies = say(stack, uuid.uuid4().hex, "Hvordan får jeg MitID?")
    assert "https://www.mitid.dk/" in texts(replies)
    assert replies[-1]["text"] == "Fik du svar på dit spørgsmål?"
    assert [b["title"] for b in replies[-1]["buttons"]] == ["Ja", "Nej"]


def test_request_for_a_person_in_hotline_hours_creates_a_handoff(stack, duty_agent) -> None:
    stack.agent_present(duty_agent, DUTY_PASSWORD)  # the console is open
    sender = uuid.uuid4().hex
    replies = say(stack, sender, "jeg vil tale med en medarbejder", MONDAY_EVENING)
    assert "giver din samtale videre til en medarbejder" in texts(replies)
    handoffs = rows(stack, "select status, reason from handoffs where conversation_id = :c",
                    c=sender)  # fmt: skip
    assert [tuple(r) for r in handoffs] == [("waiting", "requested")]


def test_request_for_a_person_in_hotline_hours_with_no_agent_present_offers_a_callback(
    stack, duty_agent
) -> None:
    stack.agent_present(duty_agent, DUTY_PASSWORD)
    stack.no_agents_present()  # in opening hours, but nobody has the console open
    sender = uuid.uuid4().hex
    replies = say(stack, sender, "jeg vil tale med en medarbejder", MONDAY_EVENING)
    assert texts(replies) == (
        "Der er ingen ledige medarbejdere i chatten lige nu. "
        "Vil du have, at en medarbejder ringer dig op?"
    )
    assert [b["payload"] for b in replies[-1]["buttons"]] == ["/request_callback", "/deny"]
    assert rows(stack, "select id from handoffs where conversation_id = :c", c=sender) == []
    replies = say(stack, sender, "/request_callback", MONDAY_EVENING)
    assert "Hvad er dit navn?" in texts(replies)


def test_request_for_a_person_at_night_offers_a_callback(stack, duty_agent) -> None:
    stack.agent_present(duty_agent, DUTY_PASSWORD)  # at the console, but the hotline is closed
    sender = uuid.uuid4().hex
    replies = say(stack, sender, "jeg vil tale med en medarbejder", MONDAY_NIGHT)
    assert "ingen medarbejdere i chatten lige nu" in texts(replies)
    assert "Vi er tilbage i morgen kl. 10.00" in texts(replies)
    assert [b["payload"] for b in replies[-1]["buttons"]] == ["/request_callback", "/deny"]
    assert rows(stack, "select id from handoffs where conversation_id = :c", c=sender) == []


def test_full_callback_booking_ends_with_a_stored_row(stack) -> None:
    sender = uuid.uuid4().hex
    say(stack, sender, "Hvordan får jeg MitID?", MONDAY_NIGHT)
    say(stack, sender, "/deny", MONDAY_NIGHT)  # not helpful → out of hours → callback offer
    replies = say(stack, sender, "/request_callback", MONDAY_NIGHT)
    assert "Hvad er dit navn?" in texts(replies)
    replies = say(stack, sender, "Mette Hansen", MONDAY_NIGHT)
    assert "telefonnummer" in texts(replies)
    replies = say(stack, sender, "123", MONDAY_NIGHT)
    assert "ligner ikke et dansk telefonnummer" in texts(replies)
    replies = say(stack, sender, "22 33 44 55", MONDAY_NIGHT)
    slot_buttons = replies[-1]["buttons"]
    assert slot_buttons, texts(replies)
    replies = say(stack, sender, slot_buttons[0]["payload"], MONDAY_NIGHT)
    assert "Behold emnet" in [b["title"] for b in replies[-1]["buttons"]]
    replies = say(stack, sender, "/keep_topic", MONDAY_NIGHT)
    summary = texts(replies)
    assert "Navn: Mette Hansen" in summary and "Telefon: +4522334455" in summary
    assert "Emne: Hvordan får jeg MitID?" in summary
    replies = say(stack, sender, "/affirm", MONDAY_NIGHT)
    assert "Dit opkald er bestilt" in texts(replies)
    booked = rows(stack, "select name, phone, department, topic, status from callbacks "
                  "where conversation_id = :c", c=sender)  # fmt: skip
    assert [tuple(r) for r in booked] == [
        ("Mette Hansen", "+4522334455", "borgerservice", "Hvordan får jeg MitID?", "booked")
    ]
    replies = say(stack, sender, "aflys mit opkald", MONDAY_NIGHT)
    assert "Dit opkald er aflyst" in texts(replies)
    status = rows(stack, "select status from callbacks where conversation_id = :c", c=sender)
    assert [tuple(r) for r in status] == [("cancelled",)]


def test_a_restarted_rasa_carries_on_with_the_callback_form(stack) -> None:
    # Rasa's tracker store (bot/endpoints.yml) keeps the open form and the name across a
    # restart, as after a deploy of a retrained model in the middle of a citizen's booking.
    sender = uuid.uuid4().hex
    say(stack, sender, "/request_callback", MONDAY_NIGHT)
    replies = say(stack, sender, "Karen Holm", MONDAY_NIGHT)
    assert "telefonnummer" in texts(replies)

    stack.restart("rasa")

    replies = say(stack, sender, "22 33 44 55", MONDAY_NIGHT)
    slot_buttons = replies[-1].get("buttons") or []
    assert slot_buttons, texts(replies)  # the form asks for a time: it knew the name already
    say(stack, sender, slot_buttons[0]["payload"], MONDAY_NIGHT)
    replies = say(stack, sender, "mit pas er udløbet", MONDAY_NIGHT)
    summary = texts(replies)
    assert "Navn: Karen Holm" in summary and "Telefon: +4522334455" in summary, summary
