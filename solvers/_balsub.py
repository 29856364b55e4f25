"""Pisinger's balanced algorithm (balsub, 1999) for costs small next to n: the optimum's value
in O(n · r) time and O(r) memory (r the largest cost), whatever the budget — then a selection
reaching it.

balsub keeps, for every weight mu in (B − r, B + r], the largest item index of a *balanced*
filling (start from the break solution, add an item while the weight is ≤ B, remove one while
it is above). It proves the optimum z without a table over the budget, which is where the
bitset dp is hopeless (B of 10^8 and more) and the multiplicity box too wide (few copies a
cost). It gives the value only; the selection comes from the incumbent (heuristics often
already sit at z: then the value is the missing proof), else from the class greedy and the
difference core aimed at z instead of the preprocessing bound, else from the dp with its
budget capped at z (it stops once z is reached). If none reaches z in time the answer is
approximate with z as its proven upper bound.

Native only: the kernel is Numba (``solvers._native``); without it this method is not offered
(``estimated_seconds`` is None) and hybrid picks among the others, with the same answers.
Complexity: O(n · r) kernel steps plus O(n) NumPy; memory 16 r bytes.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import _bounded, _native, dp
from ._bigcore import core_hit, greedy_fast
from ._core import Answer, Core, TimeUp

__all__ = ["NAME", "estimated_seconds", "solve_core"]

NAME = "balsub"
PER_STEP = 1.0e-9  # s per kernel step (three per item and weight in the window), measured 0.6
WITNESS_SECONDS = 0.05  # allowance for finding a selection at the proven value
HIT_SECONDS = 0.5  # the difference core's try at it, at most (then the dp, capped at z)
MAX_R = 1 << 24  # window arrays of 2r int32 each, two of them: 256 MiB at most


def estimated_seconds(core: Core) -> float | None:
    """Predicted time, or None when balsub does not apply (no Numba, no int64 array, costs
    too large for the memory cap)."""
    a = core.array
    if a is None or core.n < 2 or not _native.available():
        return None
    r = int(a.max())
    if r > MAX_R or 16 * r > core.limits.memory_cap_bytes // 2:
        return None
    return (_native.NATIVE_OVERHEAD + WITNESS_SECONDS
            + PER_STEP * 3.0 * float(core.n) * float(r))


def _total(core: Core, chosen: list[int] | np.ndarray) -> int:
    assert core.array is not None
    return int(core.array[np.asarray(chosen, dtype=np.int64)].sum()) if len(chosen) else 0


def solve_core(core: Core) -> Answer:
    """The proven value, with a selection reaching it when one is found in time."""
    assert core.array is not None
    chosen = core.incumbent or greedy_fast(core)
    try:
        z = _native.balsub_value(core.array, core.budget, core.check_time)
    except TimeUp:
        return Answer(chosen, False, reason="time limit reached during balsub")
    extra = {"balsub_value": z}
    if _total(core, chosen) == z:
        return Answer(chosen, True, upper_bound=z, extra=extra)
    aimed = replace(core, upper_bound=z, memo={})  # the same core, aimed at the proven value
    p = _bounded.plan(aimed)
    if p is not None and p.greedy is not None:
        return Answer(_bounded.select(aimed, p, p.greedy), True, upper_bound=z, extra=extra)
    hit = core_hit(aimed, max(0.0, min(aimed.time_left() / 4, HIT_SECONDS)))
    if hit is not None:
        return Answer(hit, True, upper_bound=z, extra=extra)
    capped = replace(core, budget=z, upper_bound=z, memo={})  # dp stops once z is reached
    if dp.refusal(capped) is None:
        found = dp._solve_core(capped)
        if found.exact and _total(core, found.indices) == z:
            return Answer(found.indices, True, upper_bound=z, extra={**extra, "witness": "dp"})
    return Answer(chosen, False, upper_bound=z, extra=extra,
                  reason=f"balsub proved the optimum is {z} (reduced units); no selection "
                         "reaching it was found in time")
