"""knowledge.calibration: outcomes, fitting the thresholds, storing them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from knowledge.calibration import (
    UTILITY,
    Calibration,
    ModeCalibration,
    Scored,
    apply,
    fit_thresholds,
    mean_reciprocal_rank,
    outcome,
    summarise,
    utility,
)
from knowledge.search import decide

SLUGS = [f"guide-{i}" for i in range(8)]


def synthetic_set(seed: int = 1) -> tuple[list[Scored], list[Scored], list[Scored]]:
    """Clear in-scope questions (high, well separated top score), ambiguous in-scope questions
    (right guide second, close behind a mid score) and out-of-scope questions (low scores)."""
    rng = np.random.default_rng(seed)

    def scores(first: float, second: float) -> list[float]:
        rest = sorted(rng.uniform(second - 1.5, second - 0.2, 3), reverse=True)
        return [float(first), float(second), *map(float, rest)]

    def order(i: int) -> list[str]:
        return SLUGS[i % 8 :] + SLUGS[: i % 8]

    clear = [Scored(order(i)[0], order(i), scores(rng.uniform(4.5, 6), rng.uniform(1.5, 2.5)))
             for i in range(20)]  # fmt: skip
    ambiguous = []
    for i in range(6):
        s1 = rng.uniform(3.0, 3.5)
        ambiguous.append(Scored(order(i)[1], order(i), scores(s1, s1 - rng.uniform(0.05, 0.3))))
    oos = []
    for i in range(15):
        s1 = rng.uniform(0.5, 1.5)
        oos.append(Scored(None, order(i), scores(s1, s1 - rng.uniform(0.1, 0.5))))
    return clear, ambiguous, oos


@pytest.fixture(scope="module")
def fitted():
    clear, ambiguous, oos = synthetic_set()
    return fit_thresholds(clear + ambiguous + oos), (clear, ambiguous, oos)


def test_fit_answers_clear_questions_and_falls_back_out_of_scope(fitted):
    cal, (clear, ambiguous, oos) = fitted
    assert apply(clear, cal) == ["answered_correct"] * len(clear)
    assert apply(oos, cal) == ["oos_fallback"] * len(oos)
    # the ambiguous ones are never answered with the wrong guide
    assert "confidently_wrong" not in apply(ambiguous, cal)
    assert max(it.scores[0] for it in oos) < cal.clarify_score <= cal.answer_score
    assert cal.answer_score <= min(it.scores[0] for it in clear)


def test_fitted_thresholds_generalise_to_new_items_of_the_same_kind(fitted):
    cal, _ = fitted
    clear, _, oos = synthetic_set(seed=2)
    assert apply(clear, cal) == ["answered_correct"] * len(clear)
    # never answered; (clarify_score sits just above the highest training out-of-scope score, so
    # a new one slightly above it may be clarified: ties are broken on the answer threshold only)
    assert "oos_answered" not in apply(oos, cal)


def test_fit_maximises_utility_over_a_naive_setting(fitted):
    cal, sets = fitted
    items = [it for s in sets for it in s]
    naive = ModeCalibration(answer_score=0.0, answer_margin=0.0, clarify_score=0.0,
                            clarify_window=0.0)  # fmt: skip
    assert utility(apply(items, cal)) > utility(apply(items, naive))
    assert "oos_answered" in apply(items, naive)


@pytest.mark.parametrize(
    ("expect", "decision", "offered", "result"),
    [
        ("a", "answer", ["a"], "answered_correct"),
        ("a", "answer", ["b"], "confidently_wrong"),
        ("a", "clarify", ["b", "a"], "clarified_correct"),
        ("a", "clarify", ["b", "c", "d"], "clarified_wrong"),
        ("a", "fallback", [], "missed"),
        (None, "answer", ["a"], "oos_answered"),
        (None, "clarify", ["a", "b"], "oos_clarified"),
        (None, "fallback", [], "oos_fallback"),
    ],
)
def test_outcome(expect, decision, offered, result):
    assert outcome(Scored(expect, ["a", "b", "c"], [3.0, 2.0, 1.0]), decision, offered) == result
    assert result in UTILITY


def test_utility_punishes_a_wrong_answer_more_than_a_handoff():
    assert UTILITY["confidently_wrong"] < UTILITY["missed"] < 0 < UTILITY["answered_correct"]
    assert UTILITY["oos_answered"] < UTILITY["oos_clarified"] < UTILITY["oos_fallback"]
    assert utility(["answered_correct", "missed", "oos_fallback"]) == pytest.approx(1.8)
    assert utility([]) == 0


def test_apply_uses_the_search_decision_rule():
    cal = ModeCalibration(3.0, 1.0, 2.0, 0.5)
    items = [
        Scored("a", ["a", "b", "c"], [4.0, 2.0, 1.0]),
        Scored("c", ["a", "b", "c"], [4.0, 3.8, 1.0]),  # offered a and b
        Scored("c", ["a", "b", "c"], [1.0, 0.5, 0.4]),
    ]
    assert [decide(it.scores, cal)[0] for it in items] == ["answer", "clarify", "fallback"]
    assert apply(items, cal) == ["answered_correct", "clarified_wrong", "missed"]


def test_summarise():
    items = [Scored("a", [], []), Scored("b", [], []), Scored(None, [], []), Scored(None, [], [])]
    figures = summarise(items, ["answered_correct", "confidently_wrong", "oos_fallback",
                                "oos_answered"])  # fmt: skip
    assert figures["in_scope"] == 2 and figures["out_of_scope"] == 2
    assert figures["answered_correct_pct"] == 50.0
    assert figures["confidently_wrong_pct"] == 50.0
    assert figures["oos_correctly_not_answered_pct"] == 50.0
    assert figures["oos_false_answer_pct"] == 50.0


def test_mean_reciprocal_rank():
    items = [
        Scored("a", ["a", "b"], [2, 1]),
        Scored("a", ["b", "a"], [2, 1]),
        Scored("a", ["b", "c"], [2, 1]),
        Scored(None, ["a"], [1]),  # out of scope: not counted
    ]
    assert mean_reciprocal_rank(items) == pytest.approx((1 + 0.5 + 0) / 3)
    assert mean_reciprocal_rank([]) == 0.0


def test_save_and_load_round_trip(tmp_path):
    calibration = Calibration(
        lexical_weight=1.5,
        modes={
            "hybrid": ModeCalibration(3.1, 0.9, 2.5, 0.4),
            "lexical": ModeCalibration(0.55, 0.1, 0.5, 0.2),
        },
        model_fingerprint="abc123",
        dev_set_sha256="def456",
        figures={"hybrid": {"in_sample": {"answered_correct_pct": 71.5}}},
    )
    path = tmp_path / "calibration.json"
    calibration.save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["modes"]["hybrid"]["answer_score"] == 3.1
    loaded = Calibration.load(path)
    assert loaded == calibration
    assert loaded.for_mode("hybrid") == ModeCalibration(3.1, 0.9, 2.5, 0.4)


def test_missing_file_gives_defaults(tmp_path):
    calibration = Calibration.load(tmp_path / "none.json")
    assert calibration == Calibration()
    default = calibration.for_mode("dense")
    assert isinstance(default, ModeCalibration)
    assert default.clarify_score <= default.answer_score


def test_shipped_calibration_covers_every_mode():
    from knowledge.search import MODES

    calibration = Calibration.load()
    for mode in MODES:
        cal = calibration.modes[mode]
        assert cal.clarify_score <= cal.answer_score
        assert cal.answer_margin >= 0 and cal.clarify_window >= 0
