"""The unanswered-questions report: what citizens asked that the guides did not answer, grouped.

A logged question (`questions`) counts as **unanswered** when the bot did not understand it
(decision `fallback`), or the citizen answered "Ingen af dem" to "Mente du …?" (`none_of_them`),
said "nej" to "Fik du svar på dit spørgsmål?" (`not_helpful`), or the conversation went to a
person right after it (`handoff`, or `callback` when nobody was on duty). Its **reason** is that
outcome; when nothing happened after a fallback, `small_talk` if the NLU took the message for
small talk (intent `out_of_scope`: the bot said what it can help with), else `fallback`.

Unanswered small talk is left out unless asked for (`small_talk=True`), and out of the total
too: most of it is "fortæl en vittighed" and the like, which no guide should answer, and it would
push real gaps down the list and use up the clustering's wordings. But the NLU sometimes takes a
real question for small talk and the citizen is turned away, so the report always says how much
was left out, and with it included each one is labelled and clustered with similar questions.
Small talk followed by a hand-off or callback keeps that reason and is always in.
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
from bot.store.models import SMALL_TALK_INTENT, Conversation, Question
from knowledge.text import fold, stop_words

UNANSWERED_OUTCOMES = ("none_of_them", "not_helpful", "handoff", "callback")
SMALL_TALK = "small_talk"
REASONS = ("fallback", *UNANSWERED_OUTCOMES, SMALL_TALK)
REASON_LABELS_DA = {
    "fallback": "Ikke forstået",
    "none_of_them": "«Ingen af dem»",
    "not_helpful": "Svaret hjalp ikke",
    "handoff": "Givet videre til medarbejder",
    "callback": "Tilbudt opringning",
    SMALL_TALK: "Botten tog det for småsnak",
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
    intent: str | None = None  # the NLU's; None before migration 0005

    @property
    def reason(self) -> str:
        if self.outcome in UNANSWERED_OUTCOMES:
            return str(self.outcome)
        return SMALL_TALK if self.intent == SMALL_TALK_INTENT else "fallback"


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
    # logged questions in the period and municipality, less the unanswered small talk left out
    total_questions: int
    clusters: list[QuestionCluster]
    # questions left out of the clustering (beyond clusters.MAX_WORDINGS wordings), oldest first
    unclustered: list[UnansweredQuestion] = field(default_factory=list)
    with_small_talk: bool = False  # unanswered small talk included
    small_talk_left_out: int = 0  # unanswered small talk not included (0 when included)

    @property
    def unanswered(self) -> int:
        return sum(c.size for c in self.clusters) + len(self.unclustered)

    @property
    def small_talk(self) -> int:
        """Unanswered small talk in the report (0 unless included)."""
        questions = [q for c in self.clusters for q in c.questions] + self.unclustered
        return sum(q.reason == SMALL_TALK for q in questions)


@dataclass(frozen=True)
class UnansweredSelection:
    """The unanswered questions a report is made of, before they are grouped."""

    period: Period
    municipality: str | None
    questions: list[UnansweredQuestion]  # oldest first
    total: int  # logged questions, less the unanswered small talk left out
    with_small_talk: bool
    small_talk_left_out: int

    def report(
        self,
        clusters: list[QuestionCluster],
        unclustered: list[UnansweredQuestion] | None = None,
    ) -> UnansweredReport:
        return UnansweredReport(
            self.period, self.municipality, self.total, clusters, unclustered or [],
            self.with_small_talk, self.small_talk_left_out,
        )  # fmt: skip


def unanswered_questions(
    store: Store, period: Period, municipality: str | None = None, *, small_talk: bool = False
) -> UnansweredSelection:
    """The unanswered questions asked in the period (oldest first), and how many questions were
    asked in all. `municipality` is the conversation's; None for all. `small_talk`: include the
    unanswered small talk (see the module docstring)."""
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
                intent=q.intent,
            )
            for q in session.scalars(unanswered)
        ]
    left_out = 0 if small_talk else sum(q.reason == SMALL_TALK for q in rows)
    if left_out:
        rows = [q for q in rows if q.reason != SMALL_TALK]
    return UnansweredSelection(period, municipality, rows, total - left_out, small_talk, left_out)


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


def clustered_report(selection: UnansweredSelection, embedder: QueryEmbedder) -> UnansweredReport:
    """The report over the selected questions, clustered by meaning."""
    clusters = cluster_questions(selection.questions, embedder)
    clustered = {q.id for c in clusters for q in c.questions}
    return selection.report(clusters, [q for q in selection.questions if q.id not in clustered])


def unanswered_report(
    store: Store,
    period: Period,
    municipality: str | None,
    embedder: QueryEmbedder,
    *,
    small_talk: bool = False,
) -> UnansweredReport:
    selection = unanswered_questions(store, period, municipality, small_talk=small_talk)
    return clustered_report(selection, embedder)
