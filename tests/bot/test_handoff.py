from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import actions.escalate
from actions.escalate import ActionEscalate
from bot.handoff import (
    agents_present,
    build_summary,
    create_handoff,
    decide_escalation,
    department_for,
)
from bot.hours import TZ, Schedules
from bot.store import Store
from bot.store.models import Conversation, Handoff, User, utcnow
from bot.store.repository import append_message, ensure_conversation, transcript
from bot.store.users import clear_seen, create_user, mark_seen
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
    thursday = at("2026-11-26T11:00")
    escalation = decide_escalation(SCHEDULES, "0101", thursday, agents_present=True)
    assert (escalation.kind, escalation.in_hours) == ("handoff", True)
    assert escalation.next_opening == at("2026-11-26T18:30")


def test_callback_in_opening_hours_when_no_agent_is_at_the_console() -> None:
    thursday = at("2026-11-26T11:00")
    escalation = decide_escalation(SCHEDULES, "0101", thursday, agents_present=False)
    assert (escalation.kind, escalation.in_hours) == ("callback", True)


def test_callback_when_nobody_is_on_duty() -> None:
    saturday = at("2026-11-21T12:00")
    escalation = decide_escalation(SCHEDULES, None, saturday, agents_present=True)
    assert (escalation.kind, escalation.in_hours) == ("callback", False)
    assert escalation.next_opening == at("2026-11-22T18:30")


def user(store: Store, username: str, role: str = "agent", active: bool = True) -> int:
    with store.transaction() as s:
        u = create_user(s, username, f"{username.capitalize()} Hansen", "x" * 12, role)  # type: ignore[arg-type]
        u.active = active
        return int(u.id)


def test_presence_counts_active_agents_and_admins_seen_within_the_window(store: Store) -> None:
    now = utcnow()
    ids = {name: user(store, name, role) for name, role in
           (("anne", "agent"), ("ida", "admin"), ("eva", "editor"))}  # fmt: skip
    gone = user(store, "bo", "agent", active=False)

    def present() -> bool:
        with store.read() as s:
            return agents_present(s, 120, now)

    assert not present()  # nobody has polled yet
    with store.transaction() as s:
        mark_seen(s, ids["eva"], now)  # editors do not answer chats
        mark_seen(s, gone, now)  # nor do deactivated users
        mark_seen(s, ids["anne"], now - timedelta(seconds=121))  # seen, but too long ago
    assert not present()
    with store.transaction() as s:
        mark_seen(s, ids["anne"], now - timedelta(seconds=119))
    assert present()
    with store.transaction() as s:
        clear_seen(s, ids["anne"])  # logged out
        mark_seen(s, ids["ida"], now)
    assert present()
    with store.transaction() as s:
        clear_seen(s, ids["ida"])
    assert not present()


@pytest.fixture
def escalation_services(store: Store, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    svc = SimpleNamespace(store=store, schedules=SCHEDULES,
                       settings=SimpleNamespace(agent_presence_s=120))  # fmt: skip
    monkeypatch.setattr(actions.escalate, "services", lambda: svc)
    monkeypatch.setattr(actions.escalate.questions, "mark_escalation", lambda *a: None)
    monkeypatch.setenv("BORGERBOT_ALLOW_CLOCK_OVERRIDE", "1")
    return svc


def ask_for_a_person(sender: str, now: str) -> dict[str, Any]:
    message = {"text": "jeg vil tale med en medarbejder", "intent": {"name": "request_human"},
               "metadata": {"municipality": "0101", "now": now}}  # fmt: skip
    dispatcher = CollectingDispatcher()
    ActionEscalate().run(dispatcher, Tracker(sender, {}, message, [], False, None, {}, ""), {})
    [reply] = dispatcher.messages
    return reply


MONDAY_EVENING = "2026-11-23T19:00:00+01:00"  # evening hotline (bot/schedule.yml)
MONDAY_NIGHT = "2026-11-23T23:00:00+01:00"


def open_handoffs(store: Store, sender: str) -> list[str]:
    with store.read() as s:
        return list(s.scalars(select(Handoff.status).where(Handoff.conversation_id == sender)))


def test_escalation_action_hands_off_only_with_an_agent_at_the_console(
    store: Store, escalation_services: SimpleNamespace
) -> None:
    nobody = ask_for_a_person("c-nobody", MONDAY_EVENING)
    assert nobody["text"] == (
        "Der er ingen ledige medarbejdere i chatten lige nu. "
        "Vil du have, at en medarbejder ringer dig op?"
    )
    assert [b["payload"] for b in nobody["buttons"]] == ["/request_callback", "/deny"]
    assert open_handoffs(store, "c-nobody") == []

    anne = user(store, "anne")
    with store.transaction() as s:
        mark_seen(s, anne)
    staffed = ask_for_a_person("c-staffed", MONDAY_EVENING)
    assert "giver din samtale videre til en medarbejder" in staffed["text"]
    assert open_handoffs(store, "c-staffed") == ["waiting"]

    night = ask_for_a_person("c-night", MONDAY_NIGHT)  # present, but the hotline is closed
    assert night["text"].startswith("Der er ingen medarbejdere i chatten lige nu. Vi er tilbage")
    assert open_handoffs(store, "c-night") == []
    with store.read() as s:
        assert s.get(User, anne).last_seen_at is not None


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
