"""knowledge.text: folding of Danish letters, index terms, stop words, character n-grams."""

from __future__ import annotations

import pytest

from knowledge.text import char_grams, fold, stop_words, terms


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("æble", "aeble"),
        ("Søborg", "soeborg"),
        ("Århus", "aarhus"),
        ("ÆØÅ", "aeoeaa"),
        ("Ændring på Søborg Ålé", "aendring paa soeborg aale"),
        ("Müller", "muller"),
        ("Hvornår", "hvornaar"),
        ("MitID", "mitid"),
        ("aeoeaa", "aeoeaa"),  # already folded: unchanged
        ("", ""),
    ],
)
def test_fold(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("danish", "ascii"),
    [
        ("spærret", "spaerret"),
        ("møbler", "moebler"),
        ("børnecheck", "boernecheck"),
        ("læge", "laege"),
        ("ansøgning", "ansoegning"),
        ("blåt sygesikringskort", "blaat sygesikringskort"),
        ("Hvornår hentes storskrald", "Hvornaar hentes storskrald"),
    ],
)
def test_terms_without_danish_letters_overlap(danish, ascii):
    with_letters, without = set(terms(danish)), set(terms(ascii))
    assert with_letters and without
    assert with_letters & without
    # every term is folded: no Danish letters reach the index
    assert not any(ch in t for t in with_letters for ch in "æøå")


def test_spaerret_keeps_the_surface_form_and_adds_the_lemma():
    assert "spaerret" in terms("spærret")
    assert "spaerret" in terms("spaerret")
    assert "spaerre" in terms("spærret")  # the lookup lemma of "spærret"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Hvordan kan jeg få et nyt pas?", {"pas"}),
        ("Hvor henter I storskrald?", {"storskrald"}),
        ("Mit MitID er spærret", {"mitid", "spaerret"}),
    ],
)
def test_stop_words_are_dropped(question, expected):
    found = set(terms(question))
    assert expected <= found
    assert not found & stop_words()
    for word in ("hvordan", "kan", "jeg", "et", "hvor", "mit", "er"):
        assert word not in found


@pytest.mark.parametrize("word", ["hvordan", "hvornaar", "jeg", "og", "ikke"])
def test_stop_words_are_folded(word):
    assert word in stop_words()


@pytest.mark.parametrize("text", ["", "   ", "?!", "hvordan kan jeg", "a b c"])
def test_no_content_words_gives_no_terms(text):
    assert terms(text) == []


def test_punctuation_is_not_a_term():
    assert terms("pas, kørekort & sundhedskort!") == terms("pas kørekort sundhedskort")


@pytest.mark.parametrize(
    ("words", "n", "grams"),
    [
        (["pas"], 4, ["<pas", "pas>"]),
        (["ab"], 4, ["<ab>"]),  # padded word no longer than n: one gram
        (["a"], 4, ["<a>"]),
        (["mitid"], 4, ["<mit", "miti", "itid", "tid>"]),
        (["mitid"], 3, ["<mi", "mit", "iti", "tid", "id>"]),
        (["pas", "ab"], 4, ["<pas", "pas>", "<ab>"]),
        ([], 4, []),
    ],
)
def test_char_grams(words, n, grams):
    assert char_grams(words, n) == grams


def test_char_grams_connect_compounds_and_typos():
    compound = set(char_grams(["parkeringslicens"]))
    assert {"lice", "icen", "cens", "ens>"} <= compound & set(char_grams(["licens"]))
    assert set(char_grams(["parkering"])) & compound >= {"<par", "park", "arke", "rker"}
    # a typo still shares most grams
    typo, right = set(char_grams(["storskrlad"])), set(char_grams(["storskrald"]))
    assert len(typo & right) >= 4
