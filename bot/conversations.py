"""Who answers a citizen's message: the bot (Rasa) or the agent holding the conversation.

Every citizen message is stored first, then routed by the conversation's state:
`bot` and `closed` → forwarded to Rasa (a closed conversation reopens with the bot); `waiting`
(queued for an agent) and `agent` → only stored, the agent reads it in the console and Rasa is
not called. Bot, agent and system messages are stored in the same ordered log, once each; the
widget and the console read that log after a sequence number, and every answer to a client
starts right after the last sequence number it has, so nothing stored meanwhile is skipped.

A citizen waiting in the queue may withdraw and ask for a callback instead (`CALLBACK_INSTEAD`);
one who has waited longer than the configured time is told so once, on their next poll.

The agent side (claim, reply, take over, hand back, close) lives here too, so the rules of who
may write when sit in one module. Every change of who holds a conversation locks the
conversation row first, then touches the hand-off: one lock order, no deadlocks on PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.store.db import Store
from bot.store.models import Conversation, Handoff, Message, User, utcnow
from bot.store.repository import (
    append_message,
    ensure_conversation,
    find_by_client_id,
    lock_conversation,
)
from bot.store.users import first_name

log = logging.getLogger(__name__)

TEAM_NAME = "Borgerservice"
BOT_STATES = ("bot", "closed")
# The widget's "Bestil et opkald i stedet" while queued: the waiting hand-off is withdrawn and
# this payload goes to Rasa, whose rule "ask for a callback" starts the callback form.
CALLBACK_INSTEAD = "/request_callback"
CALLBACK_INSTEAD_TITLE = "Bestil et opkald i stedet"
WITHDRAWN_REASON = "Borgeren bestilte et opkald i stedet"
OVERDUE_NOTICE = (
    "Der er desværre stadig ingen medarbejder, der har kunnet tage din samtale. Du kan blive i "
    f"køen, eller du kan trykke på »{CALLBACK_INSTEAD_TITLE}«, så ringer en medarbejder dig op."
)


@dataclass(frozen=True)
class OutMessage:
    """A bot reply as Rasa gave it."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    sender: str
    text: str
    buttons: list[dict[str, str]]
    created_at: str
    author: str | None = None  # an agent message's writer (first name)
    client_id: str | None = None  # the widget's id of a citizen message

    @classmethod
    def of(cls, m: Message) -> StoredMessage:
        return cls(
            m.seq, m.sender, m.text, list(m.buttons or []), m.created_at.isoformat(),
            m.author, m.client_id,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "sender": self.sender,
            "text": self.text,
            "buttons": self.buttons,
            "created_at": self.created_at,
            "author": self.author,
            "client_id": self.client_id,
        }


@dataclass(frozen=True)
class ConversationView:
    id: str
    state: str
    agent_name: str | None
    messages: list[StoredMessage]

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.id,
            "state": self.state,
            "agent_name": self.agent_name,
            "messages": [m.to_json() for m in self.messages],
        }


class NotAllowed(Exception):
    """The agent may not do this now; args[0] is a Danish message for the console."""


# (sender id, text or payload, metadata) -> the bot's replies; raises when Rasa is down.
BotCall = Callable[[str, str, dict[str, Any]], Sequence[OutMessage]]


def offered_payloads(session: Session, conversation_id: str) -> set[str]:
    """Payloads of the buttons in the latest bot message: the only ones a citizen may send."""
    last = session.scalar(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.sender == "bot")
        .order_by(Message.seq.desc())
        .limit(1)
    )
    return {str(b.get("payload")) for b in (last.buttons or [])} if last else set()


def _view(session: Session, conversation: Conversation, after: int) -> ConversationView:
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.seq > after)
        .order_by(Message.seq)
    )
    return ConversationView(
        conversation.id,
        conversation.state,
        conversation.agent_name,
        [StoredMessage.of(m) for m in rows],
    )


def _since(after: int | None, own_seq: int) -> int:
    """Where an answer to a client starts: after the client's last seq, and never after the
    message it just sent (which it must see stored)."""
    return own_seq - 1 if after is None else max(0, min(after, own_seq - 1))


def _overdue(conversation_id: str, cutoff: datetime) -> tuple[ColumnElement[bool], ...]:
    """The conversation's waiting hand-off, created at or before `cutoff`, not yet told."""
    return (
        Handoff.conversation_id == conversation_id,
        Handoff.status == "waiting",
        Handoff.overdue_notified_at.is_(None),
        Handoff.created_at <= cutoff,
    )


def _tell_if_overdue(db: Session, conversation_id: str, cutoff: datetime, now: datetime) -> bool:
    """The notice, once per hand-off: the conditional update wins once. Call with the
    conversation locked (the notice is a message in its log)."""
    told = db.execute(
        update(Handoff)
        .where(*_overdue(conversation_id, cutoff))
        .values(overdue_notified_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if told == 1:
        append_message(db, conversation_id, "system", OVERDUE_NOTICE)
    return bool(told == 1)


def notify_if_overdue(
    store: Store, conversation_id: str, wait_s: float, now: datetime | None = None
) -> bool:
    """Tell a citizen whose hand-off nobody has taken within `wait_s` that they may ask for a
    callback instead; once per hand-off. True if told now."""
    now = now or utcnow()
    with store.transaction() as db:
        _locked_conversation(db, conversation_id)
        return _tell_if_overdue(db, conversation_id, now - timedelta(seconds=wait_s), now)


def messages_after(
    store: Store,
    conversation_id: str,
    after: int,
    *,
    handoff_wait_s: float | None = None,
    now: datetime | None = None,
) -> ConversationView | None:
    """The citizen's poll: read-only, except for the one-time notice of a long wait (with
    `handoff_wait_s`), which is written and read back in one write transaction."""
    now = now or utcnow()
    with store.read() as db:
        conversation = db.get(Conversation, conversation_id)
        if conversation is None:
            return None
        if handoff_wait_s is None or conversation.state != "waiting":
            return _view(db, conversation, after)
        cutoff = now - timedelta(seconds=handoff_wait_s)
        if db.scalar(select(Handoff.id).where(*_overdue(conversation_id, cutoff))) is None:
            return _view(db, conversation, after)
    with store.transaction() as db:
        conversation = _locked_conversation(db, conversation_id)
        _tell_if_overdue(db, conversation_id, cutoff, now)
        return _view(db, conversation, after)


def _withdraw(session: Session, conversation_id: str) -> bool:
    """Close the conversation's hand-off if nobody has claimed it; the conditional update makes
    this and an agent's claim mutually exclusive."""
    return bool(
        session.execute(
            update(Handoff)
            .where(Handoff.conversation_id == conversation_id, Handoff.status == "waiting")
            .values(status="closed", closed_at=utcnow(), close_reason=WITHDRAWN_REASON)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def citizen_message(
    store: Store,
    bot: BotCall,
    conversation_id: str,
    municipality: str,
    text: str,
    payload: str | None = None,
    *,
    after: int | None = None,
    client_id: str | None = None,
) -> ConversationView:
    """Store the citizen's message and route it; returns every message after `after`.

    `text` is what the citizen wrote or the title of the button pressed; `payload` the button's
    payload, accepted only if the bot offered that button (or, while queued, `CALLBACK_INSTEAD`).
    Free text never reaches Rasa as an intent command ("/intent"), so a citizen cannot steer the
    dialogue past the NLU.

    `after`: the last seq the client has; messages stored since (an agent's reply) come back
    too. Without it the answer starts at the citizen's own message. `client_id`: the client's id
    for this message; a retry with the same id stores and forwards nothing and returns the
    messages after `after` (the first request's replies, or, if it is still waiting for Rasa,
    what the next poll brings).
    """
    with store.transaction() as db:
        # Locked: the routing decision below must see a hand-off or claim committing meanwhile.
        conversation = ensure_conversation(db, conversation_id, municipality, lock=True)
        if client_id is not None:
            earlier = find_by_client_id(db, conversation_id, client_id)
            if earlier is not None:
                log.info("conversation %s: retried message %s not stored again",
                         conversation_id, client_id)  # fmt: skip
                return _view(db, conversation, _since(after, earlier.seq))
        state = conversation.state
        withdraw = payload == CALLBACK_INSTEAD and state == "waiting"
        if (
            payload is not None
            and not withdraw
            and payload not in offered_payloads(db, conversation_id)
        ):
            payload = None
        mine = append_message(db, conversation_id, "citizen", text, client_id=client_id)
        since = _since(after, mine.seq)
        if withdraw and _withdraw(db, conversation_id):
            conversation.state = state = "bot"
            log.info("conversation %s: hand-off withdrawn for a callback", conversation_id)
        elif state == "closed":
            conversation.state = "bot"
            conversation.agent_name = None
        if state not in BOT_STATES:
            # Held by (or queued for) a person: the agent reads it in the console.
            return _view(db, conversation, since)

    to_bot = payload if payload is not None else text.lstrip("/").strip() or text
    replies = bot(conversation_id, to_bot, {"municipality": municipality})
    with store.transaction() as db:
        conversation = ensure_conversation(db, conversation_id, municipality, lock=True)
        if conversation.state == "agent":
            # An agent claimed the chat while the bot was thinking: the person speaks now.
            log.info("conversation %s: bot reply dropped, an agent took over", conversation_id)
        else:
            for reply in replies:
                append_message(db, conversation_id, "bot", reply.text, reply.buttons or None)
        return _view(db, conversation, since)


# --- the agent side -------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    handoff_id: int
    conversation_id: str
    created_at: Any
    municipality: str
    department: str
    reason: str
    summary: str
    guesses: list[dict[str, Any]]
    status: str
    claimed_by: str | None
    claimed_at: Any = None


def _queue_item(h: Handoff) -> QueueItem:
    return QueueItem(
        h.id, h.conversation_id, h.created_at, h.municipality, h.department, h.reason,
        h.summary, list(h.guesses or []), h.status, h.claimed_by, h.claimed_at,
    )  # fmt: skip


def queue(store: Store, include_claimed: bool = True) -> list[QueueItem]:
    """Open hand-offs: the waiting ones first, oldest first (the next to take is on top), then
    (optionally) those being worked, in the order they were taken. One query per poll."""
    waiting = Handoff.status == "waiting"
    statuses = ("waiting", "claimed") if include_claimed else ("waiting",)
    with store.read() as db:
        rows = db.scalars(
            select(Handoff)
            .where(Handoff.status.in_(statuses))
            .order_by(
                case((waiting, 0), else_=1),
                case((waiting, Handoff.created_at), else_=Handoff.claimed_at),
                Handoff.id,
            )
        )
        return [_queue_item(h) for h in rows]


def _open_handoff(db: Session, handoff_id: int) -> Handoff:
    handoff = db.get(Handoff, handoff_id)
    if handoff is None:
        raise NotAllowed("Samtalen findes ikke.")
    return handoff


def _locked_conversation(db: Session, conversation_id: str) -> Conversation:
    conversation = lock_conversation(db, conversation_id)
    if conversation is None:
        raise NotAllowed("Samtalen findes ikke.")
    return conversation


def _locked(db: Session, handoff_id: int) -> tuple[Handoff, Conversation]:
    """The hand-off and its conversation, the conversation locked first (the module's lock
    order) and the hand-off read again after it, so its status is the latest committed one."""
    conversation_id = _open_handoff(db, handoff_id).conversation_id
    conversation = _locked_conversation(db, conversation_id)
    handoff = db.scalar(
        select(Handoff).where(Handoff.id == handoff_id).execution_options(populate_existing=True)
    )
    assert handoff is not None  # hand-offs are never deleted
    return handoff, conversation


def _announce(db: Session, conversation: Conversation, agent: User) -> None:
    conversation.agent_name = first_name(agent)
    append_message(
        db, conversation.id, "system", f"Du skriver nu med {first_name(agent)} fra {TEAM_NAME}."
    )


def claim(store: Store, handoff_id: int, agent: User) -> Handoff:
    """Take a waiting hand-off. Of agents claiming at once exactly one wins: each locks the
    conversation first and reads the hand-off after the lock, so the second sees the first's
    claim (as does a withdrawal, which takes the same lock)."""
    with store.transaction() as db:
        handoff, conversation = _locked(db, handoff_id)
        if handoff.status == "claimed":
            raise NotAllowed(f"Samtalen er allerede taget af {handoff.claimed_by}.")
        if handoff.status != "waiting":
            raise NotAllowed("Samtalen venter ikke længere (borgeren har fx bestilt et opkald).")
        handoff.status = "claimed"
        handoff.claimed_by = agent.username
        handoff.claimed_at = utcnow()
        conversation.state = "agent"
        _announce(db, conversation, agent)
        return handoff


def _held_by(handoff: Handoff, agent: User, *, admin_may: bool) -> None:
    """Refuse unless `agent` holds the chat (or is an admin, where `admin_may`)."""
    if handoff.status != "claimed":
        raise NotAllowed("Samtalen er ikke længere aktiv.")
    if handoff.claimed_by == agent.username or (admin_may and agent.role == "admin"):
        return
    hint = " Overtag samtalen for at skrive." if agent.role == "admin" else ""
    raise NotAllowed(f"Samtalen håndteres af {handoff.claimed_by}.{hint}")


def agent_reply(
    store: Store, handoff_id: int, agent: User, text: str, after: int | None = None
) -> tuple[StoredMessage, ConversationView]:
    """The holder's reply, signed with their first name; with every message after `after`
    (the last seq the console has), so a citizen message that arrived meanwhile is not skipped.

    Only the holder writes: the citizen is told who they write with, so an admin takes the chat
    over first (`take_over`) rather than writing under another agent's name.
    """
    with store.transaction() as db:
        handoff, conversation = _locked(db, handoff_id)
        _held_by(handoff, agent, admin_may=False)
        message = append_message(
            db, handoff.conversation_id, "agent", text, author=first_name(agent)
        )
        return StoredMessage.of(message), _view(db, conversation, _since(after, message.seq))


def take_over(store: Store, handoff_id: int, admin: User) -> Handoff:
    """An admin takes a chat another agent holds (a supervisor stepping in); the citizen is told
    who they write with now."""
    if admin.role != "admin":
        raise NotAllowed("Kun en administrator kan overtage en samtale fra en kollega.")
    with store.transaction() as db:
        handoff, conversation = _locked(db, handoff_id)
        if handoff.status != "claimed":
            raise NotAllowed("Samtalen er ikke længere aktiv.")
        if handoff.claimed_by != admin.username:
            handoff.claimed_by = admin.username
            handoff.claimed_at = utcnow()
            _announce(db, conversation, admin)
        return handoff


def hand_back(store: Store, handoff_id: int, agent: User) -> None:
    """The bot takes the conversation again; the citizen's next message goes to Rasa."""
    with store.transaction() as db:
        handoff, conversation = _locked(db, handoff_id)
        _held_by(handoff, agent, admin_may=True)
        handoff.status = "returned"
        handoff.closed_at = utcnow()
        conversation.state = "bot"
        conversation.agent_name = None
        append_message(
            db,
            handoff.conversation_id,
            "system",
            "Du skriver igen med den digitale assistent. Skriv dit spørgsmål.",
        )


def close(store: Store, handoff_id: int, agent: User, reason: str) -> None:
    reason = " ".join(reason.split())
    if not reason:
        raise NotAllowed("Skriv en kort årsag, før du afslutter samtalen.")
    with store.transaction() as db:
        handoff, conversation = _locked(db, handoff_id)
        if handoff.status == "waiting" and agent.role not in ("agent", "admin"):
            raise NotAllowed("Du kan ikke afslutte samtalen.")
        if handoff.status == "claimed":
            _held_by(handoff, agent, admin_may=True)
        elif handoff.status != "waiting":
            raise NotAllowed("Samtalen er allerede afsluttet.")
        handoff.status = "closed"
        handoff.closed_at = utcnow()
        handoff.close_reason = reason
        handoff.claimed_by = handoff.claimed_by or agent.username
        conversation.state = "closed"
        append_message(
            db,
            handoff.conversation_id,
            "system",
            "Medarbejderen har afsluttet samtalen. Skriv igen, hvis du har flere spørgsmål.",
        )


def handoff_detail(
    store: Store, handoff_id: int, after: int = 0
) -> tuple[Handoff, ConversationView]:
    """The hand-off and its conversation's messages after `after` (the console's poll)."""
    with store.read() as db:
        handoff = _open_handoff(db, handoff_id)
        conversation = db.get(Conversation, handoff.conversation_id)
        return handoff, _view(db, conversation, after)
