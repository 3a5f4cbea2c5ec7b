"""Clustering unanswered questions with the real e5 model (loaded once per session).

The questions here are not the ones the threshold was calibrated on (bot/insight/clusters.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from bot.insight.clusters import (
    BACKGROUND,
    background_cosine,
    cluster_texts,
    normalise,
    representatives,
    threshold_for,
)
from bot.insight.period import Period
from bot.insight.unanswered import unanswered_report
from bot.store import Store
from bot.store.models import Conversation, Question
from tests.bot.insight_seed import at

pytestmark = pytest.mark.slow  # the embedding model

GRAFFITI = ["Der er graffiti på min husmur", "hvem fjerner graffiti",
            "graffiti på skolen skal fjernes"]  # fmt: skip
PIZZA = ["Hvor skal pizzabakker sorteres?", "sortering af pizzabakker",
         "skal en pizzabakke i pap eller restaffald"]  # fmt: skip
BOAT = ["Hvordan lejer jeg en bådplads i havnen?", "bådplads leje",
        "venteliste til bådplads i lystbådehavnen"]  # fmt: skip
PLAYGROUND = ["Legepladsen i parken er i stykker", "gyngen på legepladsen er ødelagt"]
ONE_OFFS = [
    "Hvad koster det at få tømt septiktanken?",
    "Kan jeg få hjælp til at betale tandlæge?",
    "Hvordan bliver jeg frivillig på plejehjemmet?",
    "Må jeg brænde haveaffald af?",
]


def grouped(texts: list[str], clusters: list[list[int]]) -> list[set[str]]:
    return [{texts[i] for i in c} for c in clusters]


def test_threshold_is_relative_to_the_models_background_cosine(embedder: Any) -> None:
    base = background_cosine(embedder)
    assert 0.80 < base < 0.88  # raw e5 cosines of unrelated questions are compressed high
    assert threshold_for(embedder) == pytest.approx(base + 0.25 * (1 - base))
    assert len(BACKGROUND) == len(set(BACKGROUND)) == 24


def test_similar_questions_are_grouped_and_dissimilar_kept_apart(embedder: Any) -> None:
    texts = [*GRAFFITI, *ONE_OFFS[:2], *PIZZA, *BOAT, *ONE_OFFS[2:], *PLAYGROUND]
    clusters = grouped(texts, cluster_texts(texts, embedder))
    for topic in (GRAFFITI, PIZZA, BOAT, PLAYGROUND):
        assert set(topic) in clusters, topic
    for question in ONE_OFFS:
        assert {question} in clusters, question
    assert len(clusters) == 8


def test_largest_first_duplicates_counted_and_most_frequent_wording_first(embedder: Any) -> None:
    texts = [*GRAFFITI, *PIZZA, "hvor skal pizzabakker sorteres", "HVOR SKAL PIZZABAKKER SORTERES?",
             ONE_OFFS[0]]  # fmt: skip
    clusters = cluster_texts(texts, embedder)
    assert [len(c) for c in clusters] == [5, 3, 1]
    assert {texts[i] for i in clusters[0]} == {*PIZZA, texts[6], texts[7]}
    examples = representatives(texts, clusters[0], embedder)
    assert examples[0] == "Hvor skal pizzabakker sorteres?"  # 3 of 5, as first written
    assert len(examples) == 3  # distinct wordings only
    assert normalise(" Hvor  skal pizzabakker sorteres ?! ") == "hvor skal pizzabakker sorteres"


def test_edge_cases(embedder: Any) -> None:
    assert cluster_texts([], embedder) == []
    assert cluster_texts(["bådplads leje"], embedder) == [[0]]
    assert cluster_texts(["bådplads leje", "Bådplads leje!"], embedder) == [[0, 1]]


def test_report_groups_only_unanswered_questions_of_the_period_and_municipality(
    store: Store, embedder: Any
) -> None:
    day = at("2026-05-04 10:00")
    with store.transaction() as s:
        for cid, municipality in (("a", "0101"), ("b", "0101"), ("c", "0202")):
            s.add(Conversation(id=cid, municipality=municipality, state="bot", created_at=day,
                               updated_at=day))  # fmt: skip
        s.flush()

        def q(cid: str, text: str, decision: str = "fallback", outcome: str | None = None,
              when: Any = day, top: str | None = None) -> None:  # fmt: skip
            guesses = [{"slug": top, "title": "Storskrald", "score": 0.3}] if top else []
            s.add(Question(conversation_id=cid, municipality="x", text=text, decision=decision,
                           top_slug=top, guesses=guesses, outcome=outcome,
                           created_at=when))  # fmt: skip

        q("a", GRAFFITI[0])
        q("a", GRAFFITI[1], "clarify", "none_of_them")
        q("b", GRAFFITI[2], "answer", "not_helpful", top="affald-storskrald")
        q("b", PIZZA[0], "fallback", "handoff", top="affald-storskrald")
        q("b", PIZZA[1], "clarify", "callback")
        q("a", "Hvordan bestiller jeg pas?", "answer", "helpful")  # answered: not in the report
        q("a", "Hvordan skifter jeg læge?", "clarify")  # clarified, no verdict: not in it
        q("c", GRAFFITI[0])  # another municipality
        q("a", BOAT[0], when=day - timedelta(days=40))  # before the period
    period = Period(date(2026, 5, 1), date(2026, 5, 31))
    report = unanswered_report(store, period, "0101", embedder)
    assert (report.total_questions, report.unanswered) == (7, 5)
    first, second = report.clusters
    assert (first.number, first.size, second.size) == (1, 3, 2)
    assert set(first.examples) == set(GRAFFITI)
    assert first.reasons == {"fallback": 1, "none_of_them": 1, "not_helpful": 1}
    assert first.bot_guesses == [("affald-storskrald", "Storskrald", 1)]
    assert second.reasons == {"handoff": 1, "callback": 1}
    assert first.suggested_title == first.examples[0][0].upper() + first.examples[0][1:]
    everywhere = unanswered_report(store, period, None, embedder)
    assert (everywhere.total_questions, everywhere.unanswered) == (8, 6)
    assert everywhere.clusters[0].size == 4
