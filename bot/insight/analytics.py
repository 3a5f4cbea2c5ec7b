"""Analytics per period and municipality, as plain numbers in typed dataclasses.

Definitions (the console page shows the same text):

- The **period** is whole local days (Europe/Copenhagen), first and last day included.
- The **municipality** filter is the conversation's municipality (the code the widget was embedded
  with; "*" for conversations without one). Every figure below is about conversations of that
  municipality; `None` means all municipalities.
- **conversations**: conversations started in the period.
- **contained**: of those, conversations that never got a hand-off to an agent and never a
  booked callback (also not after the period ended). **containment** = contained / conversations.
- **handoffs**: hand-offs to an agent created in the period (a conversation can have several).
- **callbacks**: callbacks booked in the period, whatever became of them later (done, cancelled…).
  Callbacks whose conversation has been deleted count only without a municipality filter.
- **questions**: guide searches logged in the period (`questions` table), split by the bot's
  reply: answered, "Mente du …?" (clarify), not understood (fallback) and small talk. **small
  talk** is a fallback on a message the NLU took for small talk or otherwise off-topic (intent
  `out_of_scope`, e.g. "fortæl en vittighed"): the bot said what it can help with instead.
  It is not counted as not understood; small talk a guide matched confidently is answered.
  Questions logged before the intent was recorded (migration 0005) count as questions.
- **feedback yes/no**: answers to "Fik du svar på dit spørgsmål?" given in the period, per guide.
- **top guides**: the guides the bot answered with in the period: its confident answers plus the
  guides citizens picked under "Mente du …?".
- **busiest hours**: citizen messages sent in the period, by local weekday and hour.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.insight.period import Period, local
from bot.store.db import Store
from bot.store.models import (
    SMALL_TALK_INTENT,
    Callback,
    Conversation,
    Feedback,
    Handoff,
    Message,
    Question,
)

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TOP_GUIDES = 10


@dataclass(frozen=True)
class GuideStats:
    slug: str
    title: str
    answered: int  # questions the bot answered with this guide
    feedback_yes: int
    feedback_no: int

    @property
    def feedback(self) -> int:
        return self.feedback_yes + self.feedback_no

    @property
    def helpful_share(self) -> float | None:
        """feedback_yes / all feedback; None without feedback."""
        return self.feedback_yes / self.feedback if self.feedback else None


@dataclass(frozen=True)
class DayStats:
    day: date
    conversations: int  # started that day
    contained: int  # of those, never handed off nor called back
    handoffs: int  # created that day
    callbacks: int  # booked that day

    @property
    def escalated(self) -> int:
        return self.conversations - self.contained


@dataclass(frozen=True)
class Analytics:
    period: Period
    municipality: str | None
    conversations: int
    contained: int
    handoffs: int
    callbacks: int
    questions: int
    answered: int
    clarified: int
    fallbacks: int  # not understood, small talk not included
    small_talk: int  # taken for small talk, no confident guide
    feedback_yes: int
    feedback_no: int
    guides: list[GuideStats]  # every guide answered with or rated, most answered first
    daily: list[DayStats]  # one per day of the period
    hours: list[list[int]] = field(default_factory=list)  # [weekday Mon=0][hour 0-23]

    @property
    def containment(self) -> float | None:
        """contained / conversations; None without conversations."""
        return self.contained / self.conversations if self.conversations else None

    @property
    def escalated(self) -> int:
        return self.conversations - self.contained

    @property
    def top_guides(self) -> list[GuideStats]:
        return [g for g in self.guides if g.answered][:TOP_GUIDES]

    @property
    def rated_guides(self) -> list[GuideStats]:
        """Guides with feedback, most feedback first."""
        return sorted((g for g in self.guides if g.feedback), key=lambda g: (-g.feedback, g.slug))

    @property
    def citizen_messages(self) -> int:
        return sum(sum(row) for row in self.hours)

    @property
    def busiest(self) -> list[tuple[int, int, int]]:
        """(weekday, hour, messages) of the three busiest hours, busiest first."""
        cells = [(n, d, h) for d, row in enumerate(self.hours) for h, n in enumerate(row) if n]
        cells.sort(key=lambda c: (-c[0], c[1], c[2]))
        return [(d, h, n) for n, d, h in cells[:3]]


def _in_municipality(query: Select, conversation_id: object, municipality: str | None) -> Select:
    """Restrict `query` to conversations of `municipality` (no-op for None)."""
    if municipality is None:
        return query
    return query.join(Conversation, Conversation.id == conversation_id).where(
        Conversation.municipality == municipality
    )


def analytics(
    store: Store,
    period: Period,
    municipality: str | None = None,
    titles: Mapping[str, str] | None = None,
) -> Analytics:
    """The figures defined in the module docstring. `titles` (slug → title) names the guides;
    where it has no title, the title stored with the bot's guesses is used, else the slug."""
    with store.transaction() as session:
        return _analytics(session, period, municipality, titles or {})


def _analytics(
    session: Session, period: Period, municipality: str | None, titles: Mapping[str, str]
) -> Analytics:
    start, end = period.start, period.end

    conv_query = select(Conversation.id, Conversation.created_at).where(
        Conversation.created_at >= start, Conversation.created_at < end
    )
    if municipality is not None:
        conv_query = conv_query.where(Conversation.municipality == municipality)
    started = {cid: local(at).date() for cid, at in session.execute(conv_query)}
    in_period = conv_query.with_only_columns(Conversation.id).scalar_subquery()
    escalated_ids = set(
        session.scalars(
            select(Handoff.conversation_id).where(Handoff.conversation_id.in_(in_period))
        )
    ) | set(
        session.scalars(
            select(Callback.conversation_id).where(Callback.conversation_id.in_(in_period))
        )
    )

    handoff_days = [
        local(at).date()
        for at in session.scalars(
            _in_municipality(
                select(Handoff.created_at).where(
                    Handoff.created_at >= start, Handoff.created_at < end
                ),
                Handoff.conversation_id,
                municipality,
            )
        )
    ]
    callback_days = [
        local(at).date()
        for at in session.scalars(
            _in_municipality(
                select(Callback.created_at).where(
                    Callback.created_at >= start, Callback.created_at < end
                ),
                Callback.conversation_id,
                municipality,
            )
        )
    ]

    question_rows = session.execute(
        _in_municipality(
            select(
                Question.decision, Question.answered_slug, Question.guesses, Question.intent
            ).where(Question.created_at >= start, Question.created_at < end),
            Question.conversation_id,
            municipality,
        )
    ).all()
    decisions = Counter(
        "small_talk" if d == "fallback" and intent == SMALL_TALK_INTENT else d
        for d, _, _, intent in question_rows
    )
    answered_by_guide = Counter(slug for _, slug, _, _ in question_rows if slug)
    guessed_titles: dict[str, str] = {}
    for _, _, guesses, _ in question_rows:
        for g in guesses or []:
            if isinstance(g, dict) and g.get("slug") and g.get("title"):
                guessed_titles.setdefault(str(g["slug"]), str(g["title"]))

    feedback_rows = session.execute(
        _in_municipality(
            select(Feedback.slug, Feedback.helpful).where(
                Feedback.created_at >= start, Feedback.created_at < end
            ),
            Feedback.conversation_id,
            municipality,
        )
    ).all()
    yes = Counter(slug for slug, helpful in feedback_rows if helpful)
    no = Counter(slug for slug, helpful in feedback_rows if not helpful)

    hours = [[0] * 24 for _ in WEEKDAYS]
    for at in session.scalars(
        _in_municipality(
            select(Message.created_at).where(
                Message.sender == "citizen", Message.created_at >= start, Message.created_at < end
            ),
            Message.conversation_id,
            municipality,
        )
    ):
        moment = local(at)
        hours[moment.weekday()][moment.hour] += 1

    def title(slug: str) -> str:
        if not slug:
            return "(ukendt vejledning)"
        return titles.get(slug) or guessed_titles.get(slug) or slug

    slugs = set(answered_by_guide) | set(yes) | set(no)
    guides = sorted(
        (GuideStats(s, title(s), answered_by_guide[s], yes[s], no[s]) for s in slugs),
        key=lambda g: (-g.answered, -g.feedback, g.slug),
    )

    conv_days = Counter(started.values())
    contained_days = Counter(d for cid, d in started.items() if cid not in escalated_ids)
    handoffs_by_day, callbacks_by_day = Counter(handoff_days), Counter(callback_days)
    daily = [
        DayStats(d, conv_days[d], contained_days[d], handoffs_by_day[d], callbacks_by_day[d])
        for d in period.days
    ]
    return Analytics(
        period=period,
        municipality=municipality,
        conversations=len(started),
        contained=sum(contained_days.values()),
        handoffs=len(handoff_days),
        callbacks=len(callback_days),
        questions=len(question_rows),
        answered=decisions["answer"],
        clarified=decisions["clarify"],
        fallbacks=decisions["fallback"],
        small_talk=decisions["small_talk"],
        feedback_yes=sum(yes.values()),
        feedback_no=sum(no.values()),
        guides=guides,
        daily=daily,
        hours=hours,
    )


def municipalities(store: Store) -> list[str]:
    """The municipality codes conversations have been held for, for the filter."""
    with store.transaction() as session:
        return sorted(set(session.scalars(select(Conversation.municipality).distinct())))
