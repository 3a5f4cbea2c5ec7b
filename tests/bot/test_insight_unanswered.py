"""The unanswered-questions report without the model: keyword suggestions for a new guide, and
what happens beyond the clustering's limit of distinct wordings (a stand-in embedder)."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest

import bot.insight.clusters
from bot.insight.__main__ import print_unanswered
from bot.insight.export import unanswered_csv
from bot.insight.period import Period
from bot.insight.unanswered import (
    QuestionCluster,
    UnansweredQuestion,
    UnansweredSelection,
    clustered_report,
    unanswered_questions,
)

PERIOD = Period(date(2026, 3, 1), date(2026, 3, 31))


def question(
    i: int, text: str, intent: str | None = None, outcome: str | None = None
) -> UnansweredQuestion:
    return UnansweredQuestion(
        id=i, conversation_id=f"c{i}", municipality="0101", text=text,
        created_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=i), decision="fallback",
        outcome=outcome, top_slug=None, top_title=None, intent=intent,
    )  # fmt: skip


def selected(questions: list[UnansweredQuestion], total: int) -> UnansweredSelection:
    return UnansweredSelection(PERIOD, None, questions, total, False, 0)


class DistinctEmbedder:
    """Every text its own direction: nothing is similar, each wording is its own cluster."""

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            vectors[row, hash(text) % 64] = 1.0
        return vectors


def test_suggested_keywords_are_the_citizens_content_words() -> None:
    texts = ["Hvordan registrerer jeg min hund?", "skal min hund registreres",
             "Hundeskat til kommunen – hvad koster den?", "hund hund hund"]  # fmt: skip
    cluster = QuestionCluster(1, [question(i, t) for i, t in enumerate(texts)], [texts[0]], {}, [])
    keywords = cluster.suggested_keywords
    assert keywords[0] == "hund"  # in three questions (counted once per question)
    assert {"registrerer", "registreres", "hundeskat", "koster"} <= set(keywords)
    assert not {"hvordan", "jeg", "min", "skal", "hvad", "til", "den", "kommunen"} & set(keywords)


def test_beyond_the_wording_limit_the_newest_are_clustered_and_the_rest_reported(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(bot.insight.clusters, "MAX_WORDINGS", 3)
    texts = ["gammel a", "gammel b", "ny c", "gammel b", "ny d", "ny e"]  # oldest first
    questions = [question(i, t) for i, t in enumerate(texts)]
    with caplog.at_level(logging.WARNING, logger="bot.insight.clusters"):
        report = clustered_report(selected(questions, 10), DistinctEmbedder())
    clustered = {q.text for c in report.clusters for q in c.questions}
    # "gammel b" was asked again after "ny c": its newest question makes it one of the newest
    assert clustered == {"ny d", "ny e", "gammel b"}
    assert [q.text for q in report.unclustered] == ["gammel a", "ny c"]
    assert report.unanswered == 6
    assert "clustering only the 3 newest of 5 distinct wordings: 2 of 6 questions left out" in (
        caplog.text
    )
    csv_rows = unanswered_csv(report).splitlines()[1:]
    assert len(csv_rows) == 6 and csv_rows[-1].startswith(",,")  # no cluster, still listed


def test_the_page_and_the_cli_say_that_questions_were_left_out(
    app: Any, store: Any, client: Any, login: Any, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from types import SimpleNamespace

    import bot.web.insight
    from bot.questions import record_question
    from knowledge.search import SearchResult

    monkeypatch.setattr(bot.insight.clusters, "MAX_WORDINGS", 2)
    monkeypatch.setattr(
        bot.web.insight, "get_knowledge", lambda: SimpleNamespace(embedder=DistinctEmbedder())
    )
    with store.transaction() as s:
        for i, text in enumerate(["første emne", "andet emne", "tredje emne", "fjerde emne"]):
            q = record_question(s, f"k{i}", "0101", SearchResult(text, "fallback", []))
            assert q is not None
            q.created_at = datetime.now(UTC) - timedelta(days=1, minutes=10 - i)
    login(client, "editor")
    html = client.get("/konsol/ubesvarede").get_data(as_text=True)
    assert "<strong>4</strong> af 4 spørgsmål" in html
    assert "kun\nde 2 nyeste formuleringer er samlet i grupper" in html
    assert "2 ældre spørgsmål er ikke med i grupperne" in html
    assert "første emne" not in html.split('id="left-out"')[1]  # not in any group
    report = clustered_report(selected([question(i, t) for i, t in enumerate(
        ["a b", "c d", "e f"])], 4), DistinctEmbedder())  # fmt: skip
    print_unanswered(report, sys.stdout)
    assert "only the 2 newest distinct wordings were clustered: 1 older question is in no" in (
        capsys.readouterr().out
    )


def test_the_reason_of_small_talk_gives_way_to_what_happened_after() -> None:
    assert question(1, "fortæl en vittighed", "out_of_scope").reason == "small_talk"
    assert question(2, "hvad koster en p-licens", "out_of_scope", "handoff").reason == "handoff"
    assert question(3, "Må jeg holde høns?", "nlu_fallback").reason == "fallback"
    assert question(4, "Må jeg holde høns?", "ask_question").reason == "fallback"
    assert question(5, "Må jeg holde høns?").reason == "fallback"  # logged before 0005


def test_small_talk_is_left_out_of_the_selection_unless_asked_for(store: Any) -> None:
    from bot.questions import record_question
    from knowledge.search import SearchResult

    logged = [  # (text, decision, intent)
        ("Hvordan bestiller jeg pas?", "answer", "ask_question"),
        ("mit pas er væk", "answer", "out_of_scope"),  # small talk a guide answered: a question
        ("Må jeg holde høns?", "fallback", "nlu_fallback"),
        ("fortæl en vittighed", "fallback", "out_of_scope"),
        ("hvad hedder du", "fallback", "out_of_scope"),
        ("hundeskat", "fallback", None),
    ]
    with store.transaction() as s:
        for i, (text, decision, intent) in enumerate(logged):
            q = record_question(s, f"k{i}", "0101", SearchResult(text, decision, []),
                                intent=intent)  # fmt: skip
            assert q is not None
            q.created_at = datetime(2026, 3, 10, tzinfo=UTC) + timedelta(minutes=i)
    default = unanswered_questions(store, PERIOD)
    assert [q.text for q in default.questions] == ["Må jeg holde høns?", "hundeskat"]
    assert (default.total, default.small_talk_left_out, default.with_small_talk) == (4, 2, False)
    report = default.report([])
    assert (report.total_questions, report.small_talk_left_out, report.small_talk) == (4, 2, 0)
    everything = unanswered_questions(store, PERIOD, small_talk=True)
    assert [(q.text, q.reason) for q in everything.questions] == [
        ("Må jeg holde høns?", "fallback"), ("fortæl en vittighed", "small_talk"),
        ("hvad hedder du", "small_talk"), ("hundeskat", "fallback")]  # fmt: skip
    assert (everything.total, everything.small_talk_left_out) == (6, 0)
    report = clustered_report(everything, DistinctEmbedder())
    assert (report.unanswered, report.small_talk, report.with_small_talk) == (4, 2, True)
