"""Multiplicities (solvers._bounded): equal costs as (cost, count) classes, solved exactly on
the proximity box, under the shared solver contract; and the array fast paths of parsing."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest

import solvers
from solvers import InvalidInputError, Limits, _bounded
from solvers._core import _certificate, parse_call, prepare

from .test_proofs import check, optimum


def _core(costs: list[int], budget: int, limits: Limits | None = None,
          deadline: float | None = None):  # type: ignore[no-untyped-def]
    problem, lim, _ = parse_call(costs, budget, None, limits)
    prep = prepare(problem, lim, deadline)
    assert prep.core is not None
    return prep.core


def _instance(rng: random.Random, n: int, kind: str) -> tuple[list[int], int]:
    high = rng.choice((3, 40, 400))
    if kind == "few":  # a handful of distinct costs, thousands of copies
        pool = [rng.randint(1, high) for _ in range(rng.randint(1, 5))]
        costs = [rng.choice(pool) for _ in range(n)]
    else:
        costs = [rng.randint(1, high) for _ in range(n)]
    total = sum(costs)
    budget = {"near_total": total - rng.randint(1, high + 3), "tiny": rng.randint(1, 3 * high),
              "half": total // 2 + rng.randint(-high, high)}[rng.choice(("near_total", "tiny",
                                                                         "half"))]
    return costs, max(1, min(budget, total - 1))


def _excluded_optimum(costs: list[int], budget: int) -> int:
    """The optimum from the excluded side: total minus the least subset sum ≥ total − budget
    (a plain bitset over every item, capped at that need plus the largest cost)."""
    need = sum(costs) - budget
    cap = need + max(costs)
    mask = (1 << (cap + 1)) - 1
    reach = 1
    for c in costs:
        reach = (reach | reach << c) & mask
    above = reach >> need
    return sum(costs) - (need + (above & -above).bit_length() - 1)


def _check_answer(costs: list[int], budget: int, core, answer,  # type: ignore[no-untyped-def]
                  best: int | None = None) -> None:
    idx = np.asarray(answer.indices, dtype=np.int64)
    assert np.unique(idx).size == idx.size and (idx.size == 0 or idx.min() >= 0)
    total = int(core.array[idx].sum())
    assert total <= core.budget
    best = optimum(core.costs, core.budget) if best is None else best
    assert total == best, (costs, budget)
    exact, bound, broken = _certificate(answer, total, core)
    assert exact and broken is None and bound == total


@pytest.mark.parametrize("kind", ["few", "many"])
def test_bounded_dp_matches_the_reference_optimum(kind: str) -> None:
    """The proximity box and its residual DP (direct or over the excluded part) reach the
    reference optimum, with the greedy shortcut switched off so the DP itself is checked."""
    rng = random.Random(19 if kind == "few" else 91)
    modes = set()
    for _ in range(40):
        costs, budget = _instance(rng, rng.randint(_bounded.MIN_N, 2500), kind)
        problem, lim, _ = parse_call(costs, budget, None, None)
        core = prepare(problem, lim, None).core
        if core is None or core.n < _bounded.MIN_N:  # preprocessing settled it, or too few fit
            continue
        plan = _bounded.plan(core)
        assert plan is not None
        plan.greedy = None
        answer = _bounded.solve_bounded(core)
        modes.add(answer.extra["bounded"] + ("/complement" if plan.complement else ""))
        _check_answer(costs, budget, core, answer)
    assert {"dp", "dp/complement"} <= modes, modes


def test_bounded_through_hybrid_and_auto_is_exact_and_optimal() -> None:
    """hybrid (and auto) pick the bounded method on duplicate-heavy instances; the result keeps
    the shared contract (sorted unique indices, exact = the reference optimum)."""
    rng = random.Random(7)
    for kind in ("few", "many", "few"):
        costs, budget = _instance(rng, 3000, kind)
        for name in ("hybrid", "auto"):
            result = check(name, costs, budget)
            assert result["status"] == "exact"


def test_near_total_budget_uses_the_excluded_side() -> None:
    """A budget just below the total is proven over the excluded part: a narrow row."""
    rng = random.Random(3)
    costs = [rng.randint(1, 1000) for _ in range(20_000)]
    budget = sum(costs) - 501
    core = _core(costs, budget)
    plan = _bounded.plan(core)
    assert plan is not None and plan.complement and plan.width < 2000
    plan.greedy = None
    best = _excluded_optimum(costs, budget)
    _check_answer(costs, budget, core, _bounded.solve_bounded(core), best)
    result = solvers.solve(costs, budget, algorithm="hybrid")
    assert result["status"] == "exact" and result["stage"] == "bounded"
    assert result["total_cost"] == best


def test_bounded_stops_at_its_deadline() -> None:
    """Out of time, the bounded method answers a feasible selection as approximate."""
    rng = random.Random(5)
    costs = [rng.randint(1, 400) for _ in range(4000)]
    budget = sum(costs) // 2 + 1
    core = _core(costs, budget, deadline=time.perf_counter() - 1)
    plan = _bounded.plan(core)
    assert plan is not None
    plan.greedy = None
    answer = _bounded.solve_core(core)
    assert not answer.exact and "time limit" in answer.reason
    assert sum(core.costs[i] for i in answer.indices) <= core.budget


def test_bounded_refuses_rows_beyond_the_memory_cap() -> None:
    """Rows past half the memory cap are refused (status failed), never allocated; hybrid then
    prices it out and still answers within the contract."""
    rng = random.Random(11)
    costs = [rng.randint(1, 400) for _ in range(4000)]
    budget = sum(costs) // 2 + 1
    tiny = Limits(memory_cap_bytes=4096)
    core = _core(costs, budget, limits=tiny)
    plan = _bounded.plan(core)
    assert plan is not None
    plan.greedy = None
    answer = _bounded.solve_bounded(core)
    assert answer.failed and "MiB" in answer.reason
    check("hybrid", costs, budget, limits=tiny, time_limit=5)


def test_numpy_integer_array_is_parsed_like_its_list() -> None:
    """A 1-D NumPy integer array gives the same problem as the list of its ints, without
    aliasing the caller's array; negatives and uint64 past int64 go to the per-item rule."""
    rng = np.random.default_rng(2)
    arr = rng.integers(1, 100, 500)
    before = arr.copy()
    a = solvers.solve(arr, 1234)
    b = solvers.solve(arr.tolist(), 1234)
    assert a["selected_indices"] == b["selected_indices"] and a["status"] == b["status"]
    assert all(type(i) is int for i in a["selected_indices"])
    assert np.array_equal(arr, before)
    assert parse_call(arr.astype(np.uint32), 10, None, None)[0].costs == tuple(arr.tolist())
    with pytest.raises(InvalidInputError, match=r"projects\[1\]\.cost"):
        solvers.solve(np.array([3, -1, 4]), 5)
    huge = solvers.solve(np.array([2**64 - 1, 1], dtype=np.uint64), 5)  # per-item: past int64
    assert huge["selected_indices"] == [1] and huge["status"] == "exact"


def test_list_of_ints_fast_path_keeps_the_per_item_errors() -> None:
    """A long list of plain ints is parsed vectorised; a bool or a string among them still
    goes to the per-item rule, which names the field."""
    costs = list(range(1, 100))
    assert parse_call(costs, 50, None, None)[0].array is not None
    with pytest.raises(InvalidInputError, match=r"projects\[5\]"):
        solvers.solve([*costs[:5], True, *costs[5:]], 50)
    assert solvers.solve([*costs, "7"], 50)["status"] == "exact"
