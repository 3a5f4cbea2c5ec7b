"""Group similar questions: e5 query embeddings, average-link agglomerative clustering on cosine.

The threshold is relative to the model's compressed cosine range. Raw e5 cosines of unrelated
Danish questions are high (≈0.84 with the 4-bit multilingual-e5-small we ship), so a fixed cosine
would mean something else for another model. Instead:

    base      = median pairwise cosine of BACKGROUND (24 unrelated municipal questions)
    threshold = base + RELATIVE_THRESHOLD * (1 - base)

and two groups merge while the *average* cosine between their questions is at least `threshold`.

Calibration (November 2026, the shipped model, base 0.840): 42 realistic Danish questions, 32 of
them in 11 topics of 2–4 wordings each ("Hvordan registrerer jeg min hund?" / "hvor melder jeg
at jeg har fået en hundehvalp", vielse på rådhuset, rotter, fisketegn, juletræer, kolonihave, …)
and 10 one-off questions, scored by the adjusted Rand index against the hand labels:

    RELATIVE_THRESHOLD  0.10  0.15  0.175–0.225  0.25–0.275  0.30  0.35  0.45
    threshold (cosine)  0.856 0.864 0.868–0.876  0.880–0.884 0.888 0.896 0.912
    ARI                 0.66  0.86  0.89         0.92        0.88  0.79  0.60

0.25 (cosine ≈0.880) is in the middle of the best plateau. Mixing in word or character-gram
overlap did not help (ARI ≤ 0.92 at any weight), so similarity is the embedding alone. The model
still confuses some short questions about unrelated trouble at home ("Jeg har set en rotte i
haven" vs "Jeg vil klage over snerydning": 0.896), so a cluster is a suggestion for an editor,
not a verdict. The tests use other questions than the calibration.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections.abc import Sequence
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

RELATIVE_THRESHOLD = 0.25
MAX_WORDINGS = 2000  # average linkage is O(n²) memory; beyond this the newest are kept
BACKGROUND = (
    "Hvordan bestiller jeg et nyt pas?",
    "Jeg har glemt mit bruger-id til MitID",
    "Hvordan melder jeg flytning?",
    "Hvornår bliver storskrald hentet?",
    "Hvordan søger jeg boligstøtte?",
    "Hvad er åbningstiderne i Borgerservice?",
    "Jeg skal forny mit kørekort",
    "Hvordan skifter jeg læge?",
    "Kan jeg blive fritaget for Digital Post?",
    "Hvordan søger jeg om byggetilladelse til en carport?",
    "Hvornår udbetales børne- og ungeydelse?",
    "Jeg har mistet mit sygesikringskort",
    "Hvordan får jeg hjemmehjælp til min mor?",
    "Hvordan skriver jeg mit barn op til vuggestue?",
    "Hvad gør jeg når et familiemedlem er død?",
    "Hvordan får jeg en NemKonto?",
    "Jeg vil søge kontanthjælp",
    "Der er et hul i vejen",
    "Hvordan stemmer jeg hjemmefra?",
    "Hvordan skifter jeg navn?",
    "Hvornår får jeg folkepension?",
    "Jeg skal flytte til udlandet",
    "Hvordan får jeg adressebeskyttelse?",
    "Hvad koster en beboerlicens til parkering?",
)


class QueryEmbedder(Protocol):
    """knowledge.embedder.Embedder: unit vectors with e5's "query: " prefix."""

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...


_bases: weakref.WeakKeyDictionary[object, float] = weakref.WeakKeyDictionary()
_vectors: weakref.WeakKeyDictionary[object, dict[str, np.ndarray]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
MAX_CACHED = 50_000


def embed(embedder: QueryEmbedder, texts: list[str]) -> np.ndarray:
    """Query vectors, cached per embedder and text: a report page reloaded embeds nothing new."""
    with _lock:
        cache = _vectors.setdefault(embedder, {})
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
    if missing:
        fresh = embedder.embed_queries(missing)
        with _lock:
            if len(cache) + len(missing) > MAX_CACHED:
                cache.clear()
            cache.update(zip(missing, fresh, strict=True))
            return np.stack([cache[t] for t in texts])
    with _lock:
        return np.stack([cache[t] for t in texts])


def background_cosine(embedder: QueryEmbedder) -> float:
    """Median cosine between unrelated questions for this model (computed once per embedder)."""
    with _lock:
        cached = _bases.get(embedder)
    if cached is not None:
        return cached
    vectors = embedder.embed_queries(list(BACKGROUND))
    sims = vectors @ vectors.T
    base = float(np.median(sims[np.triu_indices(len(BACKGROUND), 1)]))
    with _lock:
        _bases[embedder] = base
    return base


def threshold_for(embedder: QueryEmbedder, relative: float = RELATIVE_THRESHOLD) -> float:
    """The cosine at which questions count as similar (see the module docstring)."""
    base = background_cosine(embedder)
    return base + relative * (1.0 - base)


_PUNCT = re.compile(r"[\s?!.,;:]+$")


def normalise(text: str) -> str:
    """The wording as a key: lower case, single spaces, no trailing punctuation."""
    return _PUNCT.sub("", " ".join(text.lower().split()))


def cluster_vectors(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Average-link clusters of unit vectors: groups merge while their mean cosine ≥ threshold.
    Returns index lists, largest first (ties: earliest member first)."""
    n = len(vectors)
    if n == 0:
        return []
    if n == 1:
        return [[0]]
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    distances = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0).astype(np.float64)
    np.fill_diagonal(distances, 0.0)
    distances = (distances + distances.T) / 2  # exact symmetry for squareform
    tree = linkage(squareform(distances, checks=False), method="average")
    labels = fcluster(tree, t=1.0 - threshold, criterion="distance")
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def cluster_texts(
    texts: Sequence[str],
    embedder: QueryEmbedder,
    relative: float = RELATIVE_THRESHOLD,
) -> list[list[int]]:
    """Clusters of `texts` as index lists, largest (most questions) first.

    Identical wordings (after `normalise`) are embedded once and always share a cluster; the
    clustering runs over distinct wordings, at most MAX_WORDINGS of them: with more, only the
    newest (`texts` are oldest first) are clustered and the questions of the others are in no
    cluster (logged; the report tells the editor).
    """
    by_wording: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        by_wording.setdefault(normalise(text), []).append(i)
    wordings = list(by_wording)
    if len(wordings) > MAX_WORDINGS:
        wordings = sorted(wordings, key=lambda w: by_wording[w][-1])[-MAX_WORDINGS:]
        left_out = len(texts) - sum(len(by_wording[w]) for w in wordings)
        log.warning(
            "clustering only the %d newest of %d distinct wordings: %d of %d questions left out",
            MAX_WORDINGS, len(by_wording), left_out, len(texts),
        )  # fmt: skip
    wordings.sort(key=lambda w: (-len(by_wording[w]), by_wording[w][0]))
    if not wordings:
        return []
    # Embed one original text per wording: the model sees what the citizen wrote.
    vectors = embed(embedder, [texts[by_wording[w][0]] for w in wordings])
    threshold = threshold_for(embedder, relative) if len(wordings) > 1 else 1.0
    clusters = [
        sorted(i for k in group for i in by_wording[wordings[k]])
        for group in cluster_vectors(vectors, threshold)
    ]
    return sorted(clusters, key=lambda c: (-len(c), c[0]))


def representatives(
    texts: Sequence[str], members: Sequence[int], embedder: QueryEmbedder, limit: int = 5
) -> list[str]:
    """Up to `limit` distinct wordings of a cluster, most typical first: the most frequent
    wording, ties broken by closeness to the cluster's mean vector."""
    counts: dict[str, int] = {}
    first: dict[str, str] = {}
    for i in members:
        key = normalise(texts[i])
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, " ".join(texts[i].split()))
    keys = list(counts)
    if len(keys) == 1:
        return [first[keys[0]]]
    vectors = embed(embedder, [first[k] for k in keys])
    centre = vectors.mean(axis=0)
    closeness = vectors @ centre
    order = sorted(range(len(keys)), key=lambda k: (-counts[keys[k]], -float(closeness[k])))
    return [first[keys[k]] for k in order[:limit]]
