"""Hybrid search over guides and the answer / clarify / fallback decision.

Scores, per guide (a guide's dense score is its best passage):
- dense: e5 cosine, standardised *within the question* (z-score against all guides). Raw e5
  cosines are compressed (unrelated text still scores ~0.83), so only how far the best guide
  stands out from the rest carries information.
- lexical: BM25 coverage in [0, 1] of the question's Danish terms and character grams.
- title: share of the question's words and word pairs in the guide title (titles are written
  the way citizens ask).
- hybrid: z + lexical_weight * coverage + title_weight * title; lexical: coverage + title part.
The decision thresholds and the lexical weight come from `calibration.json` (see calibration.py).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from knowledge.calibration import Calibration, ModeCalibration
from knowledge.embedder import Embedder
from knowledge.guides import NATIONAL
from knowledge.index import GuideRecord, IndexData, current_version, load_index
from knowledge.lexical import LexicalIndex
from knowledge.settings import KnowledgeSettings

Mode = Literal["hybrid", "dense", "lexical"]
Decision = Literal["answer", "clarify", "fallback"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "lexical")
TOP_K = 5
RETRY_MIN_S, RETRY_MAX_S = 2.0, 120.0  # backoff for an index version that fails to load

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    slug: str
    title: str
    url: str
    owner: str
    category: str
    summary: str
    municipality: str
    score: float
    dense: float  # raw cosine of the best passage
    lexical: float  # coverage
    section: str  # the best passage's section
    passage: str


@dataclass(frozen=True)
class SearchResult:
    question: str
    decision: Decision
    results: list[Hit]
    # the guides to offer: one for `answer`, 2-3 for `clarify`, none for `fallback`
    candidates: list[Hit] = field(default_factory=list)
    mode: Mode = "hybrid"
    latency_ms: float = 0.0

    @property
    def best(self) -> Hit | None:
        return self.results[0] if self.results else None


@dataclass(frozen=True)
class Features:
    visible: np.ndarray  # positions of the guides this municipality sees
    z: np.ndarray  # dense cosine standardised over the visible guides
    dense: np.ndarray  # raw cosine of each guide's best passage
    lexical: np.ndarray  # lexical coverage in [0, 1]
    title: np.ndarray  # share of the question's words and word pairs found in the title
    best_passage: np.ndarray  # position of each guide's best passage (-1 without dense)


def visible_keys(guides: list[GuideRecord], municipality: str | None) -> list[int]:
    """Positions of national guides, with a municipality's own guides replacing them by slug."""
    chosen: dict[str, int] = {}
    for i, g in enumerate(guides):
        if g.municipality == NATIONAL:
            chosen.setdefault(g.slug, i)
    if municipality and municipality != NATIONAL:
        for i, g in enumerate(guides):
            if g.municipality == municipality:
                chosen[g.slug] = i
    return sorted(chosen.values())


def decide(scores: list[float], cal: ModeCalibration) -> tuple[Decision, int]:
    """The decision and how many of the ranked guides to offer."""
    if not scores:
        return "fallback", 0
    s1 = scores[0]
    margin = s1 - scores[1] if len(scores) > 1 else s1
    if s1 >= cal.answer_score and margin >= cal.answer_margin:
        return "answer", 1
    if s1 >= cal.clarify_score and len(scores) > 1:
        close = sum(1 for s in scores[:3] if s >= s1 - cal.clarify_window)
        return "clarify", max(2, close)
    return "fallback", 0


class Searcher:
    """Search one loaded index version. Stateless per call; safe to share between threads."""

    def __init__(self, index: IndexData, embedder: Embedder | None, calibration: Calibration):
        if embedder is not None and embedder.fingerprint != index.model_fingerprint:
            raise ValueError(
                f"index {index.version} was built with model {index.model_fingerprint[:12]}, "
                f"not {embedder.fingerprint[:12]}; rebuild it with `python -m knowledge build`"
            )
        if not index.guides:
            raise ValueError("the index has no guides")
        self.index = index
        self.embedder = embedder
        self.calibration = calibration
        self.lexical = LexicalIndex([g.as_guide() for g in index.guides])
        self._owner = index.passage_guide()
        self._position = {g.key: i for i, g in enumerate(index.guides)}

    def features(self, question: str, municipality: str | None, mode: Mode) -> Features:
        """Per-guide dense cosine, its within-question z-score, and lexical coverage."""
        visible = np.array(visible_keys(self.index.guides, municipality))
        n = len(self.index.guides)
        dense = np.zeros(n, dtype=np.float32)
        z = np.zeros(n, dtype=np.float32)
        best_passage = np.full(n, -1, dtype=np.int64)
        if mode != "lexical":
            if self.embedder is None:
                raise ValueError(f"mode {mode!r} needs the embedding model")
            qv = self.embedder.embed_queries([question])[0]
            sims = self.index.vectors @ qv  # a flat scan is exact and ~0.1 ms at this size
            for p in np.argsort(-sims):
                g = int(self._owner[p])
                if best_passage[g] < 0:
                    dense[g], best_passage[g] = sims[p], p
            d = dense[visible]
            z[visible] = (d - d.mean()) / (d.std() + 1e-6)
        lexical = np.zeros(n, dtype=np.float32)
        title = np.zeros(n, dtype=np.float32)
        if mode != "dense":
            keys = {self.index.guides[i].key for i in visible}
            for key, cov in self.lexical.search(question, keys).items():
                lexical[self._position[key]] = cov
            for key, share in self.lexical.title_match(question, keys).items():
                title[self._position[key]] = share
        return Features(visible, z, dense, lexical, title, best_passage)

    def fused(
        self,
        f: Features,
        mode: Mode,
        lexical_weight: float | None = None,
        title_weight: float | None = None,
    ) -> np.ndarray:
        cal = self.calibration
        w_title = cal.title_weight if title_weight is None else title_weight
        if mode == "dense":
            return f.z
        if mode == "lexical":
            return f.lexical + w_title * f.title
        w_lex = cal.lexical_weight if lexical_weight is None else lexical_weight
        return f.z + w_lex * f.lexical + w_title * f.title

    def guide(self, slug: str, municipality: str | None = None) -> Hit | None:
        """The guide a citizen picked from "Mente du …?", as this municipality sees it."""
        for i in visible_keys(self.index.guides, municipality):
            g = self.index.guides[i]
            if g.slug == slug:
                return Hit(
                    slug=g.slug, title=g.title, url=g.url, owner=g.owner, category=g.category,
                    summary=g.summary, municipality=g.municipality, score=0.0, dense=0.0,
                    lexical=0.0, section="", passage=g.summary,
                )  # fmt: skip
        return None

    def search(
        self, question: str, municipality: str | None = None, mode: Mode = "hybrid"
    ) -> SearchResult:
        started = time.perf_counter()
        question = " ".join(question.split())
        if not question:
            return SearchResult(question, "fallback", [], [], mode)
        f = self.features(question, municipality, mode)
        fused, dense, lexical = self.fused(f, mode), f.dense, f.lexical
        ranked = sorted(f.visible.tolist(), key=lambda i: -fused[i])[:TOP_K]
        hits = []
        for i in ranked:
            g = self.index.guides[i]
            p = self.index.passages[f.best_passage[i]] if f.best_passage[i] >= 0 else None
            hits.append(Hit(
                slug=g.slug, title=g.title, url=g.url, owner=g.owner, category=g.category,
                summary=g.summary, municipality=g.municipality, score=round(float(fused[i]), 4),
                dense=round(float(dense[i]), 4), lexical=round(float(lexical[i]), 4),
                section=p.section if p else "", passage=p.text if p else g.summary,
            ))  # fmt: skip
        decision, n_offer = decide([h.score for h in hits], self.calibration.for_mode(mode))
        return SearchResult(
            question=question,
            decision=decision,
            results=hits,
            candidates=hits[:n_offer],
            mode=mode,
            latency_ms=(time.perf_counter() - started) * 1000,
        )


class KnowledgeBase:
    """The model loaded once, and the newest index version, reloaded when a build swaps it in.

    `search` checks the `current` link (one readlink). The first thread to see a new version
    loads it, outside the lock, while the others go on searching the version they have; the swap
    is one assignment under the lock. A version that fails to load (another model, a broken
    manifest) is logged and retried with backoff, and the old version keeps answering meanwhile.
    """

    def __init__(
        self, index_dir: Path, embedder: Embedder, calibration: Calibration | None = None
    ) -> None:
        self.index_dir = index_dir
        self.embedder = embedder
        self.calibration = calibration or Calibration.load()
        self._lock = threading.Lock()
        self._searcher = Searcher(load_index(index_dir), embedder, self.calibration)
        self._loading = False
        self._failed: str | None = None  # the version that last failed to load
        self._backoff = 0.0
        self._retry_at = 0.0

    @classmethod
    def from_settings(cls, settings: KnowledgeSettings) -> KnowledgeBase:
        from knowledge.model import resolve_model

        return cls(settings.index_dir, Embedder(resolve_model(settings)))

    @property
    def searcher(self) -> Searcher:
        self.refresh()
        return self._searcher

    @property
    def version(self) -> str:
        return self._searcher.index.version

    def refresh(self) -> bool:
        """Load a newer index version if one was swapped in; True if it did."""
        target = current_version(self.index_dir)
        if target is None or target == self._searcher.index.version:
            return False
        with self._lock:
            if self._loading or target == self._searcher.index.version:
                return False  # another thread is loading it, or just has
            if target == self._failed and time.monotonic() < self._retry_at:
                return False
            self._loading = True
        try:
            searcher = Searcher(load_index(self.index_dir), self.embedder, self.calibration)
        except Exception as exc:
            self._failed_to_load(target, exc)
            return False
        except BaseException:
            self._loading = False
            raise
        with self._lock:
            self._loading = False
            self._failed, self._backoff = None, 0.0
            self._searcher = searcher
        log.info("index version %s loaded", searcher.index.version)
        return True

    def _failed_to_load(self, version: str, exc: Exception) -> None:
        with self._lock:
            self._loading = False
            again = version == self._failed
            self._backoff = min(RETRY_MAX_S, self._backoff * 2) if again else RETRY_MIN_S
            self._failed, self._retry_at = version, time.monotonic() + self._backoff
            backoff = self._backoff
        log.error(
            "cannot load index version %s (%s: %s); still searching version %s, retrying in "
            "%.0f s", version, type(exc).__name__, exc, self._searcher.index.version, backoff,
        )  # fmt: skip

    def search(
        self, question: str, municipality: str | None = None, mode: Mode = "hybrid"
    ) -> SearchResult:
        return self.searcher.search(question, municipality, mode)

    def reply(
        self, question: str, municipality: str | None = None, *, confident_only: bool = False
    ) -> SearchResult:
        """The search and decision the assistant replies to a citizen with. The answer action
        and the editor's "Prøv et spørgsmål" both call this, so the editor sees the bot's verdict.

        `municipality`: the widget's code; None, "" or "*" for the national guides only.
        `confident_only`: the message was taken for small talk (the answer action passes it for
        the NLU's out_of_scope only): only a confident match is answered, and "Mente du …?"
        becomes fallback.
        """
        code = None if municipality in (None, "", NATIONAL) else municipality
        result = self.search(question, code)
        if confident_only and result.decision == "clarify":
            return dataclasses.replace(result, decision="fallback", candidates=[])
        return result
