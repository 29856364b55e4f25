"""The auto selector's rules and hook, the dp reconstruction paths, and the shared features."""

from __future__ import annotations

import random

import pytest

import solvers
from solvers import Limits, features, rules
from solvers.instances import generate

from .test_contract import optimum


def test_rules_pick_documented_algorithms() -> None:
    """The rules pick by size and dp cost as their docstring says."""
    assert solvers.solve([3, 5, 9], 12)["algorithm"] == "meet_in_the_middle"
    pthree = generate("pthree", 100, seed=1)
    assert solvers.solve(pthree.costs, pthree.budget)["algorithm"] == "dp"
    psix = generate("psix", 300, seed=1)
    assert solvers.solve(psix.costs, psix.budget)["algorithm"] == "hybrid"
    assert rules(features([1, 2], 10)) == "greedy"


def test_pluggable_selector_is_used_and_recorded() -> None:
    """A selector callable decides the algorithm and its name is recorded."""
    seen = {}

    def pick(feats):
        seen.update(feats)
        return "backtracking"

    pick.name = "model:v7"
    result = solvers.solve([3, 5, 9, 11], 20, selector=pick)
    assert result["algorithm"] == "backtracking" and result["selector"] == "model:v7"
    assert seen["n"] == 4.0 and result["status"] == "exact" and result["total_cost"] == 20


@pytest.mark.parametrize("bad", [lambda f: 1 / 0, lambda f: "quantum", lambda f: "auto"])
def test_failing_selector_falls_back_to_rules_and_says_so(bad) -> None:
    """A selector that raises or names a non-base algorithm falls back to the rules."""
    result = solvers.solve([3, 5, 9, 11], 20, selector=bad)
    assert result["selector"] == "rules"
    assert "rules used" in result["reason"]
    assert result["status"] == "exact" and result["total_cost"] == 20


def test_default_selector_can_be_installed_and_removed() -> None:
    """set_default_selector installs a process-wide selector; None restores the rules."""
    solvers.set_default_selector(lambda f: "greedy")
    try:
        assert solvers.solve([3, 5, 9], 12)["algorithm"] == "greedy"
    finally:
        solvers.set_default_selector(None)
    assert solvers.solve([3, 5, 9], 12)["selector"] == "rules"


@pytest.mark.parametrize("cap_rows", [6, 8, 12, 40])
def test_dp_split_reconstruction_finds_an_optimal_subset(cap_rows: int) -> None:
    """With a memory cap that forbids storing all rows, dp still reconstructs the optimum."""
    rng = random.Random(cap_rows)
    for _ in range(15):
        costs = [rng.randint(1, 4000) for _ in range(rng.randint(8, 16))]
        budget = rng.randint(1, sum(costs))
        cap = cap_rows * (budget // 8 + 1)
        result = solvers.solve(costs, budget, algorithm="dp",
                               limits=Limits(memory_cap_bytes=cap), measure_memory=False)
        if result["status"] == "failed":  # the gcd-reduced budget can still be over the cap
            assert "memory cap" in result["reason"]
            continue
        assert result["status"] == "exact"
        assert result["total_cost"] == optimum(costs, budget)
        assert sum(costs[i] for i in result["selected_indices"]) == result["total_cost"]


def test_hard_families_are_proven_optimal_by_auto() -> None:
    """auto proves the optimum on small members of each literature family."""
    for family, n in [("pthree", 60), ("psix", 60), ("evenodd", 60), ("avis", 60),
                      ("todd", 24), ("somatoth", 60), ("portfolio", 60)]:
        inst = generate(family, n, seed=2)
        result = solvers.solve(inst.projects(), inst.budget, measure_memory=False)
        assert result["status"] == "exact", (family, result["reason"])
        assert result["total_cost"] == result["upper_bound"]


def test_features_on_a_hand_made_instance() -> None:
    """Features are pure arithmetic on the instance, checked by hand."""
    f = features([{"cost": 4}, {"cost": 6}, {"cost": 20}], 12)
    assert f["n"] == 3 and f["n_fit"] == 2
    assert f["total"] == 30 and f["budget_ratio"] == pytest.approx(0.4)
    assert f["cost_mean"] == pytest.approx(10.0)
    assert f["cost_std"] == pytest.approx((152 / 3) ** 0.5)  # deviations -6, -4, 10
    assert f["cost_min"] == 4 and f["cost_max"] == 20 and f["cost_range"] == 16
    assert f["gcd"] == 2 and f["budget_reduced"] == 6
    assert f["density"] == pytest.approx(4.321928 / 3, rel=1e-6)
    assert f["literature_density"] == pytest.approx(3 / 4.321928, rel=1e-6)
    assert f["budget_over_max"] == pytest.approx(0.6)
    assert f["all_fit"] == 1.0
    assert set(f) == set(solvers.FEATURE_NAMES)


def test_features_of_empty_instance_are_zero_safe() -> None:
    """An empty instance has well-defined features (no division by zero)."""
    f = features([], 10)
    assert f["n"] == 0 and f["cost_cv"] == 0 and f["density"] == 0
