"""KnowledgeBase: following index swaps (a new version that cannot be loaded, threads), and
`reply`, the decision the assistant replies with.

Over the fixture guides with the hashed stand-in embedder: what is tested is which version
answers, not how well."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import knowledge.search
from knowledge.calibration import Calibration, ModeCalibration
from knowledge.guides import GuideSet
from knowledge.index import CURRENT, build_index, current_version
from knowledge.search import RETRY_MIN_S, KnowledgeBase
from tests.knowledge.conftest import FakeEmbed


class FakeEmbedder:
    model_name = "fake"
    fingerprint = "fake"

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.vstack([FakeEmbed.vector(t) for t in texts]).astype(np.float32)

    embed_queries = embed_passages


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(knowledge.search.time, "monotonic", c)
    return c


def build(guide_set: GuideSet, index_dir: Path, drop: str | None = None) -> str:
    e = FakeEmbedder()
    guides = [g for g in guide_set.guides if g.slug != drop]
    report = build_index(guides, index_dir, e.embed_passages, model=e.model_name,
                         fingerprint=e.fingerprint)  # fmt: skip
    return report.version


def swap_to_broken(index_dir: Path, name: str, manifest: dict[str, Any] | str) -> None:
    """A new version that cannot be loaded, swapped in as a build would: the live version's
    vectors with a broken manifest, or with the manifest changed by `manifest`."""
    live = (index_dir / CURRENT).resolve()
    folder = index_dir / "versions" / name
    shutil.copytree(live, folder)
    if isinstance(manifest, str):
        text = manifest
    else:
        text = json.dumps({**json.loads((live / "manifest.json").read_text()), **manifest})
    (folder / "manifest.json").write_text(text, encoding="utf-8")
    tmp = index_dir / ".current-test"
    os.symlink(f"versions/{name}", tmp)
    os.replace(tmp, index_dir / CURRENT)


def slugs(kb: KnowledgeBase) -> set[str]:
    return {h.slug for h in kb.search("Hvordan spærrer jeg mit MitID?", mode="lexical").results}


@pytest.mark.parametrize(
    "manifest",
    [
        "{ not json",  # a broken manifest
        {"model": "other", "model_fingerprint": "another-model"},  # built with another model
    ],
)
def test_a_version_that_fails_to_load_leaves_the_old_one_answering(
    fixture_guide_set: GuideSet, tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch, manifest: dict[str, Any] | str,
) -> None:  # fmt: skip
    index_dir = tmp_path / "index"
    first = build(fixture_guide_set, index_dir)
    kb = KnowledgeBase(index_dir, FakeEmbedder(), Calibration())  # type: ignore[arg-type]
    swap_to_broken(index_dir, "broken", manifest)
    loads: list[str | None] = []
    real_load = knowledge.search.load_index

    def counted_load(d: Path) -> Any:
        loads.append(current_version(d))
        return real_load(d)

    monkeypatch.setattr(knowledge.search, "load_index", counted_load)
    with caplog.at_level(logging.ERROR, logger="knowledge.search"):
        assert "mitid-spaer" in slugs(kb)  # no exception: the old version answers
    assert kb.version == first and loads == ["broken"]
    assert "cannot load index version broken" in caplog.text
    assert f"still searching version {first}" in caplog.text

    for _ in range(5):  # not retried on every search
        assert "mitid-spaer" in slugs(kb)
    assert loads == ["broken"]
    clock.now += RETRY_MIN_S + 0.1  # retried after the backoff, which then grows
    slugs(kb)
    assert loads == ["broken", "broken"]
    clock.now += RETRY_MIN_S + 0.1
    slugs(kb)
    assert len(loads) == 2
    clock.now += RETRY_MIN_S * 2
    slugs(kb)
    assert len(loads) == 3

    fixed = build(fixture_guide_set, index_dir, drop="mitid-spaer")  # a good build: at once
    assert "mitid-spaer" not in slugs(kb)
    assert kb.version == fixed and loads[-1] == fixed


def test_other_threads_keep_searching_while_a_new_version_loads(
    fixture_guide_set: GuideSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    first = build(fixture_guide_set, index_dir)
    kb = KnowledgeBase(index_dir, FakeEmbedder(), Calibration())  # type: ignore[arg-type]
    second = build(fixture_guide_set, index_dir, drop="mitid-spaer")
    loading, release = threading.Event(), threading.Event()
    real_load = knowledge.search.load_index

    def slow_load(d: Path) -> Any:
        loading.set()
        assert release.wait(timeout=10)
        return real_load(d)

    monkeypatch.setattr(knowledge.search, "load_index", slow_load)
    loader = threading.Thread(target=lambda: slugs(kb))
    loader.start()
    assert loading.wait(timeout=5)
    # while the first thread loads, another searches the old version without waiting
    other: list[set[str]] = []
    searcher = threading.Thread(target=lambda: other.append(slugs(kb)))
    searcher.start()
    searcher.join(timeout=2)
    assert not searcher.is_alive() and "mitid-spaer" in other[0]
    assert kb.version == first
    release.set()
    loader.join(timeout=10)
    assert kb.version == second and "mitid-spaer" not in slugs(kb)


def test_reply_is_the_search_with_the_widgets_municipality(
    fixture_guide_set: GuideSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    build(fixture_guide_set, index_dir)
    kb = KnowledgeBase(index_dir, FakeEmbedder(), Calibration())  # type: ignore[arg-type]
    question = "Hvornår bliver storskrald hentet?"
    national = kb.search(question, None)
    for code in (None, "", "*"):
        r = kb.reply(question, code)
        assert (r.decision, [h.url for h in r.results]) == (
            national.decision, [h.url for h in national.results]
        )  # fmt: skip
    overlay = kb.reply(question, "0101")
    assert "https://www.kk.dk/storskrald" in [h.url for h in overlay.results]


def test_reply_for_a_message_not_taken_for_a_question_answers_only_when_sure(
    fixture_guide_set: GuideSet, tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    build(fixture_guide_set, index_dir)
    strict = {"answer_score": 3.0, "answer_margin": 1.0, "clarify_score": 2.0,
              "clarify_window": 0.5}  # fmt: skip

    def kb_with(**cal: float) -> KnowledgeBase:
        modes = {m: ModeCalibration(**{**strict, **cal}) for m in ("hybrid", "dense", "lexical")}
        calibration = Calibration(modes=dict(modes))
        return KnowledgeBase(index_dir, FakeEmbedder(), calibration)  # type: ignore[arg-type]

    asks = kb_with(answer_score=99.0, clarify_score=-99.0)  # never sure, always asks
    question = "Hvordan spærrer jeg mit MitID?"
    assert asks.reply(question).decision == "clarify"
    unsure = asks.reply(question, confident_only=True)
    assert (unsure.decision, unsure.candidates) == ("fallback", [])
    assert unsure.results == asks.reply(question).results  # the ranking is still shown
    sure = kb_with(answer_score=-99.0, answer_margin=-99.0)
    assert sure.reply(question, confident_only=True).decision == "answer"
