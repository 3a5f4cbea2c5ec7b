"""Data access for the web front and the actions: conversations, messages and feedback.

Functions take the caller's session and never commit; the caller owns the transaction
(see `bot.store.db.transaction`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.cpr import mask_cpr
from bot.store.models import SENDERS, Conversation, Feedback, Message, Sender, utcnow

SEQ_ATTEMPTS = 5


def lock_conversation(session: Session, id: str) -> Conversation | None:
    """The conversation read FOR UPDATE (PostgreSQL; SQLite's write transaction already holds
    the database) and refreshed: a decision on its state then cannot interleave with a hand-off,
    claim or withdrawal committing meanwhile. Everything that changes who holds a conversation
    locks it first, so those writers always lock in the same order (conversation, then
    hand-off). None if there is no such conversation."""
    return session.scalar(
        select(Conversation)
        .where(Conversation.id == id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def ensure_conversation(
    session: Session, id: str, municipality: str, *, lock: bool = False
) -> Conversation:
    """The conversation with this Rasa sender id, created in state 'bot' if it is new;
    `lock=True` locks it (`lock_conversation`), also when another request created it first."""

    def read() -> Conversation | None:
        return lock_conversation(session, id) if lock else session.get(Conversation, id)

    conversation = read()
    if conversation is not None:
        return conversation
    try:
        # A savepoint, so losing a creation race leaves the caller's transaction usable.
        with session.begin_nested():
            conversation = Conversation(id=id, municipality=municipality, state="bot")
            session.add(conversation)
    except IntegrityError:
        # The winner has committed (PostgreSQL made the insert wait for it): read its row.
        conversation = read()
        if conversation is None:
            raise
    return conversation


def append_message(
    session: Session,
    conversation_id: str,
    sender: Sender,
    text: str,
    buttons: list[dict[str, Any]] | None = None,
    *,
    client_id: str | None = None,
    author: str | None = None,
) -> Message:
    """Store a message (CPR numbers masked) as the conversation's next one in order.

    `client_id`: the widget's id for a citizen message (unique per conversation); `author`: the
    first name of the agent who wrote it.
    """
    if sender not in SENDERS:
        raise ValueError(f"unknown sender {sender!r}")
    # Touching the conversation first also locks its row on PostgreSQL, which serialises writers
    # of one conversation so they rarely compete for the same seq.
    touched = session.execute(
        update(Conversation).where(Conversation.id == conversation_id).values(updated_at=utcnow())
    )
    if touched.rowcount == 0:
        raise LookupError(f"no conversation {conversation_id!r}; call ensure_conversation first")
    masked = mask_cpr(text)
    attempt = 0
    while True:
        attempt += 1
        last = session.scalar(
            select(func.max(Message.seq)).where(Message.conversation_id == conversation_id)
        )
        message = Message(
            conversation_id=conversation_id,
            seq=(last or 0) + 1,
            sender=sender,
            text=masked,
            buttons=buttons,
            client_id=client_id,
            author=author,
        )
        try:
            with session.begin_nested():
                session.add(message)
            return message
        except IntegrityError:
            if attempt == SEQ_ATTEMPTS or (
                client_id is not None and find_by_client_id(session, conversation_id, client_id)
            ):
                raise  # a duplicate client id, or not a seq race after all


def find_by_client_id(session: Session, conversation_id: str, client_id: str) -> Message | None:
    return session.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id, Message.client_id == client_id
        )
    )


def transcript(session: Session, conversation_id: str) -> list[Message]:
    rows = session.scalars(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
    )
    return list(rows)


def record_feedback(
    session: Session, conversation_id: str, slug: str, helpful: bool, municipality: str = "*"
) -> Feedback:
    """Whether the guide `slug` helped; creates the conversation if the web front has not."""
    ensure_conversation(session, conversation_id, municipality)
    feedback = Feedback(conversation_id=conversation_id, slug=slug, helpful=helpful)
    session.add(feedback)
    session.flush()
    return feedback
