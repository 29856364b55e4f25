"""Hybrid: fast heuristics first, then an exact fallback chosen by predicted cost.

0. Every exact method that would run gets a predicted time from the reference cost model
   (``solvers._costmodel``: fixed constants, so the plan is the same on every run): dp by the
   widths its forward pass will shift (and its divisor split, ``solvers._groups``), meet in
   the middle / Schroeppel–Shamir by their sums.
   When the cheapest is predicted to beat the heuristics themselves (~2 µs an item), it runs
   at once (``stage`` = its name): Frobenius-like instances never pay for guessing. So does a
   planned method that is itself the best hit search: backtracking priced on two scales, and
   Schroeppel–Shamir priced to stop at its first hit (unless the core step's birthday search
   expects its hit sooner) — ``exact_first``, which the forecast asks too.
1. Greedy (largest first), then improving 1-for-1 swaps (each round O(n log n)); skipped above
   ``LARGE_N`` items, where only NumPy work is done.
2. The difference core (``solvers._bigcore``, Pisinger's core idea for subset sum): gaps
   between adjacent costs (or, for n ≤ 96, the smallest costs) form a small core whose subset
   sums cover a window densely; the rest is fixed towards the window and every cheap variation
   of it is a target, checked exactly by meet in the middle. The core size adapts to the
   magnitude of the costs. With it, when its plan expects a hit in the time, the generalised
   birthday search (``solvers._birthday``: four lists of 2^k subset sums joined mod 2^64,
   dense instances whose sums pass int64 or whose gaps are too few, e.g. P(18) n = 100).
   A hit reaches the upper bound: a proof (``stage`` = ``"core"``). It
   gets half the time left when no exact method is predicted to finish, else at most
   ``HEURISTIC_SECONDS`` or half the cheapest prediction.
3. Randomised core search over the raw costs (cores of 24–32 items, n ≤ ``LARGE_N``).
4. If nothing proved the incumbent optimal: the exact method with the smallest predicted time
   within ``PLAN_SHARE`` of the call's time limit (``plan_fallback``: not of the time left, so
   a loaded machine never changes the choice) — meet in the middle (n ≤ 46; Schroeppel–Shamir
   to 64), dp (on the optional Numba kernels for wide rows, ``solvers._native``), the bounded
   dp over equal-cost classes (``solvers._bounded``, n ≥ 1,000), balsub (``solvers._balsub``,
   O(n · max cost), only with Numba), backtracking when the costs lie on two scales (many tiny
   ones under a few huge ones, ``solvers._scales``: it enumerates only the huge ones'
   selections, and is priced so), otherwise backtracking from the incumbent. Each returns
   ``"approximate"`` with the best answer so far when time runs out.

Complexity: O(n log n) NumPy work plus the core's O(2^(K/2)) per target; the fallback costs
what its method costs. Limits: those of the fallback methods; never unbounded (time limit). The
result's ``stage`` says which step produced the answer.

**Configurations.** The knobs above (the random cores' sizes, the heuristics' share of the
cheapest exact prediction, when to go exact first, the quick core search) are one frozen
``HybridConfig``; ``DEFAULT_CONFIG`` is the behaviour described here, and
``solvers.CONFIGURATIONS`` names a few others (``"hybrid[exact-first]"``, ...) that a selector
may pick.
"""

from __future__ import annotations

import math
import random
import time
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from . import _balsub, _bounded, _residue, backtracking, dp, meet_in_the_middle
from ._bigcore import SMALL_N, birthday_route, core_hit, greedy_fast
from ._core import Answer, Core, TimeUp, make_solver
from ._mitm import best_pair
from .greedy import greedy_indices

NAME = "hybrid"

CORE_SIZES = (24, 32)  # free projects per core: 2^12 then 2^16 sums a side
ROUNDS_PER_SIZE = 16
HEURISTIC_SECONDS = 2.0  # core-search budget when no exact method is cheap
QUICK_CORE_SECONDS = 0.05  # randomised core search before the (costlier) small-n core
SWAP_ROUNDS = 64
_HEURISTIC_SECONDS_PER_ITEM = 2e-6  # greedy + swaps, measured ~1-2 µs an item in Python
PLAN_SHARE = 0.75  # an exact method is planned when predicted within this share of the limit
FALLBACK_MARGIN = 1.25  # the core searches leave the planned method this × its prediction
LARGE_N = 20_000  # above this the per-item Python heuristics are skipped (NumPy core only)
_SEED = 20240229


@dataclass(frozen=True)
class HybridConfig:
    """hybrid's knobs; the defaults are the behaviour the module docstring describes."""

    core_sizes: tuple[int, ...] = CORE_SIZES
    """Free projects per random core, one size per ``ROUNDS_PER_SIZE`` rounds, then the last."""
    heuristic_share: float = 0.5
    """Share of the cheapest exact method's predicted time the core searches may use."""
    heuristic_seconds: float = HEURISTIC_SECONDS
    """Cap on each core search when an exact method is predicted to finish."""
    exact_first: float = 0.0
    """Seconds: run the cheapest exact method at once when it is predicted under this (and
    under the time left); 0: only when it beats the heuristics themselves (~2 µs an item)."""
    quick_core_seconds: float = QUICK_CORE_SECONDS
    """Randomised core search before the small-n difference core (n ≤ 128)."""

    def __post_init__(self) -> None:
        if not self.core_sizes or any(k < 2 for k in self.core_sizes):
            raise ValueError(f"core_sizes must be sizes >= 2, got {self.core_sizes!r}")
        if not 0 < self.heuristic_share <= 1:
            raise ValueError(f"heuristic_share must be in (0, 1], got {self.heuristic_share}")
        if min(self.heuristic_seconds, self.exact_first, self.quick_core_seconds) < 0:
            raise ValueError("heuristic_seconds, exact_first, quick_core_seconds must be >= 0")


DEFAULT_CONFIG = HybridConfig()


def improve_swaps(costs: list[int], budget: int, chosen: list[int], target: int) -> list[int]:
    """Apply the best 1-for-1 swap (or addition) while one improves the total."""
    inside = set(chosen)
    total = sum(costs[i] for i in inside)
    for _ in range(min(len(costs), SWAP_ROUNDS)):
        gap = budget - total
        if gap == 0 or total >= target:
            break
        outside = sorted((costs[j], j) for j in range(len(costs)) if j not in inside)
        out_costs = [c for c, _ in outside]
        best_delta, move = 0, None
        k = bisect_right(out_costs, gap) - 1  # plain addition
        if k >= 0:
            best_delta, move = out_costs[k], (None, outside[k][1])
        for i in inside:
            k = bisect_right(out_costs, costs[i] + gap) - 1
            if k >= 0 and out_costs[k] - costs[i] > best_delta:
                best_delta, move = out_costs[k] - costs[i], (i, outside[k][1])
                if best_delta == gap:
                    break
        if move is None:
            break
        drop, add = move
        if drop is not None:
            inside.discard(drop)
        inside.add(add)
        total += best_delta
    return sorted(inside)


def core_search(core: Core, chosen: list[int], seconds: float,
                sizes: tuple[int, ...] = CORE_SIZES) -> list[int]:
    """Re-optimise random small cores (``sizes``) exactly for about ``seconds`` (or until
    proven)."""
    rng = random.Random(_SEED)
    n, costs = core.n, core.costs
    inside = set(chosen)
    total = sum(costs[i] for i in inside)
    stop = time.perf_counter() + min(seconds, core.time_left())
    rounds = 0
    while total < core.upper_bound and time.perf_counter() < stop:
        size = min(n, sizes[min(rounds // ROUNDS_PER_SIZE, len(sizes) - 1)])
        rounds += 1
        ins, outs = list(inside), [j for j in range(n) if j not in inside]
        k_in = min(len(ins), size // 2)
        k_out = min(len(outs), size - k_in)
        k_in = min(len(ins), size - k_out)
        free = rng.sample(ins, k_in) + rng.sample(outs, k_out)
        fixed_total = total - sum(costs[i] for i in free if i in inside)
        picked, best = best_pair([costs[i] for i in free], core.budget - fixed_total)
        if fixed_total + best > total:
            inside.difference_update(free)
            inside.update(free[p] for p in picked)
            total = fixed_total + best
    return sorted(inside)


def estimated_seconds(core: Core) -> dict[str, float]:
    """Estimated time of each exact method that would agree to run on this core."""
    est: dict[str, float] = {}
    if meet_in_the_middle.refusal(core) is None:
        est["meet_in_the_middle"] = meet_in_the_middle.estimated_seconds(core)
    if dp.refusal(core) is None:
        est["dp"] = dp.predicted_seconds(core)
    bounded = _bounded.estimated_seconds(core)
    if bounded is not None:
        est[_bounded.NAME] = bounded
    balanced = _balsub.estimated_seconds(core)
    if balanced is not None:
        est[_balsub.NAME] = balanced
    searched = backtracking.estimated_seconds(core)  # only for costs on two scales
    if searched is not None:
        est[backtracking.NAME] = searched
    return est


def _exact(method: str, core: Core) -> Answer:
    """Run the exact method called ``method`` (a key of ``estimated_seconds``, or
    backtracking)."""
    if method == _bounded.NAME:
        return _bounded.solve_core(core)
    if method == _balsub.NAME:
        return _balsub.solve_core(core)
    module = {"meet_in_the_middle": meet_in_the_middle, "dp": dp}.get(method, backtracking)
    return module._solve_core(core)


def heuristics(core: Core, exact_estimate: float, config: HybridConfig = DEFAULT_CONFIG
               ) -> list[int]:
    """Greedy, swaps, then core search for at most half (``heuristic_share``) the cheapest
    exact method's time."""
    chosen = greedy_indices(core.costs, core.budget)
    chosen = improve_swaps(core.costs, core.budget, chosen, core.upper_bound)
    if sum(core.costs[i] for i in chosen) < core.upper_bound:
        chosen = core_search(core, chosen, _search_seconds(core, exact_estimate, config),
                             config.core_sizes)
    return chosen


def _search_seconds(core: Core, cheapest: float, config: HybridConfig) -> float:
    """One core search's allotment: at most ``heuristic_seconds``, ``heuristic_share`` of the
    cheapest exact prediction and a quarter of the time left; and when that method is
    planned (within ``PLAN_SHARE`` of the limit), no more than half the slack it leaves
    (``FALLBACK_MARGIN`` × its prediction kept): the two searches never starve it."""
    seconds = min(config.heuristic_seconds, cheapest * config.heuristic_share,
                  core.time_left() / 4)
    if cheapest <= core.plan_seconds() * PLAN_SHARE:
        seconds = min(seconds, max(0.0, (core.time_left() - cheapest * FALLBACK_MARGIN) / 2))
    return seconds


def _exact_first(core: Core, cheapest: float, config: HybridConfig,
                 method: str | None = None) -> bool:
    """Is the cheapest exact method to run before any heuristic?"""
    if cheapest < core.n * _HEURISTIC_SECONDS_PER_ITEM:  # exact is cheaper than guessing
        return True
    if method == backtracking.NAME and cheapest <= core.plan_seconds() * PLAN_SHARE:
        # priced only on two scales, where it is itself the best guess: a depth-first search
        # from the greedy answer that stops at the first hit, which the heuristics' random
        # cores and swaps over the huge costs find no sooner
        return True
    if (method == meet_in_the_middle.NAME and cheapest <= core.plan_seconds() * PLAN_SHARE
            and meet_in_the_middle.use_ss(core)
            and meet_in_the_middle.ss_left_sums(core) is not None
            and not _random_cores_hit(core, config) and not _birthday_sooner(core, cheapest)):
        # Schroeppel–Shamir priced to stop at its first hit: its centre-out sweep is the hit
        # search, and the random cores before it only delayed it (47-55 items at 10^12..10^13:
        # 0.55 s of which 0.25 s heuristics, for a 0.3 s sweep)
        return True
    return cheapest < config.exact_first and cheapest <= core.plan_seconds() * PLAN_SHARE


def _random_cores_hit(core: Core, config: HybridConfig) -> bool:
    """Does one random core of the largest configured size expect a hit of the bound (its
    2^K sums near-normal around it, ``σ ≈ √K · rms(cost) / 2``)? Then the heuristics are the
    quicker way (dense costs: portfolios in cents hit in about a millisecond)."""
    k = min(core.n, max(config.core_sizes))
    if core.array is not None:
        rms = float(np.sqrt(np.mean(np.square(core.array.astype(np.float64)))))
    else:
        rms = math.sqrt(sum(float(c) * c for c in core.costs) / max(core.n, 1))
    return 2.0 ** k / (2.5 * max(math.sqrt(k) * rms / 2, 1.0)) >= 1.0


def _birthday_sooner(core: Core, seconds: float) -> bool:
    """Would the core step, given its share of an exact method's ``seconds``, run the
    birthday search (and so likely hit sooner than that method)?"""
    return birthday_route(core, seconds * DEFAULT_CONFIG.heuristic_share)[0] is not None


def plan_fallback(estimates: dict[str, float], seconds: float) -> str:
    """The exact fallback: the cheapest method predicted within ``PLAN_SHARE`` of the call's
    limit ``seconds``, else backtracking. A function of the instance and the limit only (the
    reference cost model, not the time the heuristics happened to take), so a loaded machine
    changes how long a solve takes, never which method it runs."""
    fits = {k: v for k, v in estimates.items() if v <= seconds * PLAN_SHARE}
    return min(fits, key=fits.__getitem__) if fits else "backtracking"


def exact_first(core: Core, estimates: dict[str, float],
                config: HybridConfig = DEFAULT_CONFIG) -> str | None:
    """The exact method hybrid runs before any heuristic on this core (``estimates``: from
    ``estimated_seconds``), or None. The forecast (``ml.runtime``) asks the same question."""
    if not estimates:
        return None
    first = min(estimates, key=estimates.__getitem__)
    return first if _exact_first(core, estimates[first], config, first) else None


def residue_step(core: Core) -> Answer | None:
    """Costs in one or two residue classes but a few: the residue-and-count bound, and a selection
    reaching it when the greedy exchange finds one (a proof); otherwise the core's bound is
    lowered to it, so that the heuristics and hits below aim at a reachable value."""
    cls = _residue.classes(core)
    if cls is None:
        return None
    found = _residue.bound(core, cls)
    if found.value >= core.upper_bound:
        return None
    core.upper_bound = found.value
    chosen = _residue.select(core, cls, found)
    if chosen is None:
        return None
    return Answer(chosen, exact=True, upper_bound=found.value, extra={"stage": "residue"})


def _solve_core(core: Core, config: HybridConfig = DEFAULT_CONFIG) -> Answer:
    try:
        by_residue = residue_step(core)
    except TimeUp:
        by_residue = None
    if by_residue is not None:
        return by_residue
    estimates = estimated_seconds(core)
    cheapest = min(estimates.values(), default=float("inf"))
    large = core.n > LARGE_N
    method = exact_first(core, estimates, config)
    if method is not None:
        answer = _exact(method, core)
        if not answer.failed:
            answer.extra = {**answer.extra, "stage": method}
            return answer
    if not large:
        chosen = greedy_indices(core.costs, core.budget)
        chosen = improve_swaps(core.costs, core.budget, chosen, core.upper_bound)
        if sum(core.costs[i] for i in chosen) >= core.upper_bound:
            return Answer(chosen, exact=True, upper_bound=core.upper_bound,
                          extra={"stage": "heuristic"})
        if core.n <= SMALL_N:  # dense small instances: random cores hit in about a millisecond
            chosen = core_search(core, chosen, min(config.quick_core_seconds,
                                                   cheapest * config.heuristic_share,
                                                   core.time_left() / 8), config.core_sizes)
            if sum(core.costs[i] for i in chosen) >= core.upper_bound:
                return Answer(chosen, exact=True, upper_bound=core.upper_bound,
                          extra={"stage": "heuristic"})
    # The difference core (None when the costs pass its int64 arrays): half the time left
    # when no exact method is predicted to finish (then only a hit can prove anything),
    # else at most HEURISTIC_SECONDS or half the exact estimate.
    hopeless = cheapest > core.plan_seconds() * PLAN_SHARE
    seconds = core.time_left() / 2 if hopeless else _search_seconds(core, cheapest, config)
    hit = core_hit(core, seconds)
    if hit is not None:
        # A hit claims the bound: the shared result checks its total is the bound.
        return Answer(hit, exact=True, upper_bound=core.upper_bound,
                      extra={"stage": "core"})
    if large:
        chosen = greedy_fast(core) if core.array is not None else greedy_indices(
            core.costs, core.budget)
    elif sum(core.costs[i] for i in chosen) < core.upper_bound:
        chosen = core_search(core, chosen, _search_seconds(core, cheapest, config),
                             config.core_sizes)
    if sum(core.costs[i] for i in chosen) >= core.upper_bound:
        return Answer(chosen, exact=True, upper_bound=core.upper_bound,
                      extra={"stage": "heuristic"})
    core.incumbent = chosen
    method = plan_fallback(estimates, core.plan_seconds())
    answer = _exact(method, core)
    answer.extra = {**answer.extra, "stage": method}
    if answer.failed:  # keep the heuristic answer rather than nothing
        return Answer(chosen, False, reason=answer.reason, extra=answer.extra)
    return answer


solve = make_solver(NAME, _solve_core)
