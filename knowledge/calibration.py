"""Decision thresholds: how they are stored, and the procedure that fits them.

Procedure (`python -m knowledge calibrate FILE.jsonl`), the same for every mode:
1. Score every question of the labelled set once (in-scope items name their guide, out-of-scope
   items have `expect: null`).
2. Choose the lexical and title weights from fixed grids (LEXICAL_WEIGHTS x TITLE_WEIGHTS) by
   the utility of step 3 after fitting thresholds, then by mean reciprocal rank of the expected
   guide; the weights are shared by all modes that use them.
3. Choose the four thresholds (answer score, answer margin, clarify score, clarify window) from
   grids of quantiles of the observed scores, maximising one utility that encodes "a wrong
   confident answer is worse than a handoff" (UTILITY below). Ties go to the most cautious
   setting (highest answer threshold).
4. Report the in-sample figures and 5-fold cross-validated figures (thresholds fitted on four
   folds, scored on the fifth), which estimate quality on unseen questions.
Nothing here looks at individual questions or slugs; only these aggregate scores.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration.json"

# Points per outcome. In scope: answered with the right guide / right guide among the clarify
# options / answered with a wrong guide / clarified without the right guide / fell back.
# Out of scope: fell back / clarified / answered.
UTILITY = {
    "answered_correct": 1.0,
    "clarified_correct": 0.6,
    "confidently_wrong": -4.0,
    "clarified_wrong": -0.3,
    "missed": -0.2,
    "oos_fallback": 1.0,
    "oos_clarified": -0.5,
    "oos_answered": -2.0,
}
LEXICAL_WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
TITLE_WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)


@dataclass(frozen=True)
class ModeCalibration:
    answer_score: float
    answer_margin: float
    clarify_score: float
    clarify_window: float


# Reasonable values for an uncalibrated install; `calibrate` replaces them.
_DEFAULT = ModeCalibration(answer_score=3.0, answer_margin=0.8, clarify_score=2.2,
                           clarify_window=0.6)  # fmt: skip


@dataclass(frozen=True)
class Calibration:
    lexical_weight: float = 2.0
    title_weight: float = 0.0
    modes: dict[str, ModeCalibration] = field(default_factory=dict)
    model_fingerprint: str = ""
    dev_set_sha256: str = ""
    figures: dict = field(default_factory=dict)

    def for_mode(self, mode: str) -> ModeCalibration:
        return self.modes.get(mode, _DEFAULT)

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            lexical_weight=float(raw["lexical_weight"]),
            title_weight=float(raw.get("title_weight", 0.0)),
            modes={m: ModeCalibration(**v) for m, v in raw["modes"].items()},
            model_fingerprint=raw.get("model_fingerprint", ""),
            dev_set_sha256=raw.get("dev_set_sha256", ""),
            figures=raw.get("figures", {}),
        )

    def save(self, path: Path = CALIBRATION_FILE) -> None:
        data = asdict(self)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Scored:
    """One labelled question: ranked slugs and fused scores (best first)."""

    expect: str | None
    slugs: list[str]
    scores: list[float]


def outcome(item: Scored, decision: str, offered: list[str]) -> str:
    if item.expect is None:
        return {"answer": "oos_answered", "clarify": "oos_clarified"}.get(decision, "oos_fallback")
    if decision == "answer":
        return "answered_correct" if offered[0] == item.expect else "confidently_wrong"
    if decision == "clarify":
        return "clarified_correct" if item.expect in offered else "clarified_wrong"
    return "missed"


def apply(items: list[Scored], cal: ModeCalibration) -> list[str]:
    from knowledge.search import decide  # the one decision rule, shared with search

    outs = []
    for it in items:
        decision, n = decide(it.scores, cal)
        outs.append(outcome(it, decision, it.slugs[:n]))
    return outs


def utility(outcomes: list[str]) -> float:
    return sum(UTILITY[o] for o in outcomes)


def fit_thresholds(items: list[Scored], resolution: int = 19) -> ModeCalibration:
    s1 = np.array([it.scores[0] for it in items])
    margins = np.array([it.scores[0] - it.scores[1] for it in items])
    qs = np.linspace(0.05, 0.95, resolution)
    score_grid = np.unique(np.round(np.quantile(s1, qs), 4))
    margin_grid = np.unique(np.round(np.concatenate([[0.0], np.quantile(margins, qs)]), 4))
    window_grid = np.unique(np.round(np.quantile(margins, [0.25, 0.5, 0.75]), 4))
    best: tuple[float, float, ModeCalibration] | None = None
    for a, m, c, w in itertools.product(score_grid, margin_grid, score_grid, window_grid):
        if c > a:
            continue
        cal = ModeCalibration(float(a), float(m), float(c), float(w))
        u = utility(apply(items, cal))
        key = (u, a)  # ties: the more cautious answer threshold
        if best is None or key > best[:2]:
            best = (u, float(a), cal)
    assert best is not None
    return best[2]


def summarise(items: list[Scored], outcomes: list[str]) -> dict[str, float]:
    inscope = [o for it, o in zip(items, outcomes, strict=True) if it.expect is not None]
    oos = [o for it, o in zip(items, outcomes, strict=True) if it.expect is None]

    def share(values: list[str], *names: str) -> float:
        return round(100 * sum(v in names for v in values) / max(1, len(values)), 1)

    return {
        "in_scope": len(inscope),
        "answered_correct_pct": share(inscope, "answered_correct"),
        "clarified_correct_pct": share(inscope, "clarified_correct"),
        "answered_or_clarified_correct_pct": share(
            inscope, "answered_correct", "clarified_correct"
        ),
        "confidently_wrong_pct": share(inscope, "confidently_wrong"),
        "missed_pct": share(inscope, "missed"),
        "out_of_scope": len(oos),
        "oos_correctly_not_answered_pct": share(oos, "oos_fallback"),
        "oos_clarified_pct": share(oos, "oos_clarified"),
        "oos_false_answer_pct": share(oos, "oos_answered"),
    }


def cross_validate(items: list[Scored], folds: int = 5, seed: int = 7) -> dict[str, float]:
    order = np.random.default_rng(seed).permutation(len(items))
    outcomes: list[str | None] = [None] * len(items)
    for k in range(folds):
        test = set(order[k::folds].tolist())
        train = [it for i, it in enumerate(items) if i not in test]
        cal = fit_thresholds(train)
        for i in test:
            outcomes[i] = apply([items[i]], cal)[0]
    return summarise(items, [o for o in outcomes if o is not None])


def mean_reciprocal_rank(items: list[Scored]) -> float:
    ranks = [
        1 / (it.slugs.index(it.expect) + 1) if it.expect in it.slugs else 0.0
        for it in items
        if it.expect is not None
    ]
    return float(np.mean(ranks)) if ranks else 0.0


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
