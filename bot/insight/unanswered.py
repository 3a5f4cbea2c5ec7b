"""The unanswered-questions report: what citizens asked that the guides did not answer, grouped.

A logged question (`questions`) counts as **unanswered** when the bot did not understand it
(decision `fallback`), or the citizen answered "Ingen af dem" to "Mente du …?" (`none_of_them`),
said "nej" to "Fik du svar på dit spørgsmål?" (`not_helpful`), or the conversation went to a
person right after it (`handoff`, or `callback` when nobody was on duty). Its **reason** is that
outcome, or `fallback` when the bot did not understand and nothing happened after.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select

from bot.insight.clusters import QueryEmbedder, cluster_texts, normalise, representatives
from bot.insight.period import Period
from bot.store.db import Store
from bot.store.models import Conversation, Question
from knowledge.text import fold, stop_words

UNANSWERED_OUTCOMES = ("none_of_them", "not_helpful", "handoff", "callback")
REASONS = ("fallback", *UNANSWERED_OUTCOMES)
REASON_LABELS_DA = {
    "fallback": "Ikke forstået",
    "none_of_them": "«Ingen af dem»",
    "not_helpful": "Svaret hjalp ikke",
    "handoff": "Givet videre til medarbejder",
    "callback": "Tilbudt opringning",
}
EXAMPLES = 5
MAX_KEYWORDS = 12
# Words citizens add to any question that would make poor search keywords for a guide (folded).
KEYWORD_FILLERS = frozenset({"ny", "nye", "nyt", "hos", "kommune", "kommunen", "kommunens"})
WORDS = re.compile(r"[^\W\d_](?:[\w-]*\w)?")


@dataclass(frozen=True)
class UnansweredQuestion:
    id: int
    conversation_id: str
    municipality: str
    text: str
    created_at: datetime
    decision: str
    outcome: str | None
    top_slug: str | None
    top_title: str | None

    @property
    def reason(self) -> str:
        return self.outcome if self.outcome in UNANSWERED_OUTCOMES else "fallback"


@dataclass(frozen=True)
class QuestionCluster:
    """Similar unanswered questions. `examples` are distinct wordings, most typical first."""

    number: int  # 1 = the largest
    questions: list[UnansweredQuestion]  # oldest first
    examples: list[str]
    reasons: dict[str, int]  # reason → questions, most frequent first
    bot_guesses: list[tuple[str, str, int]]  # (slug, title, times) the bot's top guess, if any

    @property
    def size(self) -> int:
        return len(self.questions)

    @property
    def wordings(self) -> int:
        return len({normalise(q.text) for q in self.questions})

    @property
    def first_seen(self) -> datetime:
        return self.questions[0].created_at

    @property
    def last_seen(self) -> datetime:
        return self.questions[-1].created_at

    @property
    def suggested_keywords(self) -> list[str]:
        """The citizens' own content words, most widespread first: search keywords for a new
        guide (stop words and words under three letters left out), in order of appearance
        among equals."""
        stops = stop_words() | KEYWORD_FILLERS
        counts: Counter[str] = Counter()
        for q in self.questions:
            words = dict.fromkeys(w for w in WORDS.findall(q.text.lower()) if len(w) > 2)
            counts.update(w for w in words if fold(w) not in stops)  # once per question
        return [w for w, _ in counts.most_common(MAX_KEYWORDS)]

    @property
    def suggested_title(self) -> str:
        """The most typical wording, as a guide title: capital first letter, no trailing space."""
        text = self.examples[0].strip()
        return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class UnansweredReport:
    period: Period
    municipality: str | None
    total_questions: int  # all logged questions in the period and municipality
    clusters: list[QuestionCluster]
    # questions left out of the clustering (beyond clusters.MAX_WORDINGS wordings), oldest first
    unclustered: list[UnansweredQuestion] = field(default_factory=list)

    @property
    def unanswered(self) -> int:
        return sum(c.size for c in self.clusters) + len(self.unclustered)


def unanswered_questions(
    store: Store, period: Period, municipality: str | None = None
) -> tuple[list[UnansweredQuestion], int]:
    """The unanswered questions asked in the period (oldest first), and how many questions were
    asked in all. `municipality` is the conversation's; None for all."""
    query = select(Question).where(
        Question.created_at >= period.start, Question.created_at < period.end
    )
    if municipality is not None:
        query = query.join(Conversation, Conversation.id == Question.conversation_id).where(
            Conversation.municipality == municipality
        )
    unanswered = query.where(
        or_(Question.decision == "fallback", Question.outcome.in_(UNANSWERED_OUTCOMES))
    ).order_by(Question.created_at, Question.id)
    with store.transaction() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = [
            UnansweredQuestion(
                id=q.id,
                conversation_id=q.conversation_id,
                municipality=q.municipality,
                text=q.text,
                created_at=q.created_at,
                decision=q.decision,
                outcome=q.outcome,
                top_slug=q.top_slug,
                top_title=next(
                    (str(g.get("title")) for g in q.guesses or [] if g.get("slug") == q.top_slug),
                    None,
                ),
            )
            for q in session.scalars(unanswered)
        ]
    return rows, total


def _cluster(number: int, chosen: list[UnansweredQuestion], examples: list[str]) -> QuestionCluster:
    reasons = Counter(q.reason for q in chosen)
    guesses = Counter((q.top_slug, q.top_title or q.top_slug) for q in chosen if q.top_slug)
    return QuestionCluster(
        number=number,
        questions=chosen,
        examples=examples,
        reasons=dict(sorted(reasons.items(), key=lambda r: (-r[1], REASONS.index(r[0])))),
        bot_guesses=[(str(slug), str(title), n) for (slug, title), n in guesses.most_common(3)],
    )


def cluster_questions(
    questions: list[UnansweredQuestion], embedder: QueryEmbedder
) -> list[QuestionCluster]:
    """Similar questions together (see bot.insight.clusters), largest cluster first."""
    texts = [q.text for q in questions]
    return [
        _cluster(
            number,
            [questions[i] for i in members],
            representatives(texts, members, embedder, EXAMPLES),
        )
        for number, members in enumerate(cluster_texts(texts, embedder), start=1)
    ]


def group_by_wording(questions: list[UnansweredQuestion]) -> list[QuestionCluster]:
    """Without the model: only identical wordings (see `normalise`) together, largest first."""
    groups: dict[str, list[UnansweredQuestion]] = {}
    for q in questions:
        groups.setdefault(normalise(q.text), []).append(q)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0].created_at, g[0].id))
    return [
        _cluster(number, group, [" ".join(group[0].text.split())])
        for number, group in enumerate(ordered, start=1)
    ]


def clustered_report(
    period: Period,
    municipality: str | None,
    total: int,
    questions: list[UnansweredQuestion],
    embedder: QueryEmbedder,
) -> UnansweredReport:
    """The report over `questions` (oldest first), clustered by meaning."""
    clusters = cluster_questions(questions, embedder)
    clustered = {q.id for c in clusters for q in c.questions}
    left_out = [q for q in questions if q.id not in clustered]
    return UnansweredReport(period, municipality, total, clusters, left_out)


def unanswered_report(
    store: Store, period: Period, municipality: str | None, embedder: QueryEmbedder
) -> UnansweredReport:
    questions, total = unanswered_questions(store, period, municipality)
    return clustered_report(period, municipality, total, questions, embedder)
