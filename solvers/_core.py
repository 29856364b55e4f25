"""Shared preprocessing, certificates and result assembly for every algorithm.

Each algorithm module implements ``_solve_core(core) -> Answer`` on a *reduced* problem and
exposes ``solve = make_solver(NAME, _solve_core)``. The wrapper here does the rest, identically
for all of them:

1. validate and scale the input (``_instance``);
2. take zero-cost projects for free and drop projects costlier than the budget;
3. take everything when it all fits (exact);
4. divide costs and budget by the gcd of the costs (the optimum is a multiple of it);
5. compute a proven upper bound: ``min(reduced budget, cardinality bound)``, where the
   cardinality bound is the sum of the ``k`` largest costs and ``k`` is the most projects that
   can fit at all (the sum of the ``k`` smallest is within the budget);
6. run the algorithm, map its answer back, and call it exact when it reached the bound or
   proved its answer; an exact answer whose own bound differs from its total, or any bound
   below a feasible total, is a bug: it is reported as approximate with the reason.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ._instance import Problem, exact_units, from_units, parse_problem, parse_time_limit
from ._limits import DEFAULT_LIMITS, Limits
from ._measure import measure

__all__ = ["Answer", "Core", "TimeUp", "call_deadline", "make_solver", "parse_call", "prepare",
           "run_core"]


ARRAY_MIN_N = 32  # from here preprocessing runs vectorised when the costs came as an array


class TimeUp(Exception):
    """Raised inside an algorithm when its deadline passes; carries nothing."""


@dataclass
class Core:
    """The reduced problem an algorithm sees (costs already ≤ budget, gcd divided out)."""

    costs: list[int]
    budget: int
    upper_bound: int
    limits: Limits
    deadline: float | None
    incumbent: list[int] = field(default_factory=list)  # a feasible answer to improve upon
    array: np.ndarray | None = field(default=None, repr=False)  # costs as int64, if they fit
    _order: np.ndarray | None = field(default=None, repr=False)
    memo: dict[str, Any] = field(default_factory=dict, repr=False)  # per-core cached analyses
    seconds: float | None = None
    """The call's whole time limit: methods *plan* with it (deterministic), and stop at
    ``deadline`` (what is actually left)."""

    def sorted_order(self) -> np.ndarray:
        """Positions of ``array`` in ascending cost order (computed once)."""
        if self._order is None:
            assert self.array is not None
            self._order = argsort_costs(self.array)
        return self._order

    @property
    def n(self) -> int:
        return len(self.costs)

    def plan_seconds(self) -> float:
        """Seconds to plan with: the call's time limit when known (the same on every run, so
        choices do not depend on load), else the time left."""
        return self.seconds if self.seconds is not None else self.time_left()

    def time_left(self) -> float:
        return math.inf if self.deadline is None else self.deadline - time.perf_counter()

    def check_time(self) -> None:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise TimeUp


@dataclass
class Answer:
    """What an algorithm returns: positions into ``Core.costs``."""

    indices: list[int]
    exact: bool
    reason: str | None = None
    failed: bool = False
    upper_bound: int | None = None  # a tighter proven bound than Core.upper_bound, if known
    algorithm: str | None = None  # what actually ran, when it differs from the entry point
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Prepared:
    """The outcome of preprocessing: either a finished answer or a core to solve."""

    problem: Problem
    forced: list[int]  # original positions always selected (zero-cost projects)
    positions: list[int] | np.ndarray  # original position of each core item
    gcd: int
    core: Core | None  # None when everything that fits is taken (nothing left to decide)


def argsort_costs(costs: np.ndarray) -> np.ndarray:
    """Stable ascending order of int64 costs; NumPy radix-sorts 16-bit keys, ~5x faster."""
    if costs.size and int(costs.max()) < 1 << 16:
        return np.argsort(costs.astype(np.uint16), kind="stable")
    return np.argsort(costs, kind="stable")


def cardinality_bound(costs: list[int], budget: int) -> int:
    """Sum of the k largest costs, k being the most items whose smallest sum fits."""
    ordered = sorted(costs)
    k, acc = 0, 0
    for c in ordered:
        if acc + c > budget:
            break
        acc += c
        k += 1
    return sum(ordered[len(ordered) - k :]) if k else 0


class _ArrayCore(Core):
    """A core built from an int64 array: ``costs`` (the Python list) is made on first use and
    then is a plain attribute (a cached property: no per-access cost), so methods that work on
    the array alone never pay for a million-item list. Build it with :func:`_array_core`."""

    @cached_property
    def costs(self) -> list[int]:  # type: ignore[override]
        assert self.array is not None
        return self.array.tolist()

    @property
    def n(self) -> int:
        return int(self.array.size) if self.array is not None else len(self.costs)


def _array_core(budget: int, ub: int, limits: Limits, deadline: float | None,
                array: np.ndarray, order: np.ndarray | None = None) -> Core:
    core = _ArrayCore(None, budget, ub, limits, deadline, array=array,  # type: ignore[arg-type]
                      _order=order)
    del core.__dict__["costs"]  # the dataclass set None: the cached property makes the list
    return core


COUNT_SORT_MAX = 1 << 20  # costs up to here (and up to 4n) are counted, not sorted


def _cardinality_counts(counts: np.ndarray, budget: int) -> int:
    """``cardinality_bound`` from the number of items of each cost (index = cost)."""
    vals = np.flatnonzero(counts)
    cnt = counts[vals]
    cw = np.cumsum(cnt * vals)
    j = int(np.searchsorted(cw, budget, side="right"))  # classes taken whole
    k = int(cnt[:j].sum())
    if j < vals.size:
        k += (budget - (int(cw[j - 1]) if j else 0)) // int(vals[j])
    if k <= 0:
        return 0
    # the k largest: whole classes from the top while they fit in k, then part of the next
    rc = np.cumsum(cnt[::-1])  # items in the top classes
    rv = np.cumsum((cnt * vals)[::-1])
    whole = int(np.searchsorted(rc, k, side="right"))  # classes taken whole
    top = int(rv[whole - 1]) if whole else 0
    left = k - (int(rc[whole - 1]) if whole else 0)
    if left > 0 and whole < vals.size:
        top += left * int(vals[::-1][whole])
    return top


def _prepare_array(problem: Problem, arr: np.ndarray, limits: Limits,
                   deadline: float | None) -> Prepared:
    """``prepare`` vectorised with NumPy (large instances whose costs fit int64)."""
    budget = problem.budget
    lo, hi = int(arr.min()), int(arr.max())
    if lo > 0 and hi <= budget:  # the usual case: every project is a candidate
        forced: list[int] = []
        keep = np.arange(arr.size)
        costs = arr
    else:
        forced = np.flatnonzero(arr == 0).tolist()
        keep = np.flatnonzero((arr > 0) & (arr <= budget))
        costs = arr[keep]
    if int(costs.sum()) <= budget:  # ≤ 2M costs of ≤ 2^40 each: the sum fits int64
        return Prepared(problem, forced + keep.tolist(), [], 1, None)
    g = int(np.gcd.reduce(costs))
    reduced = costs // g if g > 1 else costs
    rbudget = budget // g
    top_cost = hi // g
    if top_cost <= min(COUNT_SORT_MAX, 4 * reduced.size):
        counts = np.bincount(reduced)
        ub = min(rbudget, _cardinality_counts(counts, rbudget))
        core = _array_core(rbudget, ub, limits, deadline, reduced)
        core.memo["bincount"] = counts
        return Prepared(problem, forced, keep, g, core)  # type: ignore[arg-type]
    order = argsort_costs(reduced)
    ordered = reduced[order]
    csum = np.cumsum(ordered)  # prefix sums of the smallest: < n · 2^40 here, no overflow
    k = int(np.searchsorted(csum, rbudget, side="right"))
    top = int(ordered[len(ordered) - k:].sum()) if k else 0
    ub = min(rbudget, top)
    core = _array_core(rbudget, ub, limits, deadline, reduced, order)
    return Prepared(problem, forced, keep, g, core)  # type: ignore[arg-type]


def prepare(problem: Problem, limits: Limits, deadline: float | None) -> Prepared:
    arr = problem.array
    if arr is not None and arr.size >= ARRAY_MIN_N and int(arr.max()) <= 2**40:
        return _prepare_array(problem, arr, limits, deadline)
    budget = problem.budget
    forced = [i for i, c in enumerate(problem.costs) if c == 0]
    positions = [i for i, c in enumerate(problem.costs) if 0 < c <= budget]
    costs = [problem.costs[i] for i in positions]
    if sum(costs) <= budget:
        return Prepared(problem, forced + positions, [], 1, None)
    g = math.gcd(*costs)
    reduced = [c // g for c in costs]
    rbudget = budget // g
    ub = min(rbudget, cardinality_bound(reduced, rbudget))
    array = np.array(reduced, dtype=np.int64) if sum(reduced) < 2**62 else None
    core = Core(reduced, rbudget, ub, limits, deadline, array=array)
    return Prepared(problem, forced, positions, g, core)


def _certificate(answer: Answer, total: int, core: Core) -> tuple[bool, int, str | None]:
    """(exact, proven upper bound, why a self-check failed) for a feasible ``total``.

    Exact when the method proved it or the total reaches the bound. A proof must agree with
    itself: the bound of an exact answer equals its total, and no bound lies below a feasible
    total. When that fails the method has a bug: nothing it claims is trusted (not exact, the
    preprocessing bound, or the budget if even that is below the total), and the reason says
    so."""
    problems = []
    if answer.upper_bound is not None and answer.upper_bound < total:
        problems.append(f"its upper bound {answer.upper_bound} is below its total {total}")
    elif answer.exact and answer.upper_bound is not None and answer.upper_bound != total:
        problems.append(f"it claimed exact with total {total} but upper bound "
                        f"{answer.upper_bound}")
    if total > core.upper_bound:
        problems.append(f"the preprocessing bound {core.upper_bound} is below the total {total}")
    if problems:
        bound = core.upper_bound if total <= core.upper_bound else core.budget
        return False, bound, ("internal check failed, not claimed exact: "
                              + "; ".join(problems) + " (in reduced units)")
    bound = (core.upper_bound if answer.upper_bound is None
             else min(core.upper_bound, answer.upper_bound))
    return answer.exact or total >= bound, bound, None


def _result(
    prep: Prepared, answer: Answer | None, name: str, scale: int
) -> dict[str, Any]:
    problem = prep.problem
    if answer is None:  # trivial: everything that fits is taken
        selected = sorted(prep.forced)
        total = sum(problem.costs[i] for i in selected)
        return _assemble(selected, total, total, "exact", None, name, scale, problem)
    core = prep.core
    assert core is not None
    if answer.failed:
        ub = core.upper_bound * prep.gcd
        return _assemble([], 0, ub, "failed", answer.reason, answer.algorithm or name, scale,
                         problem, answer.extra)
    if core.array is not None and len(answer.indices) > 256:  # the same checks, vectorised
        idx = np.asarray(answer.indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= core.n):
            raise AssertionError(f"{name} returned invalid indices")
        seen = np.zeros(core.n, dtype=bool)
        seen[idx] = True
        if int(np.count_nonzero(seen)) != idx.size:
            raise AssertionError(f"{name} returned invalid indices")
        reduced_total = int(core.array[idx].sum())
        mapped = np.sort(np.asarray(prep.positions, dtype=np.int64)[idx]).tolist()  # sorted
    else:
        chosen = set(map(int, answer.indices))
        if len(chosen) != len(answer.indices) or (chosen and not (
                min(chosen) >= 0 and max(chosen) < core.n)):
            raise AssertionError(f"{name} returned invalid indices")
        reduced_total = sum(core.costs[i] for i in chosen)
        mapped = (np.asarray(prep.positions)[list(chosen)].tolist()
                  if isinstance(prep.positions, np.ndarray)
                  else [int(prep.positions[i]) for i in chosen])
    if reduced_total > core.budget:
        raise AssertionError(f"{name} returned an infeasible selection")
    exact, ub_red, broken = _certificate(answer, reduced_total, core)
    if prep.forced:
        selected = sorted(prep.forced + mapped)
    else:
        selected = mapped if len(mapped) > 256 and core.array is not None else sorted(mapped)
    total = reduced_total * prep.gcd
    status = "exact" if exact else "approximate"
    upper = total if exact else ub_red * prep.gcd
    reason = None if exact else (broken or answer.reason or "not proven optimal")
    return _assemble(selected, total, upper, status, reason, answer.algorithm or name, scale,
                     problem, answer.extra)


def _assemble(
    selected: list[int], total: int, upper: int, status: str, reason: str | None,
    algorithm: str, scale: int, problem: Problem, extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "selected_indices": selected,
        "total_cost": from_units(total, scale),
        "execution_time": 0.0,
        "memory_used": 0.0,
        "status": status,
        "algorithm": algorithm,
        "upper_bound": from_units(upper, scale),
        "reason": reason,
        "budget": from_units(problem.budget, scale),
        "n": problem.n,
        # Exact decimal strings: the floats above cannot hold cents beyond ~9e13.
        "total_cost_exact": exact_units(total, scale),
        "upper_bound_exact": exact_units(upper, scale),
        "budget_exact": exact_units(problem.budget, scale),
    }
    if extra:
        out.update(extra)
    return out


def run_core(
    name: str,
    core_fn: Callable[[Core], Answer],
    problem: Problem,
    limits: Limits,
    time_limit: float | None,
    *,
    deadline: float | None = None,
) -> dict[str, Any]:
    """Preprocess, run ``core_fn`` and assemble the result (no measurement). ``deadline``
    (``time.perf_counter()`` seconds), when given, replaces the one ``time_limit`` would set
    from now: the public wrappers set it once when the call starts, so parsing, features and a
    memory pass all count against the caller's limit."""
    if deadline is None:
        deadline = call_deadline(time.perf_counter(), time_limit, limits)
    prep = prepare(problem, limits, deadline)
    if prep.core is None:
        return _result(prep, None, name, problem.scale)
    prep.core.seconds = time_limit if time_limit is not None else limits.default_time_limit
    try:
        answer = core_fn(prep.core)
    except MemoryError:
        answer = Answer([], False, failed=True, reason=f"{name} ran out of memory")
    return _result(prep, answer, name, problem.scale)


def call_deadline(start: float, time_limit: float | None, limits: Limits) -> float | None:
    """The deadline of a call started at ``start``: its time limit, or the default one."""
    limit = time_limit if time_limit is not None else limits.default_time_limit
    return None if limit is None else start + limit


def parse_call(projects: Any, budget: Any, time_limit: Any, limits: Limits | None
               ) -> tuple[Problem, Limits, float | None]:
    """Validate one call's arguments: (problem, limits, time limit); raises InvalidInputError."""
    lim = limits or DEFAULT_LIMITS
    return parse_problem(projects, budget, lim), lim, parse_time_limit(time_limit)


def make_solver(name: str, core_fn: Callable[[Core], Answer]) -> Callable[..., dict[str, Any]]:
    """The public ``solve(projects, budget, *, time_limit=None)`` of one algorithm module."""

    def solve(
        projects: Any,
        budget: Any,
        *,
        time_limit: float | None = None,
        limits: Limits | None = None,
        measure_memory: bool = False,
    ) -> dict[str, Any]:
        start = time.perf_counter()
        problem, lim, tl = parse_call(projects, budget, time_limit, limits)
        deadline = call_deadline(start, tl, lim)
        return measure(lambda: run_core(name, core_fn, problem, lim, tl, deadline=deadline),
                       measure_memory, lim, deadline)

    solve.__name__ = "solve"
    solve.__qualname__ = f"{name}.solve"
    solve.__doc__ = (
        f"Solve with {name}; returns the shared result dict (see ``solvers.solve``).\n\n"
        "Raises InvalidInputError for bad input."
    )
    return solve
