"""Residue classes (solvers._residue): the residue-and-count bound is a valid upper bound, a
selection it finds reaches it, and hybrid proves such instances by it — checked against an
independent bitset optimum on instance families with one residue class and a few outliers."""

from __future__ import annotations

import random

import numpy as np
import pytest

import solvers
from solvers import _residue
from solvers._core import DEFAULT_LIMITS, Core, prepare
from solvers._instance import parse_problem

from .test_proofs import check, enumerated_optimum, optimum


def _core(costs: list[int], budget: int) -> Core | None:
    prep = prepare(parse_problem(costs, budget, DEFAULT_LIMITS), DEFAULT_LIMITS, None)
    return prep.core


def _residue_instance(rng: random.Random, n: int, outliers: int) -> tuple[list[int], int]:
    g = rng.choice((2, 3, 7, 10, 100, 1000))
    rs = [rng.randrange(g) for _ in range(rng.choice((1, 1, 2)))]  # one class or two
    spread = rng.choice((3, 20, 200))
    costs = [g * rng.randint(1, spread) + rng.choice(rs) for _ in range(n)]
    r = rs[0]
    costs += [rng.randint(1, g * spread) for _ in range(outliers)]
    rng.shuffle(costs)
    total = sum(costs)
    budget = rng.choice((rng.randint(1, total), total // 2 + rng.randrange(g), total - r - 1,
                         min(costs) + rng.randrange(g)))
    return costs, max(budget, 1)


def test_bound_is_valid_and_selections_reach_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """On small instances (all subsets listed): the bound is never below the optimum, and a
    selection, when found, is feasible and sums to the bound (so the bound is the optimum)."""
    monkeypatch.setattr(_residue, "MIN_N", 1)
    rng = random.Random(31)
    found = proved = 0
    for _ in range(300):
        costs, budget = _residue_instance(rng, rng.randint(2, 13), rng.choice((0, 0, 1, 2)))
        core = _core(costs, budget)
        if core is None:
            continue
        cls = _residue.classes(core)
        if cls is None:
            continue
        found += 1
        best = enumerated_optimum(core.costs, core.budget)
        b = _residue.bound(core, cls)
        assert b.value >= best, (costs, budget)
        chosen = _residue.select(core, cls, b)
        if chosen is not None:
            proved += 1
            assert len(set(chosen)) == len(chosen)
            assert sum(core.costs[i] for i in chosen) == b.value == best
    assert found > 80 and proved > 50  # classes are found, and most reach their bound


@pytest.mark.parametrize("seed", range(6))
def test_hybrid_agrees_with_the_bitset_optimum(seed: int) -> None:
    """n = 64..400 with 0-3 outliers, budgets anywhere: auto's answer satisfies the shared
    contract against an independent optimum, exact or not."""
    rng = random.Random(100 + seed)
    for _ in range(6):
        costs, budget = _residue_instance(rng, rng.randint(64, 400), rng.choice((0, 1, 3)))
        check("auto", costs, budget, time_limit=10)


@pytest.mark.parametrize(("g", "r", "n", "low", "high"), [
    (1000, (7,), 1000, 100, 200), (1000, (7,), 300, 10, 30), (5000, (3,), 400, 10, 12),
    (64, (1,), 200, 30, 33), (10_000, (1, 2), 1000, 100, 200), (997, (5, 900), 600, 300, 330)])
def test_residue_classes_proven_by_the_bound(g: int, r: tuple[int, ...], n: int, low: int,
                                             high: int) -> None:
    """All costs ≡ r (mod g) for r in one or two classes, with few counts of items summing near
    half the total: the first
    budget from half the total whose residue no such count reaches. The preprocessing bound is
    then out of reach, and the residue step proves the optimum (checked against the bitset
    optimum where it is affordable)."""
    rng = random.Random(g + n)
    costs = [g * rng.randint(low, high) + rng.choice(r) for _ in range(n)]
    budget = sum(costs) // 2
    for _ in range(g):
        core = _core(costs, budget)
        assert core is not None
        cls = _residue.classes(core)
        assert cls is not None and cls.g == g and {p.r for p in cls.parts} == set(r)
        if _residue.bound(core, cls).value < core.budget:
            break
        budget += 1
    else:
        pytest.fail("every budget's residue is reachable")
    result = solvers.solve(costs, budget, algorithm="auto", time_limit=10)
    assert result["status"] == "exact" and result["stage"] == "residue"
    assert sum(costs[i] for i in result["selected_indices"]) == result["total_cost"] < budget
    if budget < 2 * 10**7:
        assert result["total_cost"] == optimum(costs, budget)


def test_outliers_with_a_divisor_class() -> None:
    """Multiples of 7 and three ones, budget ≡ 5 (mod 7): the optimum is the budget − 2,
    proven by the bound over the outliers' subsets."""
    rng = random.Random(2)
    costs = [7 * rng.randint(1, 100) for _ in range(20_000)] + [1, 1, 1]
    budget = sum(costs) // 2 // 7 * 7 + 5
    result = solvers.solve(costs, budget, algorithm="auto", time_limit=10)
    assert result["status"] == "exact" and result["stage"] == "residue"
    assert result["total_cost"] == budget - 2
    assert sum(costs[i] for i in result["selected_indices"]) == budget - 2


def test_no_class_is_found_in_unstructured_costs() -> None:
    """Random costs: no class (the step costs a sample's gcd, nothing more)."""
    rng = np.random.default_rng(4)
    for high in (10, 10**3, 10**9):
        costs = rng.integers(1, high, 500).tolist()
        core = _core(costs, sum(costs) // 2)
        assert core is not None and _residue.classes(core) is None
