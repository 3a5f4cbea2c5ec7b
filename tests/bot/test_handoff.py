from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest
from sqlalchemy.exc import IntegrityError

from bot.handoff import build_summary, create_handoff, decide_escalation, department_for
from bot.hours import TZ, Schedules
from bot.store import Store
from bot.store.models import Conversation, Handoff
from bot.store.repository import append_message, ensure_conversation, transcript
from knowledge.search import Hit

SCHEDULES = Schedules.load()


def hit(slug: str, title: str, score: float, owner: str) -> Hit:
    return Hit(slug, title, f"https://x.dk/{slug}", owner, "cat", "", "*", score, 0.8, 0.1, "", "")


GUESSES = [
    hit("boligstoette", "Søg boligstøtte", 0.61734, "ydelser"),
    hit("flyttemelding", "Meld flytning", 0.4, "borgerservice"),
]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def test_handoff_while_agents_are_on_duty() -> None:
    escalation = decide_escalation(SCHEDULES, "0101", at("2026-11-26T11:00"))  # Thursday
    assert escalation.kind == "handoff"
    assert escalation.next_opening == at("2026-11-26T18:30")


def test_callback_when_nobody_is_on_duty() -> None:
    escalation = decide_escalation(SCHEDULES, None, at("2026-11-21T12:00"))  # Saturday
    assert escalation.kind == "callback"
    assert escalation.next_opening == at("2026-11-22T18:30")


def test_department_is_the_owner_of_the_top_guess() -> None:
    assert department_for(GUESSES) == "ydelser"
    assert department_for([{"slug": "a", "title": "A", "score": 1, "owner": "jobcenter"}]) == (
        "jobcenter"
    )
    assert department_for([]) == "borgerservice"
    assert department_for([{"slug": "a", "title": "A", "score": 1}], default="x") == "x"


def test_summary_has_the_latest_exchange_and_the_guesses() -> None:
    messages = [SimpleNamespace(sender="citizen", text=f"spørgsmål {i}") for i in range(5)]
    messages += [
        SimpleNamespace(sender="system", text="intern note"),
        SimpleNamespace(sender="bot", text="Mente du  boligstøtte?\nEller flytning?"),
        SimpleNamespace(sender="citizen", text="Ingen af dem. CPR 010190-1234"),
    ]
    summary = build_summary(messages, GUESSES, max_messages=3)
    assert summary.splitlines() == [
        "Seneste beskeder:",
        "Borger: spørgsmål 4",
        "Bot: Mente du boligstøtte? Eller flytning?",
        "Borger: Ingen af dem. CPR [CPR-nummer skjult]",
        "Botens bedste gæt:",
        "1. Søg boligstøtte (boligstoette) – score 0,62",
        "2. Meld flytning (flyttemelding) – score 0,40",
    ]


def test_summary_without_messages_or_guesses() -> None:
    summary = build_summary([], [])
    assert "Seneste beskeder:\n(ingen)" in summary
    assert "ingen passende vejledning" in summary


def test_create_handoff_is_idempotent_while_open(store: Store) -> None:
    with store.transaction() as s:
        ensure_conversation(s, "c1", "0101")
        append_message(s, "c1", "citizen", "Jeg vil tale med en person")
        summary = build_summary(transcript(s, "c1"), GUESSES)
        first = create_handoff(
            s, "c1", "0101", "requested", GUESSES, department_for(GUESSES), summary
        )
    with store.transaction() as s:
        again = create_handoff(s, "c1", "0101", "complaint", [], "borgerservice", "andet")
        assert again.id == first.id and again.reason == "requested"
        assert s.get(Conversation, "c1").state == "waiting"
        stored = s.get(Handoff, first.id)
        assert stored.status == "waiting" and stored.department == "ydelser"
        assert stored.guesses[0] == {
            "slug": "boligstoette",
            "title": "Søg boligstøtte",
            "score": 0.6173,
        }
        stored.status = "closed"
    with store.transaction() as s:
        later = create_handoff(s, "c1", "0101", "not_helpful", [], "borgerservice", "igen")
        assert later.id != first.id


def test_database_allows_one_open_handoff_per_conversation(store: Store) -> None:
    row = dict(reason="requested", summary="", guesses=[], department="d", municipality="*")
    with store.transaction() as s:
        ensure_conversation(s, "c1", "*")
        s.add(Handoff(conversation_id="c1", status="waiting", **row))
    with pytest.raises(IntegrityError), store.transaction() as s:
        s.add(Handoff(conversation_id="c1", status="claimed", **row))
    with store.transaction() as s:  # closed ones do not count
        s.add(Handoff(conversation_id="c1", status="closed", **row))


def test_unknown_reason_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="reason"), store.transaction() as s:
        create_handoff(s, "c1", "*", "bored", [], "borgerservice", "")  # type: ignore[arg-type]
