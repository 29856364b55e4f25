"""Guard rails answer with a status and a reason instead of hanging or raising MemoryError."""

from __future__ import annotations

import time

import solvers
from solvers import Limits
from solvers.instances import generate


def test_brute_force_refuses_n_above_its_limit() -> None:
    """Brute force refuses more items than its limit, naming the limit."""
    result = solvers.solve(list(range(1, 31)), 200, algorithm="brute_force")
    assert result["status"] == "failed"
    assert "limit is 24" in result["reason"]
    assert result["selected_indices"] == [] and result["total_cost"] == 0


def test_brute_force_limit_counts_items_that_fit() -> None:
    """Projects costlier than the budget are dropped before the limit is applied."""
    costs = [1, 2, 3] + [10**6] * 40
    result = solvers.solve(costs, 5, algorithm="brute_force", measure_memory=False)
    assert result["status"] == "exact" and result["total_cost"] == 5


def test_dp_refuses_a_table_over_the_memory_cap() -> None:
    """dp refuses a table over the configured memory cap instead of raising MemoryError."""
    small_cap = Limits(memory_cap_bytes=1 << 20)
    result = solvers.solve([10**7 + 1, 10**7 + 3, 3 * 10**7 + 7], 4 * 10**7, algorithm="dp",
                           limits=small_cap)
    assert result["status"] == "failed"
    assert "memory cap" in result["reason"]


def test_mitm_refuses_n_above_its_limit() -> None:
    """Meet in the middle refuses more items than its limits (64 int64, 46 Python ints)."""
    result = solvers.solve([2**40 + k for k in range(70)], 2**45, algorithm="meet_in_the_middle")
    assert result["status"] == "failed" and "limit is 64" in result["reason"]
    result = solvers.solve([2**70 + k for k in range(50)], 2**74, algorithm="meet_in_the_middle")
    assert result["status"] == "failed" and "limit is 46" in result["reason"]


def test_mitm_runs_schroeppel_shamir_above_46_items() -> None:
    """Above 46 int64 items meet in the middle switches to Schroeppel–Shamir and proves it."""
    import random

    rng = random.Random(8)
    costs = [rng.randint(10**13, 10**15) for _ in range(48)]
    budget = sum(costs) // 2 + 12345
    result = solvers.solve(costs, budget, algorithm="meet_in_the_middle", time_limit=60,
                           measure_memory=False)
    assert result["status"] == "exact" and result["method"] == "schroeppel_shamir"
    assert result["total_cost"] == sum(costs[i] for i in result["selected_indices"]) <= budget


def test_backtracking_time_limit_returns_best_so_far_as_approximate() -> None:
    """A time-limited backtracking search on a hard instance returns its best so far."""
    inst = generate("todd", 36, seed=0)
    start = time.perf_counter()
    result = solvers.solve(inst.costs, inst.budget, algorithm="backtracking", time_limit=0.2,
                           measure_memory=False)
    assert time.perf_counter() - start < 5  # generous: the limit is 0.2 s
    assert result["status"] == "approximate"
    assert "time limit" in result["reason"]
    assert 0 < result["total_cost"] <= inst.budget
    assert result["upper_bound"] >= result["total_cost"]


def test_dp_time_limit_returns_greedy_answer() -> None:
    """dp stops at the time limit and answers approximately rather than running on."""
    inst = generate("pe", 200, seed=3, e=7)  # budget 5e8: about a minute of forward pass
    start = time.perf_counter()
    result = solvers.solve(inst.costs, inst.budget, algorithm="dp", time_limit=0.05,
                           measure_memory=False)
    assert time.perf_counter() - start < 5  # generous: the limit is 0.05 s
    assert result["status"] == "approximate" and "time limit" in result["reason"]
    assert 0 < result["total_cost"] <= inst.budget


def test_default_time_limit_bounds_unlimited_calls() -> None:
    """With no time limit given, the configured default still bounds the search."""
    inst = generate("todd", 36, seed=0)
    result = solvers.solve(inst.costs, inst.budget, algorithm="backtracking",
                           limits=Limits(default_time_limit=0.1), measure_memory=False)
    assert result["status"] == "approximate"


def test_certificates_prove_optimality_cheaply() -> None:
    """Greedy is exact when the budget is hit, or when the cardinality bound is reached."""
    hit = solvers.solve([5, 3, 2], 8, algorithm="greedy")
    assert hit["status"] == "exact" and hit["total_cost"] == 8
    avis = generate("avis", 30)
    card = solvers.solve(avis.costs, avis.budget, algorithm="greedy", measure_memory=False)
    assert card["status"] == "exact" and card["total_cost"] < avis.budget
    assert card["upper_bound"] == card["total_cost"]


def test_approximate_answers_carry_a_proven_upper_bound() -> None:
    """An approximate greedy answer reports a proven upper bound above its total."""
    result = solvers.solve([6, 5, 5], 10, algorithm="greedy")
    assert result["status"] == "approximate"
    assert result["total_cost"] == 6 and result["upper_bound"] == 10


def test_memory_is_measured_in_a_separate_pass() -> None:
    """memory_used comes from a traced pass; execution_time from the untraced one."""
    inst = generate("todd", 30, seed=0)
    result = solvers.solve(inst.costs, inst.budget, algorithm="meet_in_the_middle",
                           measure_memory=True)
    assert result["memory_method"] == "tracemalloc"
    assert result["memory_used"] > 1.0  # 2^15 int64 sums a side and their sort: MiBs
    quiet = solvers.solve(inst.costs, inst.budget, algorithm="meet_in_the_middle",
                          measure_memory=False)
    assert quiet["memory_method"] == "none"


def test_long_runs_report_resident_set_peak_instead_of_a_second_pass() -> None:
    """Past the memory-pass threshold, memory is the RSS peak growth of the timed pass."""
    import sys

    inst = generate("todd", 34, seed=0)
    result = solvers.solve(inst.costs, inst.budget, algorithm="meet_in_the_middle",
                           limits=Limits(memory_pass_max_seconds=0.0), measure_memory=True)
    expected = "rss" if sys.platform.startswith("linux") else "tracemalloc"
    assert result["memory_method"] == expected
    assert result["memory_used"] >= 0.0


def test_mitm_time_limit_stops_the_sum_listing() -> None:
    """Meet in the middle on Python-sized integers stops at the time limit."""
    import random

    rng = random.Random(1)
    costs = [rng.randint(10**18, 10**19) for _ in range(40)]
    start = time.perf_counter()
    result = solvers.solve(costs, sum(costs) // 2, algorithm="meet_in_the_middle",
                           time_limit=0.3, measure_memory=False)
    assert time.perf_counter() - start < 5  # generous: the limit is 0.3 s
    assert result["status"] == "approximate" and "time limit" in result["reason"]


def test_mitm_plans_python_integers_at_their_real_size() -> None:
    """Beyond int64, meet in the middle budgets ~150 bytes a sum and refuses sooner."""
    costs = [10**19 + k for k in range(46)]
    result = solvers.solve(costs, 23 * 10**19, algorithm="meet_in_the_middle")
    assert result["status"] == "failed" and "memory cap" in result["reason"]


def test_dp_reconstruction_memory_stays_bounded() -> None:
    """dp keeps a fixed budget of rows, not n rows: 29 rows of 19 MB would be 550 MB."""
    import random

    rng = random.Random(3)
    costs = [rng.randint(1, 10**7) for _ in range(29)]
    traced = Limits(memory_pass_max_seconds=60)  # a loaded machine must not switch to RSS
    result = solvers.solve(costs, 150_000_001, algorithm="dp", limits=traced,
                           measure_memory=True)
    assert result["status"] == "exact"
    assert result["memory_method"] == "tracemalloc" and result["memory_used"] < 300


def test_memory_is_not_measured_by_default() -> None:
    """A plain call runs one untraced pass: no memory figure, memory_method "none"."""
    result = solvers.solve([3, 5, 9, 11, 2], 17)
    assert result["memory_method"] == "none" and result["memory_used"] == 0.0
    assert result["status"] == "exact" and result["total_cost"] == 17


def test_time_limit_bounds_the_whole_call_with_memory_measured() -> None:
    """A solve cut at its limit gets no second, traced pass beyond it: the call ends near the
    limit and memory still comes back (resident-set growth of the timed pass on Linux)."""
    import sys

    inst = generate("todd", 36, seed=0)
    for algorithm in ("backtracking", "auto"):
        start = time.perf_counter()
        result = solvers.solve(inst.costs, inst.budget, algorithm=algorithm, time_limit=0.5,
                               measure_memory=True)
        wall = time.perf_counter() - start
        assert wall < 0.5 + 0.35, (algorithm, wall)  # generous: before, 2x the limit
        assert result["status"] in {"exact", "approximate"}
        if result["status"] == "approximate" and sys.platform.startswith("linux"):
            assert result["memory_method"] == "rss" and result["memory_used"] >= 0.0

