"""Meet in the middle (Horowitz–Sahni): split the projects in two halves, list each half's
2^(n/2) subset sums, sort one side and binary-search the best partner for every sum of the other.

Complexity: O(2^(n/2) · n) time, O(2^(n/2)) memory; vectorised with NumPy (costs beyond int64
fall back to Python integers, several times slower). Always exact when it runs.
Above ``Limits.mitm_max_n`` items (default 46, about 400 MiB of arrays), or when the arrays
would pass ``Limits.memory_cap_bytes``, it runs Schroeppel–Shamir instead (``solvers._ss``: the
same O(2^(n/2)) time in O(2^(n/4)) memory, int64 costs only) up to ``Limits.ss_max_n`` items
(default 64; n = 50 takes ~2 s, each 2 more items double it). It refuses beyond that, or Python
integer costs beyond ``mitm_max_n``, with status ``"failed"``. The result's ``method`` says which
ran. It checks the time limit between steps (doubling steps, and search chunks of
65,536 sums), and does not start a step predicted to end after the deadline, so it stops
within one small step of its limit; it then answers the greedy selection as ``"approximate"``.
"""

from __future__ import annotations

import math

import numpy as np

from . import _scales
from ._core import Answer, Core, TimeUp, make_solver
from ._costmodel import cost_model
from ._mitm import best_pair, fits_int64, mitm_bytes
from ._ss import BLOCK, schroeppel_shamir
from .greedy import greedy_indices

NAME = "meet_in_the_middle"
HIT_EXPECTED = 2.0  # expected exact hits of the budget from which Schroeppel–Shamir is priced
# to stop early (its centre-out sweep meets one in the first blocks; with 2 expected, one exists
# with probability 1 - e^-2 = 86 %)


def use_ss(core: Core) -> bool:
    """Whether this core runs Schroeppel–Shamir (too many items or too much memory for
    Horowitz–Sahni, int64 costs, at most ``Limits.ss_max_n`` items)."""
    hs_ok = (core.n <= core.limits.mitm_max_n
             and mitm_bytes(core.n, not fits_int64(core.costs, core.budget))
             <= core.limits.memory_cap_bytes)
    return (not hs_ok and core.n <= core.limits.ss_max_n
            and fits_int64(core.costs, core.budget))


def ss_left_sums(core: Core) -> float | None:
    """``_ss_left_sums``, computed once per core (hybrid's plan and exact-first rule ask)."""
    if "ss_left_sums" not in core.memo:
        core.memo["ss_left_sums"] = _ss_left_sums(core)
    return core.memo["ss_left_sums"]


def _ss_left_sums(core: Core) -> float | None:
    """Left sums Schroeppel–Shamir is expected to produce before it meets the budget exactly,
    or None when a hit is not expected (then it sweeps them all).

    Subset sums are near-normal (mean ``Σc/2``, deviation ``√Σc²/2``): the budget is expected
    to be hit ``D = 2^n · φ(z)/σ`` times. When ``D ≥ HIT_EXPECTED``, the sweep (which starts at
    the block where hits concentrate, z/√2 deviations off each half's mean) meets a partner for
    a left sum with probability ``p ≈ 2^|right| · e^(−z²/4) / (2.5 σ_right)``, so about ``1/p``
    left sums are produced, but at least the first block's (``BLOCK`` times its density over
    the mean, for blocks of equal value width), and at most all 2^(n/2). Off-centre budgets
    (|z| of 3 to 4) were priced at the full sweep before: 19-39 s for solves of 0.06-0.3 s.

    Costs on two scales (``solvers._scales``: many tiny costs under a few huge ones) are
    expected to hit only as often as the huge ones land in the window the tiny ones fill: the
    plain count overstates that by many orders of magnitude, and a sweep that expects an early
    hit then runs to the limit. Equal costs likewise: k copies of a cost give k + 1 sums, not
    2^k, so hits are counted over the distinct multisets Π(m_i + 1)."""
    arr = core.array
    if arr is None or core.n < 8:
        return None
    c = arr.astype(np.float64)
    half = core.n // 2
    sigma = math.sqrt(float((c * c).sum())) / 2
    z = (core.budget - float(c.sum()) / 2) / max(sigma, 1.0)
    hits = math.exp((core.n * math.log(2)) - z * z / 2) / (2.5 * max(sigma, 1.0))
    if hits >= HIT_EXPECTED:
        ascending = np.sort(arr)
        repeats = bool((ascending[1:] == ascending[:-1]).any())
        if repeats or _scales.has_gap(ascending):
            values, counts = np.unique(ascending, return_counts=True)
            if repeats:  # equal costs: only the distinct multisets give new sums
                hits = min(hits, math.exp(_scales.log_hits(values, counts, core.budget)))
            coarse = _scales.coarse(values, counts, core.budget)
            if coarse is not None:  # two scales: a hit needs the coarse ones in a window
                hits = min(hits, 10.0 ** coarse[0])
    if hits < HIT_EXPECTED:
        return None
    left, right = c[:half], c[half:]
    sigma_l = max(math.sqrt(float((left * left).sum())) / 2, 1.0)
    sigma_r = max(math.sqrt(float((right * right).sum())) / 2, 1.0)
    # the sweep starts where hits concentrate: left sums at L* = μ_L + (T − μ)/2, partners at
    # R* = T − L*; both sit z/√2 deviations off their halves' means, so their densities carry
    # exp(−z²/4) (an off-centre budget: fewer partners a left sum, fewer sums a block)
    tail = math.exp(-z * z / 4)
    per_left = 2.0 ** right.size * tail / (2.5 * sigma_r)
    width = min(float(left.sum()), float(core.budget))  # the swept left values, [0, width]
    first_block = min(2.0 ** half, BLOCK * max(1.0, width * tail / (2.5 * sigma_l)))
    return min(2.0 ** half, max(1.0 / max(per_left, 1e-300), first_block))


def estimated_seconds(core: Core) -> float:
    """Predicted time from the cost model (``solvers._costmodel``)."""
    model = cost_model()
    if use_ss(core):
        return model.ss(core.n, ss_left_sums(core))
    slow = 1.0 if fits_int64(core.costs, core.budget) else 8.0  # Python ints, measured ~8x
    return model.mitm(core.n) * slow


def refusal(core: Core) -> str | None:
    """Why meet in the middle will not run on this core, or None."""
    most = max(core.limits.ss_max_n, core.limits.mitm_max_n)
    if core.n > most:  # before anything that walks the costs
        return f"meet in the middle refuses n={core.n} items: its limit is {most}"
    if use_ss(core):
        return None
    limit = core.limits.ss_max_n if fits_int64(core.costs, core.budget) else core.limits.mitm_max_n
    if core.n > limit:
        return f"meet in the middle refuses n={core.n} items: its limit is {limit}"
    need = mitm_bytes(core.n, python_ints=not fits_int64(core.costs, core.budget))
    if need > core.limits.memory_cap_bytes:
        return (f"meet in the middle would need {need / 2**20:.0f} MiB, over the "
                f"memory cap of {core.limits.memory_cap_bytes / 2**20:.0f} MiB")
    return None


def _solve_core(core: Core) -> Answer:
    why = refusal(core)
    if why:
        return Answer([], False, failed=True, reason=why)
    ss = use_ss(core)
    try:
        if ss:
            chosen, best = schroeppel_shamir(core.costs, core.budget, core.check_time)
        else:
            chosen, best = best_pair(core.costs, core.budget, core.check_time, core.deadline)
    except (TimeUp, TimeoutError):
        incumbent = core.incumbent or greedy_indices(core.costs, core.budget)
        return Answer(incumbent, False, reason="time limit reached while listing subset sums",
                      extra={"method": "schroeppel_shamir" if ss else "horowitz_sahni"})
    return Answer(chosen, exact=True, upper_bound=best,  # the shared result checks it
                  extra={"method": "schroeppel_shamir" if ss else "horowitz_sahni"})


solve = make_solver(NAME, _solve_core)
