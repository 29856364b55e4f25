"""Remaining-gap arithmetic and the fold protocol, checked against numbers worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ml.dataset import Dataset
from ml.evaluate import evaluate, folds, remaining_gap


def test_remaining_gap_by_hand() -> None:
    """(0.3 − 0.1) / (0.5 − 0.1) = 0.5; the VBS scores 0, the SBS 1, better than VBS < 0."""
    assert remaining_gap(0.3, 0.1, 0.5) == pytest.approx(0.5)
    assert remaining_gap(0.1, 0.1, 0.5) == 0.0
    assert remaining_gap(0.5, 0.1, 0.5) == pytest.approx(1.0)
    assert remaining_gap(0.7, 0.1, 0.5) == pytest.approx(1.5)
    assert remaining_gap(0.05, 0.1, 0.5) == pytest.approx(-0.125)


def test_remaining_gap_when_sbs_equals_vbs() -> None:
    """Nothing to close: matching them scores 0, anything worse scores +inf (never NaN)."""
    assert remaining_gap(0.2, 0.2, 0.2) == 0.0
    assert math.isinf(remaining_gap(0.3, 0.2, 0.2))


def _toy() -> Dataset:
    """Two candidates; 'a' solves the first 12 rows in 1 s, 'b' the last 8 in 2 s."""
    n = 20
    costs = np.array([[1.0, 100.0]] * 12 + [[100.0, 2.0]] * 8)
    X = np.arange(n, dtype=np.float64).reshape(-1, 1)
    return Dataset(keys=[str(i) for i in range(n)], families=["t"] * n, X=X,
                   feature_names=("i",), candidates=("a", "b"), costs=costs,
                   times=costs.copy(), labels=costs.argmin(axis=1),
                   hybrid_cost=np.full(n, 3.0), rules_cost=np.full(n, 1.5),
                   rules_choice=["a"] * n, time_limit=10.0)


def test_baselines_on_a_toy_dataset() -> None:
    """SBS is "a" on every training fold (solves 60 %); VBS, the oracle, costs 1.4 s."""
    ev = evaluate(_toy(), kinds=[], n_splits=4, seeds=(0, 1, 2))
    vbs, sbs = ev.method("vbs"), ev.method("sbs")
    assert vbs["par10"] == pytest.approx(1.4) and vbs["remaining_gap"] == 0.0
    assert sbs["par10"] == pytest.approx((12 * 1 + 8 * 100) / 20)
    assert sbs["remaining_gap"] == pytest.approx(1.0) and sbs["solved_pct"] == 60.0
    assert ev.method("hybrid")["par10"] == pytest.approx(3.0)
    rules = ev.method("rules")
    assert rules["remaining_gap"] == pytest.approx((1.5 - 1.4) / (40.6 - 1.4))
    assert rules["folds"] == 12 and rules["folds_worse_than_sbs"] == 0


def test_folds_are_stratified_repeated_and_cover_every_row() -> None:
    """Every seed's folds partition the rows; a label rarer than K does not break them."""
    labels = np.array([0] * 30 + [1] * 17 + [2] * 2)
    out = folds(labels, n_splits=5, seeds=(0, 1, 2))
    assert len(out) == 15
    for seed in (0, 1, 2):
        tests = np.concatenate([te for s, _, _, te in out if s == seed])
        assert sorted(tests.tolist()) == list(range(len(labels)))
    assert {len(np.intersect1d(tr, te)) for _, _, tr, te in out} == {0}


def test_leave_one_family_out_holds_out_whole_families() -> None:
    """With family x = the rows 'a' wins and y = those 'b' wins, the SBS learnt without the
    held-out family is always wrong there, which stratified folds never show."""
    ds = _toy()
    ds = Dataset(**{**ds.__dict__, "families": ["x"] * 12 + ["y"] * 8})
    ev = evaluate(ds, kinds=[], protocol="lofo")
    assert ev.protocol == "lofo" and ev.fold_names == ["x", "y"]
    assert {r["held_out"] for r in ev.fold_rows} == {"x", "y"}
    sbs = ev.method("sbs")
    assert sbs["folds"] == 2 and sbs["par10"] == pytest.approx(100.0)
    cv = evaluate(ds, kinds=[], n_splits=4, seeds=(0,))
    assert cv.method("sbs")["par10"] < sbs["par10"]
    with pytest.raises(ValueError, match="at least 2 families"):
        evaluate(_toy(), kinds=[], protocol="lofo")


def _rec(key: str, family: str, times: dict[str, float]) -> dict:
    runs = [{"algorithm": a, "status": "exact", "total_cost": 10, "execution_time": t}
            for a, t in times.items()]
    return {"key": key, "family": family, "projects": [3, 7, 9], "budget": 10, "runs": runs}


def test_noise_floor_of_two_labelings() -> None:
    """One of two instances changes label between timings: agreement 50 %, and the regret of
    one labeling's oracle on the other is the time difference it misses."""
    from ml.noise import noise_floor

    names = ("brute_force", "dp", "backtracking", "greedy", "meet_in_the_middle")
    slow = dict.fromkeys(names, 1.0)
    first = [_rec("i", "f", {**slow, "dp": 0.1}), _rec("j", "g", {**slow, "dp": 0.2})]
    second = [_rec("j", "g", {**slow, "dp": 0.2}), _rec("i", "f", {**slow, "dp": 0.3,
                                                                 "backtracking": 0.2})]
    out = noise_floor(first, second, time_limit=5.0, candidates=names)
    assert out["instances"] == 2 and out["label_agreement"] == 0.5
    # first's oracle on second: i picks dp (0.3 vs 0.2): +0.1 over 2 rows; the reverse: i picks
    # backtracking (1.0 vs 0.1): +0.9 over 2 rows; mean regret (0.05 + 0.45) / 2
    assert out["oracle_regret_s"] == pytest.approx(0.25)
    assert out["margin"] > 0


def test_promotion_needs_more_than_the_noise_floor() -> None:
    """5 % better than the rules is not enough when re-timing alone moves PAR10 by 10 %."""
    from ml.selection import promotion

    keep, why = promotion(0.19, 0.20, None, margin=0.10, basis="held-out families")
    assert keep is False and "noise floor 10.0%" in why and "the rules stay" in why
    assert promotion(0.17, 0.20, None, margin=0.10)[0] is True
    assert promotion(0.17, 0.20, "model:selector@v1", 0.095, 0.10, 30, margin=0.10)[0] is False
