"""Routing of citizen messages between the bot and agents, and the agent's actions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot import conversations as conv
from bot.conversations import OutMessage
from bot.handoff import create_handoff
from bot.store import Store
from bot.store.models import Conversation, Handoff, Message, User
from bot.store.users import create_user


class RecordingBot:
    """Stands in for Rasa here (the real one answers in tests/integration and tests/browser):
    records what reached it and replies with a fixed message, optionally with buttons."""

    def __init__(self, buttons: list[dict[str, str]] | None = None) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.buttons = buttons or []
        self.before_reply: Callable[[], None] | None = None

    def __call__(self, sender: str, text: str, metadata: dict[str, Any]) -> list[OutMessage]:
        self.calls.append((sender, text, metadata))
        if self.before_reply:
            self.before_reply()
        return [OutMessage(f"svar på {text}", self.buttons)]


def agent(store: Store, username: str = "anne", role: str = "agent") -> User:
    with store.transaction() as db:
        return create_user(db, username, f"{username.capitalize()} Hansen", "x" * 12, role)  # type: ignore[arg-type]


def queued(store: Store, conversation_id: str = "samtale-1") -> int:
    with store.transaction() as db:
        return int(
            create_handoff(
                db, conversation_id, "0101", "requested", [], "borgerservice", "resumé"
            ).id
        )


def senders(store: Store, conversation_id: str = "samtale-1") -> list[tuple[str, str]]:
    with store.transaction() as db:
        rows = db.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
        )
        return [(m.sender, m.text) for m in rows]


def test_bot_conversation_is_forwarded_and_stored_in_order(store: Store) -> None:
    bot = RecordingBot()
    view = conv.citizen_message(store, bot, "samtale-1", "0101", "hej")
    assert bot.calls == [("samtale-1", "hej", {"municipality": "0101"})]
    assert [(m.seq, m.sender, m.text) for m in view.messages] == [
        (1, "citizen", "hej"),
        (2, "bot", "svar på hej"),
    ]
    assert view.state == "bot"


def test_cpr_numbers_are_masked_before_storage(store: Store) -> None:
    conv.citizen_message(store, RecordingBot(), "samtale-1", "0101", "mit cpr er 010203-1234")
    assert senders(store)[0] == ("citizen", "mit cpr er [CPR-nummer skjult]")


def test_free_text_cannot_inject_an_intent_command(store: Store) -> None:
    bot = RecordingBot()
    conv.citizen_message(store, bot, "samtale-1", "0101", '/request_human{"x": 1}')
    assert bot.calls[0][1] == 'request_human{"x": 1}'


def test_only_offered_button_payloads_reach_the_bot(store: Store) -> None:
    bot = RecordingBot(buttons=[{"title": "Ja", "payload": "/affirm"}])
    conv.citizen_message(store, bot, "samtale-1", "0101", "hej")
    conv.citizen_message(store, bot, "samtale-1", "0101", "Ja", payload="/affirm")
    conv.citizen_message(store, bot, "samtale-1", "0101", "Nej", payload="/restart")
    assert [c[1] for c in bot.calls] == ["hej", "/affirm", "Nej"]


@pytest.mark.parametrize("state", ["waiting", "agent"])
def test_rasa_is_not_called_while_a_person_holds_the_conversation(store: Store, state: str) -> None:
    bot = RecordingBot()
    conv.citizen_message(store, bot, "samtale-1", "0101", "hej")
    handoff = queued(store)
    if state == "agent":
        conv.claim(store, handoff, agent(store))
    view = conv.citizen_message(store, bot, "samtale-1", "0101", "er der nogen?")
    assert len(bot.calls) == 1
    assert [m.text for m in view.messages] == ["er der nogen?"]
    assert view.state == state


def test_claim_reply_hand_back_and_the_bot_resumes(store: Store) -> None:
    bot = RecordingBot()
    conv.citizen_message(store, bot, "samtale-1", "0101", "jeg vil tale med en person")
    handoff = queued(store)
    anne = agent(store)
    conv.claim(store, handoff, anne)
    conv.agent_reply(store, handoff, anne, "Hej, det er Anne.")
    conv.citizen_message(store, bot, "samtale-1", "0101", "tak")
    conv.hand_back(store, handoff, anne)
    conv.citizen_message(store, bot, "samtale-1", "0101", "hvad med pas?")
    assert senders(store) == [
        ("citizen", "jeg vil tale med en person"),
        ("bot", "svar på jeg vil tale med en person"),
        ("system", "Du skriver nu med Anne fra Borgerservice."),
        ("agent", "Hej, det er Anne."),
        ("citizen", "tak"),
        ("system", "Du skriver igen med den digitale assistent. Skriv dit spørgsmål."),
        ("citizen", "hvad med pas?"),
        ("bot", "svar på hvad med pas?"),
    ]
    with store.transaction() as db:
        assert db.get(Handoff, handoff).status == "returned"
        assert db.get(Conversation, "samtale-1").state == "bot"


def test_closed_conversation_reopens_with_the_bot(store: Store) -> None:
    bot = RecordingBot()
    conv.citizen_message(store, bot, "samtale-1", "0101", "hej")
    handoff = queued(store)
    anne = agent(store)
    conv.claim(store, handoff, anne)
    with pytest.raises(conv.NotAllowed, match="årsag"):
        conv.close(store, handoff, anne, "   ")
    conv.close(store, handoff, anne, "Besvaret")
    view = conv.citizen_message(store, bot, "samtale-1", "0101", "en ting mere")
    assert view.state == "bot"
    assert len(bot.calls) == 2
    with store.transaction() as db:
        assert db.get(Handoff, handoff).close_reason == "Besvaret"


def test_only_the_holder_may_reply(store: Store) -> None:
    conv.citizen_message(store, RecordingBot(), "samtale-1", "0101", "hej")
    handoff = queued(store)
    anne, bo = agent(store, "anne"), agent(store, "bo")
    with pytest.raises(conv.NotAllowed):
        conv.agent_reply(store, handoff, anne, "før claim")
    conv.claim(store, handoff, anne)
    with pytest.raises(conv.NotAllowed, match="anne"):
        conv.agent_reply(store, handoff, bo, "hej")
    with pytest.raises(conv.NotAllowed, match="allerede taget af anne"):
        conv.claim(store, handoff, bo)


def test_bot_reply_is_dropped_when_an_agent_took_over_meanwhile(store: Store) -> None:
    bot = RecordingBot()
    conv.citizen_message(store, bot, "samtale-1", "0101", "hej")
    handoff = queued(store)
    with store.transaction() as db:  # reopen to bot state while the hand-off stays waiting
        db.get(Conversation, "samtale-1").state = "bot"
    anne = agent(store)
    bot.before_reply = lambda: conv.claim(store, handoff, anne)
    conv.citizen_message(store, bot, "samtale-1", "0101", "hallo?")
    assert [s for s, _ in senders(store)] == ["citizen", "bot", "citizen", "system"]


def claim_race(store: Store, agents: int = 6) -> list[str]:
    conv.citizen_message(store, RecordingBot(), "samtale-1", "0101", "hej")
    handoff = queued(store)
    users = [agent(store, f"agent{i}") for i in range(agents)]
    barrier = threading.Barrier(agents)
    outcomes: list[str] = []

    def try_claim(user: User) -> None:
        barrier.wait()
        try:
            conv.claim(store, handoff, user)
            outcomes.append("won")
        except conv.NotAllowed:
            outcomes.append("told")

    threads = [threading.Thread(target=try_claim, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_two_agents_claiming_at_once_exactly_one_wins_sqlite(store: Store) -> None:
    outcomes = claim_race(store)
    assert sorted(outcomes) == ["told"] * 5 + ["won"]
    assert [s for s, _ in senders(store)].count("system") == 1


def test_two_agents_claiming_at_once_exactly_one_wins_postgresql(
    pg_database: Callable[[], str],
) -> None:
    from bot.store.migrate import upgrade

    url = pg_database()
    upgrade(url)
    pg = Store(url)
    try:
        assert sorted(claim_race(pg)) == ["told"] * 5 + ["won"]
    finally:
        pg.dispose()


def test_queue_is_oldest_first_and_hides_finished(store: Store) -> None:
    for i in range(3):
        conv.citizen_message(store, RecordingBot(), f"samtale-{i}", "0101", "hej")
    ids = [queued(store, f"samtale-{i}") for i in range(3)]
    anne = agent(store)
    conv.claim(store, ids[1], anne)
    conv.close(store, ids[1], anne, "Besvaret")
    assert [q.handoff_id for q in conv.queue(store)] == [ids[0], ids[2]]
