"""One contract test over every registered solver (after sklearn's parametrize_with_checks)."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import solvers
from solvers import ALGORITHMS, EXACT_ALGORITHMS

ALL = sorted(ALGORITHMS)
KEYS = {"selected_indices", "total_cost", "execution_time", "memory_used", "status",
        "algorithm", "upper_bound", "reason"}


def optimum(costs: list[int], budget: int) -> int:
    """Reference optimum by exhaustive enumeration (independent of the solvers)."""
    best = 0
    for r in range(len(costs) + 1):
        for combo in itertools.combinations(costs, r):
            s = sum(combo)
            if best < s <= budget:
                best = s
    return best


def check_contract(name: str, costs: list[int], budget: int) -> dict:
    result = solvers.solve(costs, budget, algorithm=name, measure_memory=False)
    assert result.keys() >= KEYS
    sel = result["selected_indices"]
    assert sel == sorted(set(sel)), "indices sorted and unique"
    assert all(isinstance(i, int) and 0 <= i < len(costs) for i in sel)
    assert result["total_cost"] == sum(costs[i] for i in sel) <= budget
    assert result["status"] in {"exact", "approximate", "failed"}
    assert result["execution_time"] >= 0
    opt = optimum(costs, budget)
    assert result["upper_bound"] >= opt, "upper bound is a proven bound"
    if result["status"] == "exact":
        assert result["total_cost"] == opt, "exact only when optimal"
        assert result["upper_bound"] == result["total_cost"], "an exact answer's bound is its total"
        assert result["reason"] is None
    else:
        assert result["reason"], "a non-exact answer says why"
    return result


@pytest.mark.parametrize("name", ALL)
def test_seeded_random_instances_match_brute_force(name: str) -> None:
    """Every solver is feasible and honest; exact solvers reach the exhaustive optimum."""
    rng = random.Random(1234)
    for _ in range(60):
        n = rng.randint(0, 11)
        high = rng.choice([3, 20, 1000, 10**9])
        costs = [rng.randint(0, high) for _ in range(n)]
        budget = rng.randint(0, max(1, sum(costs)))
        result = check_contract(name, costs, budget)
        if name in EXACT_ALGORITHMS:
            refused = result["status"] == "failed" and "memory cap" in result["reason"]
            assert result["status"] == "exact" or (name == "dp" and refused), result


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(costs=st.lists(st.integers(0, 500), max_size=10), data=st.data())
def test_property_feasible_and_honest(name: str, costs: list[int], data: st.DataObject) -> None:
    """Hypothesis: for any small instance the result is feasible, and exact means optimal."""
    budget = data.draw(st.integers(0, sum(costs) + 10))
    result = check_contract(name, costs, budget)
    if name in EXACT_ALGORITHMS:
        assert result["status"] == "exact"


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    ("costs", "budget", "total"),
    [
        ([], 100, 0),  # empty input
        ([5, 7, 9], 0, 0),  # zero budget
        ([4, 6, 10], 5, 4),  # budget unmatchable: best is below it
        ([3, 34, 4, 12, 5, 2], 9, 9),  # exact match available
        ([101, 150, 999], 100, 0),  # every project over budget
        ([7, 7, 7, 7, 7], 20, 14),  # duplicate costs
        ([0, 0, 3], 2, 0),  # zero-cost projects are free
        ([2, 4, 6, 8], 11, 10),  # gcd: odd budget with even costs
    ],
)
def test_edge_cases(name: str, costs: list[int], budget: int, total: int) -> None:
    """Edge cases give the optimum with valid indices for every algorithm."""
    result = check_contract(name, costs, budget)
    if name in EXACT_ALGORITHMS or result["status"] == "exact":
        assert result["total_cost"] == total


@pytest.mark.parametrize("name", ALL)
def test_money_with_cents_is_exact_and_in_caller_units(name: str) -> None:
    """Money amounts are scaled exactly; results come back in the caller's units."""
    projects = [{"name": "a", "cost": "1234.56"}, {"name": "b", "cost": 0.1},
                {"name": "c", "cost": 0.2}, {"name": "d", "cost": 999.99}]
    result = solvers.solve(projects, "1234.86", algorithm=name, measure_memory=False)
    assert result["total_cost"] == pytest.approx(1234.86, abs=1e-9)
    assert result["selected_indices"] == [0, 1, 2]
    assert result["budget"] == pytest.approx(1234.86)


@pytest.mark.parametrize("name", ALL)
def test_each_module_exposes_the_same_solve(name: str) -> None:
    """Each algorithm module's own solve() returns the same shape as solvers.solve()."""
    import importlib

    via_registry = solvers.solve([3, 5, 9], 12, algorithm=name, measure_memory=False)
    module_solve = importlib.import_module(f"solvers.{name}").solve
    direct = module_solve([3, 5, 9], 12, time_limit=None, measure_memory=False)
    assert direct["selected_indices"] == via_registry["selected_indices"]
    assert direct.keys() >= KEYS


def test_every_module_docstring_states_complexity_and_limits() -> None:
    """Each algorithm module opens with a docstring stating its complexity and limits."""
    import importlib

    for name in ALL:
        module = importlib.import_module(f"solvers.{name}")
        doc = (module.__doc__ or "").lower()
        assert "complexity" in doc and "limit" in doc, name


def reachable_optimum(costs: list[int], budget: int) -> int:
    """Reference optimum by a set of reachable sums (independent of the solvers)."""
    sums = {0}
    for c in costs:
        sums |= {s + c for s in sums if s + c <= budget}
    return max(sums)


@pytest.mark.parametrize("name", [*sorted(EXACT_ALGORITHMS), "auto"])
def test_medium_instances_match_a_reference_optimum(name: str) -> None:
    """On n = 20..60 (where auto picks dp or hybrid, and hybrid's core search runs), exact
    solvers reach the reference optimum; brute force refuses above its limit."""
    rng = random.Random(99)
    for _ in range(8):
        n = rng.randint(20, 60)
        costs = [rng.randint(1, rng.choice([300, 3000])) for _ in range(n)]
        budget = rng.randint(sum(costs) // 5, sum(costs) // 2)
        result = solvers.solve(costs, budget, algorithm=name, measure_memory=False)
        sel = result["selected_indices"]
        assert sum(costs[i] for i in sel) == result["total_cost"] <= budget
        if result["status"] == "failed":
            assert name in {"brute_force", "meet_in_the_middle"}
            continue
        assert result["status"] == "exact"
        assert result["total_cost"] == reachable_optimum(costs, budget)
