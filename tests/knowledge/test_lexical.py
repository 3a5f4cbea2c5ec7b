"""knowledge.lexical: BM25 over Danish terms and character grams, coverage in [0, 1]."""

from __future__ import annotations

from collections import Counter

import pytest

from knowledge.guides import NATIONAL
from knowledge.lexical import BM25, LexicalIndex


@pytest.fixture(scope="module")
def lexical(fixture_guide_set):
    return LexicalIndex(fixture_guide_set.guides)


@pytest.fixture(scope="module")
def national_keys(fixture_guide_set):
    return {g.key for g in fixture_guide_set.guides if g.municipality == NATIONAL}


def top(scores):
    return max(scores, key=scores.get)[0]


@pytest.mark.parametrize(
    ("danish", "ascii", "slug"),
    [
        ("Mit MitID er spærret", "Mit MitID er spaerret", "mitid-spaer"),
        ("afhentning af møbler", "afhentning af moebler", "affald-storskrald"),
        ("Hvornår har I åbent?", "Hvornaar har I aabent?", "borgerservice-aabningstider"),
        ("Hvad koster et pas, når det er udløbet?", "Hvad koster et pas, naar det er udloebet?",
         "pas-bestil"),
    ],
)  # fmt: skip
def test_query_without_danish_letters_finds_the_same_guide(
    lexical, national_keys, danish, ascii, slug
):
    with_letters = lexical.search(danish, national_keys)
    without = lexical.search(ascii, national_keys)
    assert top(with_letters) == top(without) == slug
    assert without[(slug, NATIONAL)] > 0.3


@pytest.mark.parametrize(
    "question",
    [
        "Hvordan får jeg MitID?",
        "Mit MitID er spærret",
        "storskrald storskrald storskrald",
        "pas pas pas pasfoto",
        "Hvordan bestiller jeg afhentning af storskrald i København?",  # the overlay's own title
        "lystfiskertegn",
        "x",
    ],
)
def test_coverage_is_between_0_and_1(lexical, fixture_guide_set, question):
    all_keys = {g.key for g in fixture_guide_set.guides}
    scores = lexical.search(question, all_keys)
    assert all(0.0 <= s <= 1.0 for s in scores.values())


def test_unknown_words_get_low_coverage(lexical, national_keys):
    unknown = lexical.search("lystfiskertegn jagttegn", national_keys)
    known = lexical.search("Mit MitID er spærret", national_keys)
    assert max(unknown.values(), default=0.0) < 0.1
    assert max(known.values()) > 0.8


def test_unknown_word_dilutes_a_known_one(lexical, national_keys):
    plain = lexical.search("storskrald", national_keys)[("affald-storskrald", NATIONAL)]
    diluted = lexical.search("storskrald lystfiskertegn", national_keys)
    assert diluted[("affald-storskrald", NATIONAL)] < plain


@pytest.mark.parametrize("question", ["", "   ", "hvordan kan jeg", "?"])
def test_no_content_words_no_scores(lexical, national_keys, question):
    assert lexical.search(question, national_keys) == {}


def test_search_only_scores_the_given_keys(lexical):
    overlay = {("affald-storskrald", "0101")}
    scores = lexical.search("storskrald afhentning", overlay)
    assert set(scores) == overlay
    assert lexical.search("storskrald afhentning", set()) == {}


def test_overlay_matches_its_own_words(lexical, fixture_guide_set):
    keys = {("affald-storskrald", NATIONAL), ("affald-storskrald", "0101")}
    scores = lexical.search("fast afhentningsdag i gården", keys)
    assert top(scores) == "affald-storskrald"
    assert max(scores, key=scores.get) == ("affald-storskrald", "0101")


def test_needs_at_least_one_guide():
    with pytest.raises(ValueError):
        LexicalIndex([])


def test_bm25_scores_only_matching_documents_and_prefers_rarer_terms():
    bm25 = BM25({
        "a": Counter({"pas": 2, "borgerservice": 1}),
        "b": Counter({"borgerservice": 3}),
        "c": Counter({"storskrald": 1, "borgerservice": 1}),
    })  # fmt: skip
    scores = bm25.scores(["pas"])
    assert set(scores) == {"a"}
    assert bm25.idf["pas"] > bm25.idf["borgerservice"]
    assert bm25.scores(["ukendt"]) == {}
    assert bm25.scores(["pas"], keys={"b", "c"}) == {}
    # an unknown term counts like the rarest known one in the upper bound
    assert bm25.upper_bound(["ukendt"]) == pytest.approx(bm25.upper_bound(["pas"]))
    assert bm25.upper_bound(["pas", "borgerservice"]) > bm25.upper_bound(["pas"])
