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
    assert mf.FEATURE_NAMES[: len(solvers.FEATURE_NAMES)] == solvers.FEATURE_NAMES


def test_empty_fit_has_finite_features() -> None:
    """Nothing fits the budget: every feature is finite (no log of zero, no division)."""
    row = mf.vector(solvers.features([50, 60], 10))
    assert np.isfinite(row).all()
