"""A small BM25 index per guide over Danish terms and character n-grams.

Fields are weighted by repetition (title and keywords count more than body text). Two channels:
whole terms (precise) and character 4-grams (compounds, typos); their scores are added.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass

from knowledge.guides import Guide
from knowledge.text import char_grams, phrase_terms, terms

TITLE_WEIGHT = 3
KEYWORD_WEIGHT = 3
SUMMARY_WEIGHT = 2
GRAM_WEIGHT = 0.5  # grams overlap and repeat what whole terms say; they refine, not dominate


@dataclass(frozen=True)
class _Doc:
    tf: Counter[str]
    length: int


class BM25:
    def __init__(self, docs: dict[Hashable, Counter[str]], k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.docs = {key: _Doc(tf, sum(tf.values())) for key, tf in docs.items()}
        n = len(self.docs) or 1
        self.avg_len = sum(d.length for d in self.docs.values()) / n or 1.0
        df: Counter[str] = Counter()
        for d in self.docs.values():
            df.update(d.tf.keys())
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}

    def upper_bound(self, query: list[str]) -> float:
        """The score of a perfect match. Terms the guides never use count as rare terms, so a
        question full of unknown words ("lystfiskertegn") gets low coverage everywhere."""
        rare = max(self.idf.values(), default=1.0)
        return sum(self.idf.get(t, rare) * (self.k1 + 1) for t in query)

    def scores(self, query: list[str], keys: set | None = None) -> dict:
        q = Counter(t for t in query if t in self.idf)
        out = {}
        for key, d in self.docs.items():
            if keys is not None and key not in keys:
                continue
            s = 0.0
            norm = self.k1 * (1 - self.b + self.b * d.length / self.avg_len)
            for term, qtf in q.items():
                tf = d.tf.get(term)
                if tf:
                    s += qtf * self.idf[term] * tf * (self.k1 + 1) / (tf + norm)
            if s > 0:
                out[key] = s
        return out


def guide_terms(guide: Guide) -> list[str]:
    words = (
        terms(guide.title) * TITLE_WEIGHT
        + terms(" ; ".join(guide.keywords)) * KEYWORD_WEIGHT
        + terms(guide.summary) * SUMMARY_WEIGHT
        + terms(guide.body)
    )
    return words


class LexicalIndex:
    """BM25 over guides, keyed by (slug, municipality)."""

    def __init__(self, guides: list[Guide]) -> None:
        if not guides:
            raise ValueError("a lexical index needs at least one guide")
        word_docs: dict[Hashable, Counter[str]] = {}
        gram_docs: dict[Hashable, Counter[str]] = {}
        for g in guides:
            words = guide_terms(g)
            word_docs[g.key] = Counter(words)
            gram_docs[g.key] = Counter(char_grams(words))
        self._titles = {g.key: phrase_terms(g.title) for g in guides}
        self._words = BM25(word_docs)
        self._grams = BM25(gram_docs)

    def title_match(
        self, question: str, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], float]:
        """Dice overlap of words and word pairs between question and title: 1.0 when the
        question is phrased as the title, lower when either has words the other lacks."""
        q = phrase_terms(question)
        if not q:
            return {}
        return {k: 2 * len(q & t) / (len(q) + len(t)) for k in keys if q & (t := self._titles[k])}

    def search(self, question: str, keys: set[tuple[str, str]]) -> dict[tuple[str, str], float]:
        """Coverage in [0, 1]: how much of the question (weighted by rarity) the guide matches."""
        q_terms = terms(question)
        if not q_terms:
            return {}
        q_grams = char_grams(q_terms)
        words = self._words.scores(q_terms, keys)
        grams = self._grams.scores(q_grams, keys)
        upper = self._words.upper_bound(q_terms) + GRAM_WEIGHT * self._grams.upper_bound(q_grams)
        return {
            k: (words.get(k, 0.0) + GRAM_WEIGHT * grams.get(k, 0.0)) / upper
            for k in set(words) | set(grams)
        }
