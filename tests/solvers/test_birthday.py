"""The generalised birthday search (``solvers._birthday``): exact hits on dense instances whose
sums pass int64, verified in Python integers, never a false claim."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest

import solvers
from solvers import _birthday


def _pe(n: int, e: int, seed: int = 1) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(1, 10**e) for _ in range(n)]


def test_sums_list_every_subset_by_its_bits() -> None:
    """Entry i of a group's list is the sum, mod 2^64, of the items whose bits i sets."""
    values = [3, 2**63 + 5, 11, 2**64 + 7, 1, 40]
    sums = _birthday._sums(values)
    assert sums.dtype == np.uint64 and sums.size == 64
    for mask in range(64):
        want = sum(v for j, v in enumerate(values) if mask >> j & 1) % 2**64
        assert int(sums[mask]) == want


def test_bucket_order_sorts_by_key() -> None:
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 1 << 22, size=50_000).astype(np.uint64)
    order = _birthday._bucket_order(keys, 22)
    assert np.array_equal(keys[order], np.sort(keys))
    assert np.array_equal(np.sort(order), np.arange(keys.size))


@pytest.mark.parametrize(("n", "e", "share"), [(100, 17, 0.5), (200, 18, 0.5), (160, 17, 0.7),
                                               (120, 16, 0.35), (64, 14, 0.5)])
def test_search_hits_the_target_exactly(n: int, e: int, share: float) -> None:
    """Budgets at, above (complement) and below half the total; sums past int64 or not."""
    costs = _pe(n, e, seed=n + e)
    target = int(sum(costs) * share)
    plan = _birthday.plan(costs, target)
    assert plan is not None and plan.complement == (2 * target > sum(costs))
    assert plan.seconds() < 30, "a dense instance is expected to be hit"
    hit = _birthday.search(costs, target, time.perf_counter() + 60, plan)
    assert hit is not None
    assert hit == sorted(set(hit)) and all(0 <= i < n for i in hit)
    assert sum(costs[i] for i in hit) == target


def test_pairs_equal_only_mod_2_64_are_rejected() -> None:
    """Every cost a multiple of 2^65 and an odd multiple of 2^64 as the target: all sums agree
    with it mod 2^64, none equals it. The search must answer None, never a wrong selection."""
    rng = random.Random(5)
    costs = [2**65 * rng.randint(1, 10**4) for _ in range(64)]
    target = 2**64 * (2 * rng.randint(10**5, 2 * 10**5) + 1)
    plan = _birthday.plan(costs, target)
    assert plan is not None
    assert _birthday.search(costs, target, time.perf_counter() + 1.0, plan) is None


def test_no_plan_for_small_or_huge_n() -> None:
    assert _birthday.plan(_pe(4 * _birthday.MIN_K - 1, 18), 10**18) is None
    assert _birthday.plan(_pe(10, 18), 10**18) is None
    assert _birthday.plan(_pe(64, 18), 0) is None


@pytest.mark.parametrize(("n", "e"), [(100, 18), (120, 18), (100, 19)])
def test_auto_proves_dense_instances_past_int64(n: int, e: int) -> None:
    """P(18) n = 100 (issue 19's last unproven row) and neighbours: sums pass int64, and the
    exact hit of the budget is the proof."""
    costs = _pe(n, e)
    budget = n * 10**e // 4
    start = time.perf_counter()
    result = solvers.solve(costs, budget, time_limit=30)
    assert time.perf_counter() - start < 31
    assert result["status"] == "exact"
    assert result["total_cost"] == budget == sum(costs[i] for i in result["selected_indices"])
    assert result["stage"] == "core"


def test_core_searches_leave_a_planned_exact_method_its_time() -> None:
    """hybrid's two core searches (difference core, random cores) together leave a planned
    exact method FALLBACK_MARGIN × its prediction: 47 items at 10^12..10^13 under 2 s, where
    Schroeppel–Shamir alone needs ~1.3 s, used to time out after 1.5 s of searches."""
    from solvers import hybrid
    from solvers._core import parse_call, prepare

    rng = random.Random(100)
    costs = [rng.randint(10**12, 10**13) for _ in range(47)]
    problem, limits, _ = parse_call(costs, sum(costs) // 2, 2.0, None)
    core = prepare(problem, limits, time.perf_counter() + 2.0).core
    assert core is not None
    core.seconds = 2.0
    cheapest = min(hybrid.estimated_seconds(core).values())
    assert cheapest <= 2.0 * hybrid.PLAN_SHARE  # planned
    left = core.time_left()
    searches = 2 * hybrid._search_seconds(core, cheapest, hybrid.DEFAULT_CONFIG)
    assert searches + cheapest * hybrid.FALLBACK_MARGIN <= left + 1e-3
    assert searches > 0  # the searches still run when there is slack
    # not planned (a limit it cannot meet): the searches keep their usual allotment
    core.seconds = cheapest  # PLAN_SHARE × the limit is below the prediction
    assert hybrid._search_seconds(core, cheapest, hybrid.DEFAULT_CONFIG) == pytest.approx(
        min(hybrid.HEURISTIC_SECONDS, cheapest / 2, core.time_left() / 4), rel=0.05)


def test_plan_keeps_to_the_memory_cap() -> None:
    """Lists of 2^k sums cost ~BYTES_PER_SUM bytes an entry at their peak: the plan never
    picks a k whose lists pass the cap (the solver's ``Limits.memory_cap_bytes``)."""
    costs = _pe(100, 18)
    free = _birthday.plan(costs, sum(costs) // 2)
    capped = _birthday.plan(costs, sum(costs) // 2, memory_cap=1 << 24)
    assert free is not None and capped is not None
    assert free.k > 16 >= capped.k
    assert (1 << capped.k) * _birthday.BYTES_PER_SUM <= 1 << 24


def test_schroeppel_shamir_priced_to_hit_runs_before_the_heuristics() -> None:
    """A Schroeppel–Shamir priced to stop at its first hit is hybrid's best hit search: it
    runs first (50 items at 10^12..10^13), unless the core step's birthday search expects its
    hit sooner (58 items: ~0.05 s against the sweep's ~0.3 s), where the heuristics go first
    and the core step meets it (the forecast's view reports the same choice: test_forecast)."""
    from solvers import hybrid
    from solvers._core import parse_call, prepare

    chosen = {}
    for i, n in ((3, 50), (10, 58)):
        rng = random.Random(100 + i)
        costs = [rng.randint(10**12, 10**13) for _ in range(n)]
        problem, limits, _ = parse_call(costs, sum(costs) // 2, 2.0, None)
        core = prepare(problem, limits, None).core
        assert core is not None
        core.seconds = 2.0
        chosen[n] = hybrid.exact_first(core, hybrid.estimated_seconds(core))
    assert chosen == {50: "meet_in_the_middle", 58: None}
