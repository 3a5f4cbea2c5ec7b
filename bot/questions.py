"""The question log: every guide search the bot makes for a citizen, and what became of it.

The actions call the store-level functions (`log_question`, `mark_answered`, `mark_feedback`,
`mark_escalation`); each runs in its own short transaction and never raises: the insight reports
are worth less than the citizen's answer, so a storage failure is logged and the chat goes on.
The session-level functions (`record_question`, `set_outcome`, `latest_question`) are for tests
and other callers that own a transaction.

Which question an outcome belongs to: the conversation's latest logged question. The citizen's
own verdicts ("ja"/"nej" to "Fik du svar …?", "Ingen af dem") replace an earlier outcome; an
escalation (hand-off, or a callback offered when nobody is on duty) only fills an empty one, so
"nej" followed by the hand-off it triggers stays `not_helpful`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.handoff import guess_records
from bot.store.cpr import mask_cpr
from bot.store.models import MAX_INTENT, QUESTION_OUTCOMES, Question, QuestionOutcome, utcnow
from bot.store.repository import ensure_conversation

if TYPE_CHECKING:
    from bot.store.db import Store
    from knowledge.search import SearchResult

log = logging.getLogger(__name__)


class HasStore(Protocol):
    """What owns the store (the actions' Services): read inside the try, so a database that
    cannot even be opened is logged like any other storage failure."""

    @property
    def store(self) -> Store: ...


MAX_TEXT = 1000
MAX_GUESSES = 3
CITIZEN_VERDICTS: frozenset[str] = frozenset({"helpful", "not_helpful", "none_of_them"})


def record_question(
    session: Session,
    conversation_id: str,
    municipality: str,
    result: SearchResult,
    *,
    intent: str | None = None,
) -> Question | None:
    """Log one search; None for empty text and button payloads ("/intent"): no question.
    `intent`: the NLU's reading of the message (why it was searched); None if there is none."""
    text = " ".join(result.question.split())
    if not text or text.startswith("/"):
        return None
    conversation = ensure_conversation(session, conversation_id, municipality)
    best = result.results[0] if result.results else None
    question = Question(
        conversation_id=conversation_id,
        municipality=conversation.municipality,
        text=mask_cpr(text)[:MAX_TEXT],
        decision=result.decision,
        top_slug=best.slug if best else None,
        top_score=float(best.score) if best else None,
        guesses=guess_records(result.results[:MAX_GUESSES]),
        answered_slug=best.slug if result.decision == "answer" and best else None,
        intent=intent[:MAX_INTENT] if intent else None,
    )
    session.add(question)
    session.flush()
    return question


def latest_question(session: Session, conversation_id: str) -> Question | None:
    return session.scalar(
        select(Question)
        .where(Question.conversation_id == conversation_id)
        .order_by(Question.id.desc())
        .limit(1)
    )


def set_outcome(
    session: Session, conversation_id: str, outcome: QuestionOutcome, *, replace: bool
) -> Question | None:
    """Set the latest question's outcome; with replace=False only if it has none yet."""
    if outcome not in QUESTION_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    question = latest_question(session, conversation_id)
    if question is None or (question.outcome is not None and not replace):
        return question
    question.outcome = outcome
    question.outcome_at = utcnow()
    session.flush()
    return question


def set_answered(session: Session, conversation_id: str, slug: str) -> Question | None:
    """The citizen picked `slug` under "Mente du …?": the latest clarify question got an answer."""
    question = latest_question(session, conversation_id)
    if question is None or question.decision != "clarify" or question.answered_slug:
        return None
    question.answered_slug = slug
    session.flush()
    return question


def escalation_outcome(reason: str, kind: str) -> tuple[QuestionOutcome, bool]:
    """The outcome an escalation gives the latest question, and whether it replaces one."""
    if reason == "none_of_them":
        return "none_of_them", True
    return ("handoff" if kind == "handoff" else "callback"), False


# Wrappers for the actions: one transaction each, and never an exception.


def log_question(
    owner: HasStore,
    conversation_id: str,
    municipality: str | None,
    result: SearchResult,
    *,
    intent: str | None,
) -> None:
    try:
        with owner.store.transaction() as session:
            record_question(session, conversation_id, municipality or "*", result, intent=intent)
    except Exception:
        log.exception("could not log the question of conversation %s", conversation_id)


def mark_answered(owner: HasStore, conversation_id: str, slug: str) -> None:
    try:
        with owner.store.transaction() as session:
            set_answered(session, conversation_id, slug)
    except Exception:
        log.exception("could not mark the chosen guide of conversation %s", conversation_id)


def mark_feedback(owner: HasStore, conversation_id: str, helpful: bool) -> None:
    try:
        with owner.store.transaction() as session:
            set_outcome(
                session, conversation_id, "helpful" if helpful else "not_helpful", replace=True
            )
    except Exception:
        log.exception("could not mark the feedback of conversation %s", conversation_id)


def mark_escalation(owner: HasStore, conversation_id: str, reason: str, kind: str) -> None:
    """After a hand-off (kind 'handoff') or a callback offer (kind 'callback')."""
    outcome, replace = escalation_outcome(reason, kind)
    try:
        with owner.store.transaction() as session:
            set_outcome(session, conversation_id, outcome, replace=replace)
    except Exception:
        log.exception("could not mark the escalation of conversation %s", conversation_id)
