"""Escalation to a person: live chat while agents are on duty, a callback otherwise.

"On duty" means both: the schedule is open (bot/schedule.yml) and at least one active agent or
admin has the console open (its queue or a conversation polled within the presence window).
Opening hours alone would queue citizens in hours when nobody is logged in, and they would wait
for ever.

Pure decisions (`decide_escalation`, `build_summary`, `department_for`) plus `agents_present`
and `create_handoff`, which records the hand-off for the agent console.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.hours import Schedules
from bot.store.cpr import mask_cpr
from bot.store.models import (
    HANDOFF_REASONS,
    OPEN_HANDOFF_STATUSES,
    Handoff,
    HandoffReason,
    utcnow,
)
from bot.store.repository import ensure_conversation
from bot.store.users import chat_users_seen_since

if TYPE_CHECKING:
    from knowledge.search import Hit

DEFAULT_DEPARTMENT = "borgerservice"
MAX_SUMMARY_LINE = 300
MAX_GUESSES = 3
SENDER_LABELS = {"citizen": "Borger", "bot": "Bot"}


class MessageLike(Protocol):
    sender: str
    text: str


@dataclass(frozen=True)
class Escalation:
    kind: Literal["handoff", "callback"]
    next_opening: datetime | None  # when agents are next on duty (None if not within two weeks)
    in_hours: bool  # the schedule is open: a callback then means nobody is logged in


def agents_present(session: Session, window_s: float, now: datetime | None = None) -> bool:
    """Whether an active agent or admin has polled the console within the last `window_s`.

    Real time, never a test clock: it is compared with real poll timestamps."""
    return chat_users_seen_since(session, (now or utcnow()) - timedelta(seconds=window_s)) > 0


def decide_escalation(
    schedules: Schedules, municipality: str | None, now: datetime, *, agents_present: bool
) -> Escalation:
    schedule = schedules.for_municipality(municipality)
    in_hours = schedule.is_open(now)
    kind: Literal["handoff", "callback"] = "handoff" if in_hours and agents_present else "callback"
    return Escalation(kind=kind, next_opening=schedule.next_opening(now), in_hours=in_hours)


def on_duty(
    schedules: Schedules, municipality: str | None, now: datetime, *, agents_present: bool
) -> bool:
    """Whether a request for a person now would be handed off (the widget's "Tal med en
    medarbejder"): the same decision the escalation action makes."""
    decision = decide_escalation(schedules, municipality, now, agents_present=agents_present)
    return decision.kind == "handoff"


# A guess is a knowledge.search.Hit or its stored form {"slug", "title", "score"} (plus "owner"
# where known), so summaries can also be rebuilt from a stored hand-off.
def _field(guess: Hit | Mapping[str, Any], name: str) -> Any:
    return guess.get(name) if isinstance(guess, Mapping) else getattr(guess, name, None)


def guess_records(guesses: Sequence[Hit | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The stored form of the bot's guesses, best first."""
    return [
        {
            "slug": str(_field(g, "slug")),
            "title": str(_field(g, "title")),
            "score": round(float(_field(g, "score") or 0.0), 4),
        }
        for g in guesses
    ]


def department_for(
    guesses: Sequence[Hit | Mapping[str, Any]], default: str = DEFAULT_DEPARTMENT
) -> str:
    """The department owning the bot's top guess: it knows the topic best."""
    owner = _field(guesses[0], "owner") if guesses else None
    return str(owner) if owner else default


def _shorten(text: str) -> str:
    one_line = " ".join(text.split())
    if len(one_line) <= MAX_SUMMARY_LINE:
        return one_line
    return one_line[: MAX_SUMMARY_LINE - 1].rstrip() + "…"


def score_da(score: float) -> str:
    """A score with a Danish decimal comma, e.g. '0,62'."""
    return f"{score:.2f}".replace(".", ",")


def build_summary(
    messages: Sequence[MessageLike],
    guesses: Sequence[Hit | Mapping[str, Any]],
    max_messages: int = 6,
) -> str:
    """A Danish brief for the agent: the latest exchange and what the bot thought it was about."""
    exchange = [m for m in messages if m.sender in SENDER_LABELS][-max_messages:]
    lines = ["Seneste beskeder:"]
    lines += [f"{SENDER_LABELS[m.sender]}: {_shorten(mask_cpr(m.text))}" for m in exchange]
    if not exchange:
        lines.append("(ingen)")
    records = guess_records(guesses)[:MAX_GUESSES]
    lines.append("Botens bedste gæt:")
    lines += [
        f"{i}. {g['title']} ({g['slug']}) – score {score_da(g['score'])}"
        for i, g in enumerate(records, start=1)
    ]
    if not records:
        lines.append("(ingen – botten fandt ingen passende vejledning)")
    return "\n".join(lines)


def open_handoff(session: Session, conversation_id: str) -> Handoff | None:
    return session.scalar(
        select(Handoff).where(
            Handoff.conversation_id == conversation_id,
            Handoff.status.in_(OPEN_HANDOFF_STATUSES),
        )
    )


def create_handoff(
    session: Session,
    conversation_id: str,
    municipality: str,
    reason: HandoffReason,
    guesses: Sequence[Hit | Mapping[str, Any]],
    department: str,
    summary: str,
) -> Handoff:
    """Queue the conversation for an agent; returns the open hand-off if there already is one."""
    if reason not in HANDOFF_REASONS:
        raise ValueError(f"unknown hand-off reason {reason!r}")
    # Locked first, like every change of who holds the conversation (see ensure_conversation).
    conversation = ensure_conversation(session, conversation_id, municipality, lock=True)
    existing = open_handoff(session, conversation_id)
    if existing is not None:
        return existing
    handoff = Handoff(
        conversation_id=conversation_id,
        municipality=municipality,
        reason=reason,
        summary=mask_cpr(summary),
        guesses=guess_records(guesses),
        department=department,
        status="waiting",
    )
    try:
        # The partial unique index allows one open hand-off per conversation; a concurrent
        # request that got there first wins and its hand-off is returned.
        with session.begin_nested():
            session.add(handoff)
    except IntegrityError:
        existing = open_handoff(session, conversation_id)
        if existing is None:
            raise
        return existing
    conversation.state = "waiting"
    session.flush()
    return handoff
