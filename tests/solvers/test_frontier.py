"""The solver frontier: divisor-group dp, the difference core, large n, huge coefficients, and
time limits honoured by every method (generous bounds; the figures are in the benchmarks)."""

from __future__ import annotations

import random
import time
from dataclasses import replace

import numpy as np
import pytest

import solvers
from solvers import Limits, _groups
from solvers._core import Core
from solvers._mitm import best_pair, subset_with_sum
from solvers.instances import generate

from .test_contract import optimum


def _check_feasible(result: dict, costs: list[int], budget: int) -> None:
    sel = result["selected_indices"]
    assert sel == sorted(set(sel))
    assert result["total_cost"] == sum(costs[i] for i in sel) <= budget


def test_divisor_groups_match_brute_force() -> None:
    """dp over two divisor groups gives the exhaustive optimum on two-denomination instances."""
    rng = random.Random(7)
    checked = 0
    for _ in range(80):
        w1, w2 = rng.choice([(3, 5), (4, 7), (6, 35), (10, 21), (9, 8)])
        n = rng.randint(4, 14)
        costs = [rng.randint(1, 6) * (w1 if rng.random() < 0.5 else w2) for _ in range(n)]
        budget = rng.randint(1, sum(costs))
        result = solvers.solve(costs, budget, algorithm="dp", measure_memory=False)
        _check_feasible(result, costs, budget)
        assert result["status"] == "exact"
        assert result["total_cost"] == optimum(costs, budget)
        checked += "dp_groups" in result
    assert checked > 10, "the split applied on a fair share of the cases"


def test_split_is_refused_when_it_does_not_pay() -> None:
    """No split for coprime small costs (the plain table is as small)."""
    assert _groups.split([1, 2, 3, 4, 5], 10) is None
    assert _groups.split([6, 10, 15, 7], 20) is None  # rest's gcd is 1


@pytest.mark.parametrize("n", [1000, 10_000])
def test_frobenius_instances_are_proven_fast(n: int) -> None:
    """somatoth (unreachable budget) is proven optimal by auto in well under a second."""
    inst = generate("somatoth", n, seed=1)
    start = time.perf_counter()
    result = solvers.solve(inst.projects(), inst.budget, time_limit=20, measure_memory=False)
    assert time.perf_counter() - start < 5.0  # 10x headroom over the ~0.01-0.5 s measured
    assert result["status"] == "exact"
    assert result["total_cost"] < inst.budget  # the Frobenius number is never reached
    _check_feasible(result, list(inst.costs), inst.budget)


def test_frobenius_optimum_matches_plain_dp() -> None:
    """The grouped answer equals the plain bitset dp's optimum (one table, no split)."""
    from solvers import dp

    inst = generate("somatoth", 300, seed=3)
    costs = list(inst.costs)
    result = solvers.solve(costs, inst.budget, algorithm="dp", measure_memory=False)
    core = Core(costs, inst.budget, inst.budget, Limits(), None)
    reach, _ = dp.forward(sorted(costs), inst.budget, core)
    assert result["total_cost"] == reach.bit_length() - 1


@pytest.mark.parametrize(("family", "n", "params"), [
    ("pe", 1000, {"e": 12}),
    ("pe", 1000, {"e": 15}),
    ("pe", 5000, {"e": 12}),
    ("pe", 64, {"e": 12}),  # sparse: the core plus every subset sum of the other 22 items
    ("pe", 80, {"e": 12}),
    ("psix", 200_000, {}),
    ("portfolio", 200_000, {}),
])
def test_large_and_huge_instances_are_proven(family: str, n: int, params: dict) -> None:
    """auto proves P(12), P(15), large P(6) and money portfolios by hitting the budget."""
    inst = generate(family, n, seed=2, **params)
    result = solvers.solve(inst.projects(), inst.budget, time_limit=30, measure_memory=False)
    assert result["status"] == "exact"
    assert result["total_cost_exact"] == result["upper_bound_exact"]
    sel = result["selected_indices"]
    assert len(set(sel)) == len(sel) and sel == sorted(sel)
    scale = 100 if family == "portfolio" else 1
    total = sum(round(inst.costs[i] * scale) for i in sel)
    assert total == round(inst.budget * scale)  # the budget itself is hit


def test_large_instance_with_bad_cost_names_the_field() -> None:
    """The vectorised parse hands bad input to the per-item path, which names the field."""
    costs = list(range(1, 5001))
    costs[4321] = -3
    with pytest.raises(solvers.InvalidInputError) as info:
        solvers.solve(costs, 1000)
    assert info.value.field == "projects[4321].cost"
    money = [1.5] * 5000
    money[17] = 2.345
    with pytest.raises(solvers.InvalidInputError, match=r"projects\[17\]\.cost"):
        solvers.solve(money, 1000)


def test_vectorised_parse_reads_money_exactly() -> None:
    """Float money on the fast path scales to the same cents as the per-item path."""
    rng = random.Random(11)
    costs = [round(rng.uniform(0, 1e6), 2) for _ in range(4000)]
    budget = round(sum(costs) / 3, 2)
    fast = solvers.solve(costs, budget, algorithm="greedy", measure_memory=False)
    slow = solvers.solve([str(c) for c in costs], str(budget), algorithm="greedy",
                         measure_memory=False)
    assert fast["total_cost_exact"] == slow["total_cost_exact"]
    assert fast["selected_indices"] == slow["selected_indices"]


def test_best_pair_and_subset_recovery_are_exact() -> None:
    """MITM's best pair equals the exhaustive optimum, and its subset sums to it."""
    rng = random.Random(3)
    for big in (False, True):
        for _ in range(30):
            n = rng.randint(1, 14)
            costs = [rng.randint(1, 10**20 if big else 1000) for _ in range(n)]
            budget = rng.randint(0, sum(costs))
            chosen, best = best_pair(costs, budget)
            assert best == optimum(costs, budget)
            assert sum(costs[i] for i in chosen) == best
    items = [5, 9, 14, 3, 8]
    assert sum(items[i] for i in subset_with_sum(items, 25)) == 25


HARD = {
    # (algorithm, instance): what makes each method work until its limit
    "meet_in_the_middle": ("big", 44),
    "dp": ("wide", 1000),
    "backtracking": ("big", 60),
    "hybrid": ("big", 60),
    "auto": ("big", 60),
    "brute_force": ("big", 24),
}


def _hard(kind: str, n: int) -> tuple[list[int], int]:
    rng = random.Random(99)
    if kind == "wide":  # dp's rows are 4 * 10^8 bits wide: seconds before the budget is hit
        costs = [rng.randint(10**6, 3 * 10**6) for _ in range(n)]
        return costs, sum(costs) // 5
    costs = [rng.randint(10**18, 10**20) for _ in range(n)]
    return costs, sum(costs) // 3


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HARD))
def test_every_method_honours_its_time_limit(name: str) -> None:
    """A 0.5 s limit ends each method within 2x + 0.5 s (10 % + 50 ms measured quietly)."""
    costs, budget = _hard(*HARD[name])
    limit = 0.5
    start = time.perf_counter()
    result = solvers.solve(costs, budget, algorithm=name, time_limit=limit,
                           measure_memory=False)
    elapsed = time.perf_counter() - start
    assert elapsed <= 2 * limit + 0.5, f"{name} took {elapsed:.2f}s for a {limit}s limit"
    assert result["status"] in {"approximate", "exact", "failed"}
    _check_feasible(result, costs, budget)


def test_mitm_honours_huge_time_limit_types() -> None:
    """Time limits are floats of seconds; an int beyond float range is an input error."""
    with pytest.raises(solvers.InvalidInputError):
        solvers.solve([1, 2, 3], 4, algorithm="meet_in_the_middle", time_limit=10**400)


def test_core_hit_stays_within_the_memory_cap() -> None:
    """With a 32 MiB cap the difference core shrinks and the result is still honest."""
    inst = generate("pe", 1000, seed=4, e=15)
    result = solvers.solve(inst.projects(), inst.budget, algorithm="hybrid", time_limit=5,
                           limits=Limits(memory_cap_bytes=32 * 2**20), measure_memory=True)
    assert result["memory_used"] < 32 * 4  # MiB, generous: traced peak of the whole solve
    _check_feasible(result, list(inst.costs), inst.budget)
    if result["status"] == "exact":
        assert result["total_cost"] == inst.budget


def test_numpy_core_answers_are_checked_like_any_other() -> None:
    """A large exact answer goes through the same feasibility checks (vectorised)."""
    inst = generate("pthree", 50_000, seed=5)
    result = solvers.solve(inst.projects(), inst.budget, measure_memory=False)
    assert result["status"] == "exact"
    sel = np.array(result["selected_indices"])
    assert int(np.asarray(inst.costs)[sel].sum()) == result["total_cost"] == inst.budget


def test_schroeppel_shamir_matches_brute_force() -> None:
    """The blockwise four-list search finds the exhaustive optimum and a subset summing to it."""
    from solvers._ss import schroeppel_shamir

    rng = random.Random(21)
    for _ in range(150):
        n = rng.randint(1, 13)
        costs = [rng.randint(1, rng.choice([10, 1000, 10**12])) for _ in range(n)]
        budget = rng.randint(0, sum(costs))
        chosen, best = schroeppel_shamir(costs, budget, lambda: None)
        assert best == optimum(costs, budget)
        assert len(set(chosen)) == len(chosen) and sum(costs[i] for i in chosen) == best


def test_cost_model_is_measured_and_predicts_within_a_factor() -> None:
    """The measured model predicts a dp forward pass and a MITM within 10x of the real time."""
    from itertools import accumulate

    from solvers import dp
    from solvers._costmodel import CostModel, measure

    model = measure()
    assert isinstance(model, CostModel) and model.dp_small > 0 and model.sums_per_sum > 0
    rng = random.Random(3)
    costs = sorted(rng.randint(1, 10**5) for _ in range(300))
    cap = sum(costs) + 5  # never reached: the full forward pass
    core = Core(costs, cap, cap, Limits(), None)
    start = time.perf_counter()
    dp.forward(costs, cap, core)
    real = time.perf_counter() - start
    predicted = model.dp(sum(min(p, cap) + 1 for p in accumulate(costs)), cap) / 3
    assert real / 10 <= predicted <= real * 10, (real, predicted)
    items = [2 * rng.randint(10**11, 10**13) for _ in range(36)]
    start = time.perf_counter()
    best_pair(items, sum(items) // 2 | 1)  # odd target, even items: a full sweep
    real = time.perf_counter() - start
    assert real / 10 <= model.mitm(36) <= real * 10, (real, model.mitm(36))


def test_hybrid_uses_an_installed_cost_model() -> None:
    """A model saying dp is very slow steers hybrid's exact fallback away from dp."""
    from solvers._costmodel import CostModel, cost_model, set_cost_model

    inst = generate("somatoth", 100, seed=1)  # unreachable budget: the heuristics cannot prove
    real = cost_model()
    normal = solvers.solve(inst.projects(), inst.budget, algorithm="hybrid", time_limit=5,
                           measure_memory=False)
    try:
        set_cost_model(CostModel(1.0, 1.0, real.sums_per_sum, 0.0, real.query_per_sum))
        slow_dp = solvers.solve(inst.projects(), inst.budget, algorithm="hybrid",
                                time_limit=1, measure_memory=False)
    finally:
        set_cost_model(None)
    assert normal["status"] == "exact" and normal["stage"] == "dp"
    assert slow_dp["stage"] != "dp"


def test_cost_model_is_the_reference_without_any_measurement(monkeypatch) -> None:
    """No calibration runs implicitly: the model is the fixed reference until one is set."""
    from solvers import _costmodel

    def boom() -> None:
        raise AssertionError("measured")

    monkeypatch.setattr(_costmodel, "measure", boom)
    assert _costmodel.cost_model() is _costmodel.REFERENCE
    inst = generate("somatoth", 100, seed=1)
    result = solvers.solve(inst.projects(), inst.budget, algorithm="hybrid", time_limit=5)
    assert result["status"] == "exact" and result["stage"] == "dp"


def test_fallback_plan_depends_on_the_limit_not_on_the_time_left() -> None:
    """hybrid plans its exact fallback from the call's limit: a core with most of its time
    already gone (a loaded machine) still runs the planned dp."""
    from solvers import hybrid
    from solvers._core import parse_call, prepare
    from solvers._costmodel import REFERENCE, set_cost_model

    assert hybrid.plan_fallback({"dp": 1.0, "meet_in_the_middle": 3.0}, 10.0) == "dp"
    assert hybrid.plan_fallback({"dp": 9.0}, 10.0) == "backtracking"  # over PLAN_SHARE
    assert hybrid.plan_fallback({}, 10.0) == "backtracking"
    inst = generate("somatoth", 2000, seed=1)
    problem, limits, _ = parse_call(list(inst.costs), inst.budget, None, None)
    stages = []
    # dp priced at ~1 s: past "cheaper than the heuristics", so the fallback plan decides
    set_cost_model(replace(REFERENCE, dp_small=1e-5, dp_large=1e-5))
    try:
        for left in (100.0, 0.05):
            core = prepare(problem, limits, time.perf_counter() + left).core
            assert core is not None
            core.seconds = 100.0
            answer = hybrid._solve_core(core)
            stages.append(answer.extra["stage"])
    finally:
        set_cost_model(None)
    # the planned method (dp, or balsub with Numba: cheaper there) either way; before issue
    # 19: "backtracking" with 0.05 s left
    assert stages[0] == stages[1] in {"dp", "balsub"}, stages


def test_centre_out_visits_every_block_once() -> None:
    """Schroeppel–Shamir's block order is a permutation of the blocks, densest first."""
    from solvers._ss import _centre_out

    for top, width, centre in [(0, 1, 0), (99, 10, 55), (99, 10, -5), (99, 10, 10**6),
                               (1000, 7, 500)]:
        starts = _centre_out(top, width, centre)
        assert sorted(starts) == list(range(0, top + 1, width))
        assert starts[0] <= min(max(centre, 0), top) < starts[0] + width


def _pe(n: int, e: int, seed: int) -> tuple[list[int], int]:
    rng = random.Random(seed)
    return [rng.randint(1, 10**e) for _ in range(n)], n * 10**e // 4


@pytest.mark.parametrize(("n", "e"), [(48, 13), (56, 14)])
def test_schroeppel_shamir_is_priced_within_a_factor(n: int, e: int) -> None:
    """The Schroeppel–Shamir estimate of a dense instance (an early hit expected) is within
    5x of the real solve (it was 1-14x too high at 48 items, 32-107x at 58)."""
    from solvers import meet_in_the_middle
    from solvers._core import parse_call, prepare

    costs, budget = _pe(n, e, 1)
    problem, limits, _ = parse_call(costs, budget, None, None)
    core = prepare(problem, limits, None).core
    assert core is not None and meet_in_the_middle.use_ss(core)
    predicted = meet_in_the_middle.estimated_seconds(core)
    start = time.perf_counter()
    result = solvers.solve(costs, budget, algorithm="meet_in_the_middle", time_limit=30)
    real = time.perf_counter() - start
    assert result["status"] == "exact" and result["method"] == "schroeppel_shamir"
    assert real / 5 <= predicted <= real * 5, (real, predicted)


def test_auto_proves_sparse_56_items_with_schroeppel_shamir() -> None:
    """P(14) with 56 items: hybrid prices Schroeppel–Shamir right and proves the optimum
    (before: backtracking, approximate after 10 s)."""
    costs, budget = _pe(56, 14, 1)
    result = solvers.solve(costs, budget, time_limit=20)
    assert result["status"] == "exact" and result["total_cost"] == budget
    assert result["stage"] == "meet_in_the_middle" and result["method"] == "schroeppel_shamir"


def test_prefix_cut_is_exact_beyond_int64() -> None:
    """The fixed part's cut, summed past int64 in Python integers, matches a plain scan."""
    from solvers._bigcore import _prefix_cut

    rng = random.Random(19)
    for _ in range(40):
        values = [rng.randint(1, 2**60) for _ in range(rng.randint(1, 300))]
        goal = rng.randint(0, sum(values) + 5)
        b, acc = 0, 0
        while b < len(values) and acc + values[b] <= goal:
            acc += values[b]
            b += 1
        arr = np.array(values, dtype=np.int64)
        assert _prefix_cut(arr, goal, exact_sums=False) == (b, acc)
        if sum(values) < 2**62:
            assert _prefix_cut(arr, goal, exact_sums=True) == (b, acc)


@pytest.mark.parametrize(("n", "e"), [(10_000, 15), (10_000, 18)])
def test_costs_whose_sums_pass_int64_are_proven_by_the_core(n: int, e: int) -> None:
    """P(15) n = 10,000 (sum ~5e18) and P(18) n = 10,000 (budget 2.5e21): the difference core
    proves the budget (before: backtracking, approximate after 10 s)."""
    costs, budget = _pe(n, e, 1)
    assert sum(costs) >= 2**62
    result = solvers.solve(costs, budget, time_limit=20)
    assert result["status"] == "exact" and result["stage"] == "core"
    assert result["total_cost_exact"] == str(budget)
    assert sum(costs[i] for i in result["selected_indices"]) == budget


def test_the_small_n_core_builds_nothing_it_cannot_finish(monkeypatch) -> None:
    """The small-n difference core builds every subset sum of the items outside the core (up to
    2^22, ~0.25 s) only when that build fits before the deadline too: with 5 ms left it
    returns at once, unbuilt (before, a 10 ms hybrid solve of 62-74 sparse items ran 80-140 ms)."""
    from solvers import _bigcore
    from solvers._core import parse_call, prepare

    rng = random.Random(5)
    costs = [rng.randint(10**12, 10**13) for _ in range(70)]
    problem, limits, _ = parse_call(costs, sum(costs) // 2, None, None)
    core = prepare(problem, limits, None).core
    assert core is not None and core.array is not None
    built: list[int] = []
    real = _bigcore._sorted_sums
    monkeypatch.setattr(_bigcore, "_sorted_sums", lambda items: built.append(len(items))
                        or real(items))
    start = time.perf_counter()
    assert _bigcore._enumerated_hit(core, start + 0.005) is None
    assert built == [] and time.perf_counter() - start < 0.5
    start = time.perf_counter()  # with time to spare it does build (the rest's sums)
    _bigcore._enumerated_hit(core, start + 30)
    assert built and max(built) >= 16
    result = solvers.solve(costs, sum(costs) // 2, algorithm="hybrid", time_limit=0.01)
    assert result["status"] in {"exact", "approximate"}


def test_schroeppel_shamir_bounds_each_blocks_work_on_skewed_sums(monkeypatch) -> None:
    """Value blocks have equal widths but skewed sums crowd some of them: a block with more than
    2·BLOCK sums on a side is halved, so the clock is checked every ~2·BLOCK sums (before, one
    crowded block ran 1.4 s past a 0.5 s limit on a two-scale instance); the answer stays the
    optimum."""
    from solvers import _ss

    monkeypatch.setattr(_ss, "BLOCK", 64)
    rng = random.Random(3)
    for _ in range(5):  # two scales: many small costs, a few large ones
        costs = ([rng.randint(1, 50) for _ in range(16)]
                 + [rng.randint(10**6, 2 * 10**6) for _ in range(6)])
        budget = sum(costs) // 2 + rng.randint(0, 40)
        produced: list[int] = []
        real = _ss._pairs_in

        def counted(a, b, lo, hi, limit=None, real=real, produced=produced):
            out = real(a, b, lo, hi, limit)
            if out is not None:
                produced.append(out.size)
            return out

        monkeypatch.setattr(_ss, "_pairs_in", counted)
        checks: list[int] = []
        chosen, best = _ss.schroeppel_shamir(costs, budget, lambda checks=checks: checks.append(1))
        assert best == optimum(costs, budget) == sum(costs[i] for i in chosen)
        assert max(produced) <= 2 * 64 or max(produced) == 0
        assert len(checks) >= 1
