"""Costs on two scales (many tiny costs under a few huge ones): the hit estimate, the pricing of
Schroeppel–Shamir and backtracking, and hybrid's proofs there, against an independent
reference (every selection of the huge costs, the tiny ones by a bitset of their sums)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

import solvers
from solvers import _scales, backtracking, hybrid, meet_in_the_middle
from solvers._core import parse_call, prepare
from solvers.instances import FAMILIES, generate


def two_scale(seed: int, big: int, small: int, reach: bool) -> tuple[list[int], int]:
    """``big`` costs 1e8..1e9 and ``small`` costs 1..1000; the budget is a selection of the big
    ones plus a reachable fill (``reach``), or half the total (rarely reachable)."""
    rng = random.Random(seed)
    large = [rng.randint(10**8, 10**9) for _ in range(big)]
    tiny = [rng.randint(1, 1000) for _ in range(small)]
    costs = large + tiny
    rng.shuffle(costs)
    budget = (sum(rng.sample(large, big // 2)) + sum(tiny) // 2 if reach
              else sum(costs) // 2)
    return costs, budget


def reference_optimum(costs: list[int], budget: int) -> int:
    """Best total ≤ budget: every selection of the costs ≥ 10^6, the rest by a bitset."""
    large = [c for c in costs if c >= 10**6]
    tiny = [c for c in costs if c < 10**6]
    reach = 1
    for c in tiny:
        reach |= reach << c
    sums = [i for i in range(sum(tiny) + 1) if reach >> i & 1]
    best = 0
    for k in range(len(large) + 1):
        for combo in itertools.combinations(large, k):
            left = budget - sum(combo)
            if left < 0:
                continue
            fill = sums[int(np.searchsorted(sums, left, side="right")) - 1]
            best = max(best, sum(combo) + fill)
    return best


def _core(costs: list[int], budget: int, time_limit: float = 1.0):
    problem, lim, tl = parse_call(costs, budget, time_limit, None)
    core = prepare(problem, lim, None).core
    core.seconds = tl
    return core


def test_no_generated_family_is_on_two_scales() -> None:
    """The families the rules were tuned on keep their estimates: none has a scale split."""
    for family in FAMILIES:
        for n in (20, 40, 60, 300):
            for seed in range(3):
                try:
                    g = generate(family, n, seed)
                except ValueError:  # a size the family does not make (todd above 40)
                    continue
                c = np.asarray(g.costs)
                if c.dtype.kind == "f":
                    c = np.round(c * 100).astype(np.int64)
                values, counts = np.unique(c, return_counts=True)
                assert _scales.scale_splits(values, counts) == [], (family, n, seed)


def test_splits_need_a_gap_dense_dust_and_coarse_items() -> None:
    costs, _ = two_scale(1, 12, 40, reach=False)
    values, counts = np.unique(costs, return_counts=True)
    assert _scales.scale_splits(values, counts) == [int(np.sum(values < 10**6))]
    # dust too sparse to fill its width: 5 costs of ~500 cannot fill 2,500 values
    sparse = [500, 501, 503, 507, 511] + [10**8 + i * 7919 for i in range(8)]
    v, m = np.unique(sparse, return_counts=True)
    assert _scales.scale_splits(v, m) == []
    # fewer than MIN_COARSE items above the gap
    few = [*range(1, 60), 10**9, 10**9 + 1]
    v, m = np.unique(few, return_counts=True)
    assert _scales.scale_splits(v, m) == []


def test_hit_estimate_sees_the_window_the_plain_count_misses() -> None:
    """Plain normal count: astronomically many exact hits; coarse-in-window: under one when
    the budget is not reachable, more when it is (the reference decides which)."""
    unreachable = reachable = 0
    for seed in range(12):
        costs, budget = two_scale(seed, 12, 45, reach=False)
        values, counts = np.unique(costs, return_counts=True)
        plain = _scales._normal_log_density(values, counts, budget, 1.0) / np.log(10)
        log10_hits, log2_search = _scales.hits_and_search(values, counts, budget)
        assert plain > 5 and log10_hits < plain - 5
        assert log2_search == 12  # the big costs' selections only
        if reference_optimum(costs, budget) < budget:
            unreachable += 1
            assert log10_hits < 0.5, seed
        else:
            reachable += 1
    assert unreachable >= 3  # the sample has both kinds
    # twice the big costs: 2^24 selections spread over a ~1.4x wider range, hits expected
    costs, budget = two_scale(3, 24, 45, reach=False)
    values, counts = np.unique(costs, return_counts=True)
    assert _scales.hits_and_search(values, counts, budget)[0] > 1.0


def test_schroeppel_shamir_is_not_priced_for_an_early_hit_on_two_scales() -> None:
    costs, budget = next((c, b) for c, b in (two_scale(s, 14, 44, reach=False)
                                             for s in range(40))
                         if reference_optimum(c, b) < b)
    core = _core(costs, budget)
    assert meet_in_the_middle.ss_left_sums(core) is None  # a whole sweep, priced so
    assert backtracking.estimated_seconds(core) == pytest.approx(4e-8 * 2**14)
    routes = hybrid.estimated_seconds(core)
    assert hybrid.plan_fallback(routes, 0.5) == "backtracking"
    one_scale = _core([random.Random(5).randint(10**8, 10**9) for _ in range(58)], 10**10)
    assert backtracking.estimated_seconds(one_scale) is None  # no estimate off two scales


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("reach", [False, True])
def test_hybrid_proves_two_scale_instances_like_the_reference(seed: int, reach: bool) -> None:
    """n = 56: Schroeppel–Shamir used to be planned and run out of a 0.5 s limit; now a proof
    (exact, the reference optimum, never above the budget)."""
    costs, budget = two_scale(seed, 12, 44, reach=reach)
    result = solvers.solve(costs, budget, algorithm="hybrid", time_limit=0.5,
                           measure_memory=False)
    assert result["status"] == "exact", result.get("reason")
    assert result["total_cost"] == reference_optimum(costs, budget) <= budget
    auto = solvers.solve(costs, budget, algorithm="auto", time_limit=0.5, measure_memory=False)
    assert auto["status"] == "exact" and auto["total_cost"] == result["total_cost"]


def test_structural_forecast_counts_only_the_coarse_selections() -> None:
    """ml.runtime's view: backtracking priced by the big costs' selections, so it is a route
    within the limit and the forecast makes no structural "no" there."""
    pytest.importorskip("lightgbm")
    from ml.runtime import outlook, structural_no

    costs, budget = two_scale(2, 14, 44, reach=False)
    view = outlook(costs, budget, "hybrid", 0.5)
    assert view is not None and view["log2_selections"] == 14
    assert view["routes"]["backtracking"] == pytest.approx(4e-8 * 2**14)
    assert structural_no(view, 0.5) is None
