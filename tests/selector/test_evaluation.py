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
