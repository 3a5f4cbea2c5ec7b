"""Danish text normalisation for the lexical index: spaCy's `da` tokenizer and lookup lemmatizer
(from spacy-lookups-data), lower-casing, and folding æ/ø/å to ae/oe/aa so that citizens who type
without Danish letters match the same terms.
"""

from __future__ import annotations

import itertools
import re
import sys
from functools import lru_cache
from typing import Any

FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u", "ö": "oe", "ä": "ae"})
WORD = re.compile(r"\w", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case and fold Danish letters: 'Ændring på Søborg Ålé' → 'aendring paa soeborg aale'."""
    return text.lower().translate(FOLD)


@lru_cache(maxsize=1)
def _nlp() -> Any:
    # thinc imports TensorFlow when it can, which costs seconds and ~0.5 GB for a tokenizer we run
    # without it. Hide it during the import only, so a process that wants TF (Rasa) still gets it.
    hidden = "tensorflow" not in sys.modules
    if hidden:
        sys.modules["tensorflow"] = None  # type: ignore[assignment]
    try:
        import spacy
    finally:
        if hidden:
            del sys.modules["tensorflow"]
    nlp = spacy.blank("da")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    words = set(_nlp().Defaults.stop_words)
    # Question words and fillers that say nothing about the topic of a citizen's question.
    words |= {
        "hvordan", "hvad", "hvor", "hvornår", "hvem", "hvilken", "hvilke", "kan", "skal", "gerne",
        "ville", "vil", "få", "får", "gøre", "gør", "ikke", "min", "mit", "mine", "jeg", "du",
        "man", "hej", "tak", "bare", "lige", "nu", "godt", "bliver", "blive",
    }  # fmt: skip
    return frozenset(fold(w) for w in words)


def terms(text: str) -> list[str]:
    """Index terms: folded surface form and folded lemma of every content word.

    Both forms, because the lookup lemmatizer is sometimes wrong ("adresser" → "adressere") and
    a surface match is then still a match.
    """
    out: list[str] = []
    stops = stop_words()
    for token in _nlp()(text):
        if not WORD.search(token.text):
            continue
        surface = fold(token.text)
        if surface in stops or len(surface) < 2:
            continue
        out.append(surface)
        lemma = fold(token.lemma_ or token.text)
        if lemma != surface and lemma not in stops:
            out.append(lemma)
    return out


def phrase_terms(text: str) -> set[str]:
    """Folded words (stop words kept) and word pairs: how a question is *phrased*, which guide
    titles are written to match ("Hvordan får jeg MitID?")."""
    words = [fold(t.text) for t in _nlp()(text) if WORD.search(t.text)]
    return set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}


def char_grams(words: list[str], n: int = 4) -> list[str]:
    """Character n-grams inside each word (with boundary marks): Danish compounds such as
    'parkeringslicens' then share grams with 'licens' and 'parkering', and typos still overlap."""
    grams: list[str] = []
    for word in words:
        padded = f"<{word}>"
        if len(padded) <= n:
            grams.append(padded)
        else:
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams
