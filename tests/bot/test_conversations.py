"""Routing of citizen messages between the bot and agents, and the agent's actions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, select

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


def test_two_agents_claiming_at_once_exactly_one_wins_postgresql(pg_store: Store) -> None:
    assert sorted(claim_race(pg_store)) == ["told"] * 5 + ["won"]


def test_queue_is_oldest_first_and_hides_finished(store: Store) -> None:
    for i in range(3):
        conv.citizen_message(store, RecordingBot(), f"samtale-{i}", "0101", "hej")
    ids = [queued(store, f"samtale-{i}") for i in range(3)]
    anne = agent(store)
    conv.claim(store, ids[1], anne)
    conv.close(store, ids[1], anne, "Besvaret")
    assert [q.handoff_id for q in conv.queue(store)] == [ids[0], ids[2]]


def test_queue_lists_waiting_oldest_first_then_claimed(store: Store) -> None:
    for i in range(4):
        conv.citizen_message(store, RecordingBot(), f"samtale-{i}", "0101", "hej")
    ids = [queued(store, f"samtale-{i}") for i in range(4)]
    anne = agent(store)
    conv.claim(store, ids[0], anne)  # the oldest is taken: it moves below the waiting ones
    conv.claim(store, ids[2], anne)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    items = conv.queue(store)
    event.remove(store.engine, "before_cursor_execute", count)
    # One query per poll of the console's queue.
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert [(q.handoff_id, q.status) for q in items] == [
        (ids[1], "waiting"), (ids[3], "waiting"), (ids[0], "claimed"), (ids[2], "claimed"),
    ]  # fmt: skip
    assert items[2].claimed_by == "anne" and items[2].claimed_at is not None


# --- the client never misses a message ------------------------------------------------------


def test_a_post_returns_everything_after_the_clients_last_seq(store: Store) -> None:
    conv.citizen_message(store, RecordingBot(), "samtale-1", "0101", "jeg vil tale med en person")
    handoff = queued(store)
    anne = agent(store)
    conv.claim(store, handoff, anne)
    seen = conv.messages_after(store, "samtale-1", 0)
    assert seen is not None
    last = seen.messages[-1].seq  # the widget's last poll
    conv.agent_reply(store, handoff, anne, "Hej, det er Anne.")  # lands between poll and send
    view = conv.citizen_message(store, RecordingBot(), "samtale-1", "0101", "hallo?", after=last)
    assert [(m.sender, m.text) for m in view.messages] == [
        ("agent", "Hej, det er Anne."),
        ("citizen", "hallo?"),
    ]


def test_an_agent_reply_returns_the_citizen_messages_the_console_has_not_seen(
    store: Store,
) -> None:
    conv.citizen_message(store, RecordingBot(), "samtale-1", "0101", "hej")
    handoff = queued(store)
    anne = agent(store)
    conv.claim(store, handoff, anne)
    _, shown = conv.handoff_detail(store, handoff)
    last = shown.messages[-1].seq  # the console's last poll
    conv.citizen_message(store, RecordingBot(), "samtale-1", "0101", "er du der?")
    message, view = conv.agent_reply(store, handoff, anne, "Ja, et øjeblik.", after=last)
    assert [(m.sender, m.text) for m in view.messages] == [
        ("citizen", "er du der?"),
        ("agent", "Ja, et øjeblik."),
    ]
    assert message.seq == view.messages[-1].seq and message.author == "Anne"


def test_a_retried_message_is_stored_and_forwarded_once(store: Store) -> None:
    bot = RecordingBot()
    first = conv.citizen_message(
        store, bot, "samtale-1", "0101", "mit cpr er 010203-1234", after=0, client_id="klient-001"
    )
    again = conv.citizen_message(
        store, bot, "samtale-1", "0101", "mit cpr er 010203-1234", after=0, client_id="klient-001"
    )
    assert len(bot.calls) == 1
    assert senders(store) == [
        ("citizen", "mit cpr er [CPR-nummer skjult]"),
        ("bot", "svar på mit cpr er [CPR-nummer skjult]"),
    ]
    assert again.messages == first.messages
    # The widget recognises its message by the id: the stored text differs (masked).
    assert first.messages[0].client_id == "klient-001"
    assert first.messages[0].text == "mit cpr er [CPR-nummer skjult]"
    other = conv.citizen_message(store, bot, "samtale-1", "0101", "hej", client_id="klient-002")
    assert len(bot.calls) == 2 and other.messages[0].text == "hej"


def test_the_database_refuses_a_second_message_with_the_same_client_id(store: Store) -> None:
    from sqlalchemy.exc import IntegrityError

    from bot.store.repository import append_message, ensure_conversation

    with store.transaction() as db:
        ensure_conversation(db, "samtale-1", "0101")
        append_message(db, "samtale-1", "citizen", "a", client_id="klient-001")
        append_message(db, "samtale-1", "citizen", "b")  # no client id: never a conflict
        append_message(db, "samtale-1", "citizen", "c")
    with pytest.raises(IntegrityError), store.transaction() as db:
        append_message(db, "samtale-1", "citizen", "a igen", client_id="klient-001")
    with store.transaction() as db:  # the id is unique per conversation only
        ensure_conversation(db, "samtale-2", "0101")
        append_message(db, "samtale-2", "citizen", "a", client_id="klient-001")


def test_a_new_conversations_first_message_and_its_retry_at_once_postgresql(
    pg_store: Store,
) -> None:
    """Neither finds a row to lock; both insert the conversation, PostgreSQL makes the second
    wait for the first and refuses it; the second then sees the first's message and answers as
    for any retry: stored and forwarded once, no error."""

    def slow_lock(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FOR UPDATE" in statement:
            time.sleep(0.2)  # both have looked for the row before either inserts it

    event.listen(pg_store.engine, "after_cursor_execute", slow_lock)
    bot = RecordingBot()
    barrier = threading.Barrier(2)
    views: list[conv.ConversationView] = []

    def send() -> None:
        barrier.wait()
        views.append(conv.citizen_message(pg_store, bot, "ny-samtale", "0101", "hej",
                                          after=0, client_id="klient-001"))  # fmt: skip

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(views) == 2
    assert len(bot.calls) == 1
    assert senders(pg_store, "ny-samtale") == [("citizen", "hej"), ("bot", "svar på hej")]
    assert all(v.messages[0].client_id == "klient-001" for v in views)


# --- a citizen in the queue ---------------------------------------------------------------------


def test_a_waiting_citizen_can_withdraw_and_ask_for_a_callback(store: Store) -> None:
    bot = RecordingBot()
    conv.citizen_message(store, bot, "samtale-1", "0101", "jeg vil tale med en person")
    handoff = queued(store)
    view = conv.citizen_message(
        store, bot, "samtale-1", "0101", conv.CALLBACK_INSTEAD_TITLE, conv.CALLBACK_INSTEAD
    )
    assert bot.calls[-1][1] == "/request_callback"  # starts the bot's callback form
    assert view.state == "bot"
    assert [m.sender for m in view.messages] == ["citizen", "bot"]
    with store.transaction() as db:
        h = db.get(Handoff, handoff)
        assert (h.status, h.close_reason, h.claimed_by) == ("closed", conv.WITHDRAWN_REASON, None)
    assert conv.queue(store) == []
    with pytest.raises(conv.NotAllowed, match="venter ikke længere"):
        conv.claim(store, handoff, agent(store))


def test_the_callback_payload_does_not_withdraw_a_claimed_chat(store: Store) -> None:
    bot = RecordingBot()
    conv.citizen_message(store, bot, "samtale-1", "0101", "hej")
    handoff = queued(store)
    conv.claim(store, handoff, agent(store))
    view = conv.citizen_message(
        store, bot, "samtale-1", "0101", conv.CALLBACK_INSTEAD_TITLE, conv.CALLBACK_INSTEAD
    )
    assert len(bot.calls) == 1 and view.state == "agent"
    with store.transaction() as db:
        assert db.get(Handoff, handoff).status == "claimed"


def test_the_callback_payload_is_not_accepted_from_a_bot_conversation_unoffered(
    store: Store,
) -> None:
    bot = RecordingBot()
    conv.citizen_message(store, bot, "samtale-1", "0101", "hej")
    conv.citizen_message(store, bot, "samtale-1", "0101", "Ring mig op", conv.CALLBACK_INSTEAD)
    assert bot.calls[-1][1] == "Ring mig op"  # free text, through the NLU


def withdraw_or_claim_race(store: Store) -> list[str]:
    conv.citizen_message(store, RecordingBot(), "samtale-1", "0101", "hej")
    handoff = queued(store)
    anne = agent(store)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    bot = RecordingBot()

    def withdraw() -> None:
        barrier.wait()
        view = conv.citizen_message(
            store, bot, "samtale-1", "0101", conv.CALLBACK_INSTEAD_TITLE, conv.CALLBACK_INSTEAD
        )
        outcomes.append("withdrawn" if view.state == "bot" else "kept")

    def take() -> None:
        barrier.wait()
        try:
            conv.claim(store, handoff, anne)
            outcomes.append("claimed")
        except conv.NotAllowed:
            outcomes.append("refused")

    threads = [threading.Thread(target=withdraw), threading.Thread(target=take)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.transaction() as db:
        status = db.get(Handoff, handoff).status
        state = db.get(Conversation, "samtale-1").state
    if "claimed" in outcomes:
        assert sorted(outcomes) == ["claimed", "kept"] and (status, state) == ("claimed", "agent")
        assert bot.calls == []
    else:
        assert sorted(outcomes) == ["refused", "withdrawn"] and (status, state) == ("closed", "bot")
        assert len(bot.calls) == 1
    return outcomes


def test_withdrawal_and_claim_at_once_exactly_one_wins_sqlite(store: Store) -> None:
    for _ in range(5):  # either may win; each round checks the loser's side is consistent
        with store.transaction() as db:
            for table in (Message, Handoff, Conversation, User):
                db.query(table).delete()
        withdraw_or_claim_race(store)


def test_withdrawal_and_claim_at_once_exactly_one_wins_postgresql(pg_store: Store) -> None:
    withdraw_or_claim_race(pg_store)


def test_a_long_wait_is_told_once_and_only_while_waiting(store: Store) -> None:
    from datetime import timedelta

    from bot.store.models import utcnow

    conv.citizen_message(store, RecordingBot(), "samtale-1", "0101", "hej")
    queued(store)
    soon = utcnow() + timedelta(seconds=599)
    later = utcnow() + timedelta(seconds=601)
    view = conv.messages_after(store, "samtale-1", 0, handoff_wait_s=600, now=soon)
    assert view is not None and conv.OVERDUE_NOTICE not in [m.text for m in view.messages]
    view = conv.messages_after(store, "samtale-1", 0, handoff_wait_s=600, now=later)
    assert view is not None and view.messages[-1].text == conv.OVERDUE_NOTICE
    assert view.messages[-1].sender == "system"
    for _ in range(3):
        conv.messages_after(store, "samtale-1", 0, handoff_wait_s=600, now=later)
    assert [t for _, t in senders(store)].count(conv.OVERDUE_NOTICE) == 1


def test_no_wait_notice_once_an_agent_has_the_chat(store: Store) -> None:
    from datetime import timedelta

    from bot.store.models import utcnow

    conv.citizen_message(store, RecordingBot(), "samtale-1", "0101", "hej")
    conv.claim(store, queued(store), agent(store))
    later = utcnow() + timedelta(hours=1)
    conv.messages_after(store, "samtale-1", 0, handoff_wait_s=600, now=later)
    assert conv.OVERDUE_NOTICE not in [t for _, t in senders(store)]


# --- who writes -----------------------------------------------------------------------------


def test_an_admin_takes_the_chat_over_before_writing_and_each_message_keeps_its_author(
    store: Store,
) -> None:
    conv.citizen_message(store, RecordingBot(), "samtale-1", "0101", "hej")
    handoff = queued(store)
    anne, ida = agent(store, "anne"), agent(store, "ida", role="admin")
    conv.claim(store, handoff, anne)
    conv.agent_reply(store, handoff, anne, "Hej, det er Anne.")
    # Writing as herself under Anne's name would mislead the citizen: refused.
    with pytest.raises(conv.NotAllowed, match=r"håndteres af anne\. Overtag samtalen"):
        conv.agent_reply(store, handoff, ida, "Hej, det er Ida.")
    with pytest.raises(conv.NotAllowed, match="Kun en administrator"):
        conv.take_over(store, handoff, agent(store, "bo"))
    conv.take_over(store, handoff, ida)
    conv.agent_reply(store, handoff, ida, "Jeg har overtaget.")
    with pytest.raises(conv.NotAllowed, match="håndteres af ida"):
        conv.agent_reply(store, handoff, anne, "Må jeg?")
    view = conv.messages_after(store, "samtale-1", 0)
    assert view is not None and view.agent_name == "Ida"
    assert [(m.sender, m.author, m.text) for m in view.messages[2:]] == [
        ("system", None, "Du skriver nu med Anne fra Borgerservice."),
        ("agent", "Anne", "Hej, det er Anne."),
        ("system", None, "Du skriver nu med Ida fra Borgerservice."),
        ("agent", "Ida", "Jeg har overtaget."),
    ]


def test_routing_waits_for_a_handoff_committing_meanwhile_postgresql(pg_store: Store) -> None:
    """The action server queues the chat (create_handoff) while the web front routes the next
    message: with the row locked, the routing sees 'waiting' and does not call Rasa."""
    bot = RecordingBot()
    conv.citizen_message(pg_store, bot, "samtale-1", "0101", "jeg vil tale med en person")
    in_handoff = threading.Event()
    routed: list[conv.ConversationView] = []

    def queue_it() -> None:
        with pg_store.transaction() as db:
            create_handoff(db, "samtale-1", "0101", "requested", [], "borgerservice", "r")
            in_handoff.set()
            time.sleep(0.5)  # still uncommitted while the next message is routed

    def next_message() -> None:
        in_handoff.wait()
        routed.append(conv.citizen_message(pg_store, bot, "samtale-1", "0101", "hallo?"))

    threads = [threading.Thread(target=queue_it), threading.Thread(target=next_message)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(bot.calls) == 1  # only the first message reached the bot
    assert routed[0].state == "waiting"
