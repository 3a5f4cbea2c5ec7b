"""knowledge.search: ranking, municipality overlays, the answer/clarify/fallback decision and
reloading of new index versions."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from knowledge.calibration import Calibration, ModeCalibration
from knowledge.guides import NATIONAL
from knowledge.index import build_index, load_index
from knowledge.search import TOP_K, KnowledgeBase, Searcher, decide, visible_keys

NATIONAL_URL = "https://www.borger.dk/storskrald"
OVERLAY_URL = "https://www.kk.dk/storskrald"

CAL = ModeCalibration(answer_score=3.0, answer_margin=1.0, clarify_score=2.0, clarify_window=0.5)


# --- decide ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([4.0, 2.5, 2.0], ("answer", 1)),
        ([3.0, 2.0, 1.0], ("answer", 1)),  # both thresholds are inclusive
        ([4.0], ("answer", 1)),  # a lone guide: its score is its margin
        ([4.0, 3.5, 1.0], ("clarify", 2)),  # strong but not clear of the runner-up
        ([4.0, 3.8, 3.6, 3.55], ("clarify", 3)),  # at most three offered
        ([2.5, 2.4, 0.5], ("clarify", 2)),  # too weak to answer, strong enough to ask
        ([2.5, 0.5, 0.4], ("clarify", 2)),  # always at least two options
        ([3.5, 2.9, 2.8], ("clarify", 2)),  # margin 0.6 < 1.0; 2.9 outside the 0.5 window
        ([2.0, 1.9], ("clarify", 2)),
        ([2.5], ("fallback", 0)),  # nothing to choose between
        ([1.99, 1.0], ("fallback", 0)),
        ([-1.0, -2.0], ("fallback", 0)),
        ([], ("fallback", 0)),
    ],
)
def test_decide(scores, expected):
    assert decide(scores, CAL) == expected


# --- over a fake-embedded index (no model needed) -------------------------------------------


@pytest.fixture(scope="module")
def fake_index(fixture_guide_set, fake_embed_class, tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("fake-index")
    build_index(fixture_guide_set.guides, index_dir, fake_embed_class(), model="fake",
                fingerprint="fake")  # fmt: skip
    return load_index(index_dir)


def test_visible_keys(fake_index):
    guides = fake_index.guides
    national = visible_keys(guides, None)
    overlay = visible_keys(guides, "0101")
    assert [guides[i].municipality for i in national] == [NATIONAL] * 5
    assert len(overlay) == 5
    assert {guides[i].key for i in overlay} - {guides[i].key for i in national} == {
        ("affald-storskrald", "0101")
    }
    assert visible_keys(guides, "0202") == national == visible_keys(guides, NATIONAL)


@pytest.mark.parametrize(
    ("question", "slug"),
    [
        ("Mit MitID er spærret", "mitid-spaer"),
        ("Hvad koster et nyt pas?", "pas-bestil"),
        ("afhentning af moebler", "affald-storskrald"),
        ("Hvornaar har I aabent?", "borgerservice-aabningstider"),
    ],
)
def test_lexical_mode_needs_no_model(fake_index, question, slug):
    result = Searcher(fake_index, None, Calibration()).search(question, mode="lexical")
    assert result.best.slug == slug
    assert result.mode == "lexical"
    assert len(result.results) <= TOP_K


@pytest.mark.parametrize(("municipality", "url"), [(None, NATIONAL_URL), ("0101", OVERLAY_URL)])
def test_lexical_mode_applies_overlays(fake_index, municipality, url):
    searcher = Searcher(fake_index, None, Calibration())
    result = searcher.search("storskrald afhentning", municipality, mode="lexical")
    assert result.best.slug == "affald-storskrald"
    assert result.best.url == url
    assert [h.slug for h in result.results].count("affald-storskrald") == 1


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_dense_modes_need_the_model(fake_index, mode):
    with pytest.raises(ValueError, match="embedding model"):
        Searcher(fake_index, None, Calibration()).search("nyt pas", mode=mode)


def test_index_from_another_model_is_refused(fake_index):
    other = SimpleNamespace(fingerprint="not-the-fake-model")
    with pytest.raises(ValueError, match="rebuild"):
        Searcher(fake_index, other, Calibration())  # type: ignore[arg-type]


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_falls_back_without_searching(fake_index, question):
    # hybrid mode would need the model: an empty question must not get that far
    result = Searcher(fake_index, None, Calibration()).search(question)
    assert (result.decision, result.results, result.candidates) == ("fallback", [], [])


# --- with the real embedder over the fixture guides ------------------------------------------


@pytest.fixture(scope="module")
def real_index_dir(fixture_guide_set, embedder, tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("real-index")
    build_index(fixture_guide_set.guides, index_dir, embedder.embed_passages,
                model=embedder.model_name, fingerprint=embedder.fingerprint)  # fmt: skip
    return index_dir


@pytest.fixture(scope="module")
def searcher(real_index_dir, embedder):
    return Searcher(load_index(real_index_dir), embedder, Calibration.load())


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "dense"])
@pytest.mark.parametrize(
    ("question", "slug"),
    [
        ("Hvordan får jeg MitID?", "mitid-opret"),
        ("Jeg har mistet min telefon, hvordan spærrer jeg mit MitID?", "mitid-spaer"),
        ("Mit pas er udløbet, hvordan får jeg et nyt?", "pas-bestil"),
        ("Hvordan bestiller jeg afhentning af storskrald?", "affald-storskrald"),
        ("Hvornår har Borgerservice åbent?", "borgerservice-aabningstider"),
    ],
)
def test_right_guide_ranks_first(searcher, question, slug, mode):
    result = searcher.search(question, mode=mode)
    assert result.best.slug == slug
    scores = [h.score for h in result.results]
    assert scores == sorted(scores, reverse=True)
    assert len(result.results) == 5  # five visible guides, TOP_K of them
    assert result.decision in ("answer", "clarify", "fallback")
    assert len(result.candidates) == {"answer": 1, "fallback": 0}.get(
        result.decision, len(result.candidates)
    )
    assert result.latency_ms > 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("municipality", "url", "owner_municipality"),
    [
        (None, NATIONAL_URL, NATIONAL),
        ("0202", NATIONAL_URL, NATIONAL),
        ("0101", OVERLAY_URL, "0101"),
    ],
)
def test_municipality_overlay(searcher, municipality, url, owner_municipality):
    result = searcher.search("Hvordan bestiller jeg storskrald?", municipality)
    assert result.best.slug == "affald-storskrald"
    assert result.best.url == url
    assert result.best.municipality == owner_municipality
    assert [h.slug for h in result.results].count("affald-storskrald") == 1


@pytest.mark.slow
def test_hit_names_the_passage_that_matched(searcher):
    hit = searcher.search("Hvad skal jeg have med for at få MitID i appen?").best
    assert hit.slug == "mitid-opret"
    assert hit.section and hit.passage
    assert hit.title == "Hvordan får jeg MitID?"
    assert hit.url == "https://www.mitid.dk/"
    assert 0.0 < hit.dense <= 1.0 and 0.0 <= hit.lexical <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_falls_back(searcher, question):
    result = searcher.search(question)
    assert result.decision == "fallback"
    assert result.results == [] and result.best is None


@pytest.mark.slow
def test_knowledge_base_picks_up_a_rebuild(fixture_guide_set, embedder, tmp_path):
    index_dir = tmp_path / "index"
    guides = list(fixture_guide_set.guides)

    def build(guides):
        return build_index(guides, index_dir, embedder.embed_passages,
                           model=embedder.model_name, fingerprint=embedder.fingerprint)  # fmt: skip

    first = build(guides)
    kb = KnowledgeBase(index_dir, embedder, Calibration())
    assert kb.version == first.version
    assert kb.refresh() is False  # nothing new yet
    assert kb.search("Hvad koster et nyt pas?").best.url == "https://www.borger.dk/pas"
    searcher_before = kb.searcher

    new_url = "https://www.borger.dk/pas-ny-adresse"
    second = build([dataclasses.replace(g, url=new_url) if g.slug == "pas-bestil" else g
                    for g in guides])  # fmt: skip
    assert second.changed and second.embedded_guides == 1
    assert kb.version == first.version  # not reloaded until asked

    assert kb.refresh() is True
    assert kb.version == second.version
    assert kb.refresh() is False
    assert kb.search("Hvad koster et nyt pas?").best.url == new_url
    # a search that already held the old searcher keeps its version
    assert searcher_before.index.version == first.version
    assert searcher_before.search("Hvad koster et nyt pas?").best.url == "https://www.borger.dk/pas"


@pytest.mark.slow
def test_knowledge_base_search_reloads_by_itself(fixture_guide_set, embedder, tmp_path):
    index_dir = tmp_path / "index"
    build_index(fixture_guide_set.guides, index_dir, embedder.embed_passages,
                model=embedder.model_name, fingerprint=embedder.fingerprint)  # fmt: skip
    kb = KnowledgeBase(index_dir, embedder, Calibration())
    without_spaer = [g for g in fixture_guide_set.guides if g.slug != "mitid-spaer"]
    report = build_index(without_spaer, index_dir, embedder.embed_passages,
                         model=embedder.model_name, fingerprint=embedder.fingerprint)  # fmt: skip
    result = kb.search("Hvordan spærrer jeg mit MitID?")
    assert kb.version == report.version
    assert "mitid-spaer" not in {h.slug for h in result.results}
