"""The tables: conversations and their messages, hand-offs to agents, callbacks and feedback.

Every timestamp is timezone-aware UTC in Python and naive UTC in the database, so SQLite and
PostgreSQL store the same values. Enumerations are strings guarded by CHECK constraints.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import TypeDecorator

ConversationState = Literal["bot", "waiting", "agent", "closed"]
Sender = Literal["citizen", "bot", "agent", "system"]
HandoffReason = Literal[
    "requested", "not_helpful", "none_of_them", "repeated_fallback", "complaint"
]
HandoffStatus = Literal["waiting", "claimed", "returned", "closed"]
CallbackStatus = Literal["booked", "cancelled", "done", "no_answer", "rescheduled"]
Role = Literal["agent", "editor", "admin"]

CONVERSATION_STATES: tuple[str, ...] = get_args(ConversationState)
SENDERS: tuple[str, ...] = get_args(Sender)
HANDOFF_REASONS: tuple[str, ...] = get_args(HandoffReason)
HANDOFF_STATUSES: tuple[str, ...] = get_args(HandoffStatus)
OPEN_HANDOFF_STATUSES: tuple[str, ...] = ("waiting", "claimed")
CALLBACK_STATUSES: tuple[str, ...] = get_args(CallbackStatus)
ROLES: tuple[str, ...] = get_args(Role)

# Stable constraint names, so migrations can refer to them on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
Base: Any = declarative_base(metadata=metadata)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the column."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # A naive value could be local time; refusing it beats storing a wrong hour.
            raise ValueError(f"naive datetime {value!r}; pass a timezone-aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (CheckConstraint(one_of("state", CONVERSATION_STATES), name="state"),)

    id = Column(String(128), primary_key=True)  # the Rasa sender id
    municipality = Column(String(32), nullable=False)
    state = Column(String(16), nullable=False, default="bot")
    agent_name = Column(String(200))
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        CheckConstraint(one_of("sender", SENDERS), name="sender"),
        # A retried POST carries the same client id: the database refuses a second copy.
        Index("uq_messages_conversation_id_client_id", "conversation_id", "client_id", unique=True),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(
        String(128), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    seq = Column(Integer, nullable=False)
    sender = Column(String(16), nullable=False)
    text = Column(Text, nullable=False)
    buttons = Column(JSON)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    client_id = Column(String(64))  # the widget's id for a citizen message (idempotent retries)
    author = Column(String(200))  # an agent message's writer, as the citizen sees them (first name)


class Handoff(Base):
    __tablename__ = "handoffs"
    __table_args__ = (
        CheckConstraint(one_of("reason", HANDOFF_REASONS), name="reason"),
        CheckConstraint(one_of("status", HANDOFF_STATUSES), name="status"),
        Index("ix_handoffs_status", "status"),
        # At most one open hand-off per conversation, enforced by the database.
        Index(
            "uq_handoffs_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text(one_of("status", OPEN_HANDOFF_STATUSES)),
            postgresql_where=text(one_of("status", OPEN_HANDOFF_STATUSES)),
        ),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(
        String(128), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    reason = Column(String(32), nullable=False)
    summary = Column(Text, nullable=False)
    guesses = Column(JSON, nullable=False)  # [{"slug", "title", "score"}], best first
    department = Column(String(64), nullable=False)
    municipality = Column(String(32), nullable=False)
    status = Column(String(16), nullable=False, default="waiting")
    claimed_by = Column(String(200))
    claimed_at = Column(UTCDateTime)
    closed_at = Column(UTCDateTime)
    close_reason = Column(Text)
    # When the citizen was told that nobody has taken the chat yet (once per hand-off).
    overdue_notified_at = Column(UTCDateTime)


class Callback(Base):
    __tablename__ = "callbacks"
    __table_args__ = (
        CheckConstraint(one_of("status", CALLBACK_STATUSES), name="status"),
        Index("ix_callbacks_department_slot_start", "department", "slot_start"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), ForeignKey("conversations.id", ondelete="SET NULL"))
    name = Column(String(200), nullable=False)
    phone = Column(String(16), nullable=False)  # "+45XXXXXXXX"
    department = Column(String(64), nullable=False)
    topic = Column(Text, nullable=False)
    slot_start = Column(UTCDateTime, nullable=False)
    status = Column(String(16), nullable=False, default="booked")
    notes = Column(Text)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class CallbackSeat(Base):
    """One taken place in a slot. The unique seat number per slot caps bookings at the capacity
    atomically on any database: a second insert of the same seat fails instead of overbooking."""

    __tablename__ = "callback_seats"
    __table_args__ = (UniqueConstraint("department", "slot_start", "seat"),)

    callback_id = Column(Integer, ForeignKey("callbacks.id", ondelete="CASCADE"), primary_key=True)
    department = Column(String(64), nullable=False)
    slot_start = Column(UTCDateTime, nullable=False)
    seat = Column(Integer, nullable=False)


class Feedback(Base):
    __tablename__ = "feedback"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(
        String(128), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    slug = Column(String(200), nullable=False)
    helpful = Column(Boolean, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class User(Base):
    """A console user: agents work chats and callbacks, editors guides, admins everything."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("role", ROLES), name="role"),)

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(200), nullable=False)  # the citizen sees the first name
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    # Last poll of the console's queue or a conversation: who is at work right now.
    last_seen_at = Column(UTCDateTime)


QuestionDecision = Literal["answer", "clarify", "fallback"]
# What became of a question, set after the search: the citizen's own verdict (helpful,
# not_helpful, none_of_them — "Ingen af dem" under "Mente du …?") or an escalation (handoff to an
# agent on duty; callback: nobody on duty, a callback was offered instead).
QuestionOutcome = Literal["helpful", "not_helpful", "none_of_them", "handoff", "callback"]
QUESTION_DECISIONS: tuple[str, ...] = get_args(QuestionDecision)
QUESTION_OUTCOMES: tuple[str, ...] = get_args(QuestionOutcome)
# The NLU's intent for small talk and other off-topic messages (actions.constants.
# INTENT_OUT_OF_SCOPE): searched too, but a miss is not a question the bot failed to understand.
SMALL_TALK_INTENT = "out_of_scope"
MAX_INTENT = 64


class Question(Base):
    """One guide search for a citizen's question (CPR-masked), for the insight reports."""

    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint(one_of("decision", QUESTION_DECISIONS), name="decision"),
        CheckConstraint(one_of("outcome", QUESTION_OUTCOMES), name="outcome"),
        Index("ix_questions_created_at", "created_at"),
        Index("ix_questions_conversation_id", "conversation_id"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(
        String(128), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    municipality = Column(String(32), nullable=False)  # the conversation's
    text = Column(Text, nullable=False)
    decision = Column(String(16), nullable=False)
    top_slug = Column(String(200))  # the best-ranked guide, whatever the decision
    top_score = Column(Float)
    guesses = Column(JSON, nullable=False)  # [{"slug", "title", "score"}], best first
    # The guide the bot answered with: the top guide on `answer`, the citizen's pick after
    # "Mente du …?"; None while (or if) the bot gave no answer.
    answered_slug = Column(String(200))
    outcome = Column(String(16))
    outcome_at = Column(UTCDateTime)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    # Why the bot searched: the NLU's intent for the message (ask_question, nlu_fallback,
    # out_of_scope, ...), stored as read so the reports decide what counts as small talk. No
    # CHECK: the names are the NLU's (bot/domain.yml), and a newly routed intent must not cost the
    # log its question. NULL: logged before migration 0005, or without an NLU reading.
    intent = Column(String(MAX_INTENT))
