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
from bot.insight.unanswered import QuestionCluster, UnansweredQuestion, clustered_report

PERIOD = Period(date(2026, 3, 1), date(2026, 3, 31))


def question(i: int, text: str) -> UnansweredQuestion:
    return UnansweredQuestion(
        id=i, conversation_id=f"c{i}", municipality="0101", text=text,
        created_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=i), decision="fallback",
        outcome=None, top_slug=None, top_title=None,
    )  # fmt: skip


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
        report = clustered_report(PERIOD, None, 10, questions, DistinctEmbedder())
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
    report = clustered_report(PERIOD, None, 4, [question(i, t) for i, t in enumerate(
        ["a b", "c d", "e f"])], DistinctEmbedder())  # fmt: skip
    print_unanswered(report, sys.stdout)
    assert "only the 2 newest distinct wordings were clustered: 1 older question is in no" in (
        capsys.readouterr().out
    )
