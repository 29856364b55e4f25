"""Selector features: pure, derived from the shared solver features, in a fixed order."""

from __future__ import annotations

import math

import numpy as np
import pytest

import solvers
from ml import features as mf


def test_extras_on_a_hand_made_instance() -> None:
    """Costs 3, 5, 9 and budget 12: every derived feature worked out by hand."""
    feats = mf.instance_features([3, 5, 9], 12)
    assert feats["n_fit"] == 3 and feats["budget_reduced"] == 12
    assert feats["log2_n_fit"] == pytest.approx(2.0)  # log2(3 + 1)
    assert feats["log2_mitm_sums"] == pytest.approx(1.5 + 2.0)
    assert feats["log2_dp_cells"] == pytest.approx(math.log2(3 * 13 + 1))
    assert feats["dp_minus_mitm"] == pytest.approx(math.log2(40) - 3.5)
    assert feats["log2_cost_max"] == pytest.approx(math.log2(10))
    assert feats["budget_over_mean"] == pytest.approx(12 / (17 / 3))
    assert feats["fit_ratio"] == 1.0


def test_projects_over_budget_and_money_scale() -> None:
    """A project costlier than the budget lowers fit_ratio; money is in cents."""
    feats = mf.instance_features([{"cost": "1.50"}, {"cost": "20.00"}], "10.00")
    assert feats["n"] == 2 and feats["n_fit"] == 1 and feats["fit_ratio"] == 0.5
    assert feats["budget"] == 1000 and feats["cost_max"] == 2000


def test_vector_is_in_feature_order_and_pure() -> None:
    """vector() extends a base mapping without changing it and follows FEATURE_NAMES."""
    base = solvers.features([3, 5, 9], 12)
    before = dict(base)
    row = mf.vector(base)
    assert base == before
    assert row.dtype == np.float64 and row.shape == (len(mf.FEATURE_NAMES),)
    full = mf.extend(base)
    assert row.tolist() == [full[name] for name in mf.FEATURE_NAMES]
    assert mf.vector(full).tolist() == row.tolist()
    assert set(mf.FEATURE_NAMES) >= set(solvers.FEATURE_NAMES)
    assert mf.FEATURE_NAMES[: len(mf.FEATURE_NAMES_V1)] == mf.FEATURE_NAMES_V1


def test_shape_features_see_two_scales_and_few_prices() -> None:
    """The shape features tell a two-scale instance (a few huge costs and many tiny ones) and a
    few-prices instance apart from a uniform one."""
    import random

    rng = random.Random(5)
    uniform = [rng.randint(10**8, 10**9) for _ in range(80)]
    two_scale = uniform[:20] + [rng.randint(1, 1000) for _ in range(60)]
    prices = [rng.randint(10**8, 10**9) for _ in range(4)]
    few = [rng.choice(prices) for _ in range(80)]
    f_uni, f_two, f_few = (solvers.features(c, sum(c) // 2) for c in (uniform, two_scale, few))
    assert f_two["dust_share"] > 0.5 > f_uni["dust_share"]
    assert f_two["max_log10_gap"] > 3 > f_uni["max_log10_gap"]
    assert f_few["distinct_share"] <= 4 / 80 < f_uni["distinct_share"]
    assert np.isfinite(mf.vector(f_two)).all()


def test_models_trained_on_the_first_feature_set_still_load() -> None:
    """Feature set v1 (before the shape features) is still a known set, so stored models of
    it load, and a v1 row is the v2 row's prefix."""
    assert mf.FEATURE_NAMES_V1 in mf.KNOWN_FEATURE_SETS
    base = solvers.features([3, 5, 9, 14], 20)
    assert mf.vector(base, mf.FEATURE_NAMES_V1).tolist() == \
        mf.vector(base).tolist()[: len(mf.FEATURE_NAMES_V1)]


def test_empty_fit_has_finite_features() -> None:
    """Nothing fits the budget: every feature is finite (no log of zero, no division)."""
    row = mf.vector(solvers.features([50, 60], 10))
    assert np.isfinite(row).all()
