"""Who answers a citizen's message: the bot (Rasa) or the agent holding the conversation.

Every citizen message is stored first, then routed by the conversation's state:
`bot` and `closed` → forwarded to Rasa (a closed conversation reopens with the bot); `waiting`
(queued for an agent) and `agent` → only stored, the agent reads it in the console and Rasa is
not called. Bot, agent and system messages are stored in the same ordered log, once each; the
widget and the console read that log after a sequence number.

The agent side (claim, reply, hand back, close) lives here too, so the rules of who may write
when sit in one module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.store.db import Store
from bot.store.models import Conversation, Handoff, Message, User, utcnow
from bot.store.repository import append_message, ensure_conversation
from bot.store.users import first_name

log = logging.getLogger(__name__)

TEAM_NAME = "Borgerservice"
BOT_STATES = ("bot", "closed")


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

    @classmethod
    def of(cls, m: Message) -> StoredMessage:
        return cls(m.seq, m.sender, m.text, list(m.buttons or []), m.created_at.isoformat())

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "sender": self.sender,
            "text": self.text,
            "buttons": self.buttons,
            "created_at": self.created_at,
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


def messages_after(store: Store, conversation_id: str, after: int) -> ConversationView | None:
    with store.transaction() as db:
        conversation = db.get(Conversation, conversation_id)
        return None if conversation is None else _view(db, conversation, after)


def citizen_message(
    store: Store,
    bot: BotCall,
    conversation_id: str,
    municipality: str,
    text: str,
    payload: str | None = None,
) -> ConversationView:
    """Store the citizen's message and route it; returns everything stored after it.

    `text` is what the citizen wrote or the title of the button pressed; `payload` the button's
    payload, accepted only if the bot offered that button. Free text never reaches Rasa as an
    intent command ("/intent"), so a citizen cannot steer the dialogue past the NLU.
    """
    with store.transaction() as db:
        conversation = ensure_conversation(db, conversation_id, municipality)
        if payload is not None and payload not in offered_payloads(db, conversation_id):
            payload = None
        mine = append_message(db, conversation_id, "citizen", text)
        after = mine.seq - 1
        state = conversation.state
        if state == "closed":
            conversation.state = "bot"
            conversation.agent_name = None
    if state not in BOT_STATES:
        # Held by (or queued for) a person: the agent reads it in the console.
        view = messages_after(store, conversation_id, after)
        assert view is not None
        return view

    to_bot = payload if payload is not None else text.lstrip("/").strip() or text
    replies = bot(conversation_id, to_bot, {"municipality": municipality})
    with store.transaction() as db:
        conversation = db.get(Conversation, conversation_id)
        if conversation.state == "agent":
            # An agent claimed the chat while the bot was thinking: the person speaks now.
            log.info("conversation %s: bot reply dropped, an agent took over", conversation_id)
        else:
            for reply in replies:
                append_message(db, conversation_id, "bot", reply.text, reply.buttons or None)
        return _view(db, conversation, after)


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


def _queue_item(h: Handoff) -> QueueItem:
    return QueueItem(
        h.id, h.conversation_id, h.created_at, h.municipality, h.department, h.reason,
        h.summary, list(h.guesses or []), h.status, h.claimed_by,
    )  # fmt: skip


def queue(store: Store, include_claimed: bool = True) -> list[QueueItem]:
    """Open hand-offs, oldest first: waiting ones, then (optionally) those being worked."""
    statuses = ("waiting", "claimed") if include_claimed else ("waiting",)
    with store.transaction() as db:
        rows = db.scalars(
            select(Handoff).where(Handoff.status.in_(statuses)).order_by(Handoff.created_at)
        )
        return [
            QueueItem(
                h.id,
                h.conversation_id,
                h.created_at,
                h.municipality,
                h.department,
                h.reason,
                h.summary,
                list(h.guesses or []),
                h.status,
                h.claimed_by,
            )
            for h in rows
        ]


def _open_handoff(db: Session, handoff_id: int) -> Handoff:
    handoff = db.get(Handoff, handoff_id)
    if handoff is None:
        raise NotAllowed("Samtalen findes ikke.")
    return handoff


def claim(store: Store, handoff_id: int, agent: User) -> Handoff:
    """Take a waiting hand-off. Of two agents claiming at once exactly one wins: the update only
    matches while the status is still 'waiting', and the database applies it once."""
    with store.transaction() as db:
        won = db.execute(
            update(Handoff)
            .where(Handoff.id == handoff_id, Handoff.status == "waiting")
            .values(status="claimed", claimed_by=agent.username, claimed_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        handoff = _open_handoff(db, handoff_id)
        if won != 1:
            who = handoff.claimed_by or "en anden"
            raise NotAllowed(f"Samtalen er allerede taget af {who}.")
        conversation = db.get(Conversation, handoff.conversation_id)
        conversation.state = "agent"
        conversation.agent_name = first_name(agent)
        append_message(
            db,
            handoff.conversation_id,
            "system",
            f"Du skriver nu med {first_name(agent)} fra {TEAM_NAME}.",
        )
        return handoff


def _held_by(db: Session, handoff_id: int, agent: User) -> Handoff:
    handoff = _open_handoff(db, handoff_id)
    if handoff.status != "claimed":
        raise NotAllowed("Samtalen er ikke længere aktiv.")
    if handoff.claimed_by != agent.username and agent.role != "admin":
        raise NotAllowed(f"Samtalen håndteres af {handoff.claimed_by}.")
    return handoff


def agent_reply(store: Store, handoff_id: int, agent: User, text: str) -> StoredMessage:
    with store.transaction() as db:
        handoff = _held_by(db, handoff_id, agent)
        return StoredMessage.of(append_message(db, handoff.conversation_id, "agent", text))


def hand_back(store: Store, handoff_id: int, agent: User) -> None:
    """The bot takes the conversation again; the citizen's next message goes to Rasa."""
    with store.transaction() as db:
        handoff = _held_by(db, handoff_id, agent)
        handoff.status = "returned"
        handoff.closed_at = utcnow()
        conversation = db.get(Conversation, handoff.conversation_id)
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
        handoff = _open_handoff(db, handoff_id)
        if handoff.status == "waiting" and agent.role not in ("agent", "admin"):
            raise NotAllowed("Du kan ikke afslutte samtalen.")
        if handoff.status == "claimed":
            handoff = _held_by(db, handoff_id, agent)
        elif handoff.status != "waiting":
            raise NotAllowed("Samtalen er allerede afsluttet.")
        handoff.status = "closed"
        handoff.closed_at = utcnow()
        handoff.close_reason = reason
        handoff.claimed_by = handoff.claimed_by or agent.username
        conversation = db.get(Conversation, handoff.conversation_id)
        conversation.state = "closed"
        append_message(
            db,
            handoff.conversation_id,
            "system",
            "Medarbejderen har afsluttet samtalen. Skriv igen, hvis du har flere spørgsmål.",
        )


def handoff_detail(store: Store, handoff_id: int) -> tuple[Handoff, ConversationView]:
    with store.transaction() as db:
        handoff = _open_handoff(db, handoff_id)
        conversation = db.get(Conversation, handoff.conversation_id)
        return handoff, _view(db, conversation, 0)
