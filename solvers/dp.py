"""Dynamic programming over reachable sums, word-parallel: the set of reachable totals is one
Python integer used as a bitset, and adding a project is ``reach |= reach << cost`` (Bellman's
recursion, 64 sums per machine word).

Reconstruction keeps no n full rows. When the rows of a block fit in a fixed 64 MiB (or half
the memory cap, if smaller) they are stored and walked back; otherwise the items are split in
two halves, the left half's reachable set is intersected with the right half's *backward* set
(``{t − s}``, built with right shifts from the target ``t``), and each half is solved
recursively for its share — Hirschberg's idea applied to subset sum.

Complexity: O(n · B / 64) word operations per recursion level (B = budget after gcd
reduction), memory O(B/8) bytes per stored row.

Limits: refuses a plan whose rows exceed ``Limits.memory_cap_bytes`` (default 1 GiB, i.e. a
budget beyond about 10^9 after gcd reduction) with status ``"failed"``. The forward pass stops
early only when that is a proof: the budget is reachable (plain), or one divisor group alone
reaches the proven upper bound (split); otherwise every item is shifted in. When the time limit
hits it returns the greedy answer as ``"approximate"`` (with the optimum as upper bound if the
forward pass had finished).
"""

from __future__ import annotations

from dataclasses import replace
from itertools import accumulate

import numpy as np

from . import _groups, _native
from ._core import Answer, Core, TimeUp, make_solver
from ._costmodel import cost_model
from .greedy import greedy_indices

NAME = "dp"

# Rows a plan must be able to hold at once: the reach set, a shifted copy, the backward set, the
# intersection and slack; below this the cap refuses.
_MIN_ROWS = 6
# Rows stored at once for the walk back: a fixed budget, not n rows (at most half the cap).
LEAF_BYTES = 64 * 2**20
NATIVE_MIN_WIDTH = 1 << 20  # narrower rows: Python's shifts are in cache, the kernel adds little
NATIVE_LOADED_MIN = 0.005  # s: a pass predicted longer than this uses kernels already loaded


def _check_every(bits: int) -> int:
    """Items between clock checks: one shift of a row of ``bits`` costs ~bits/2^33 s, so check
    every item on wide rows and every 64 on narrow ones (a check costs ~50 ns)."""
    return max(1, min(64, (1 << 24) // (bits + 1)))


def _native_pays(items: int, width: int) -> bool:
    """Whether a pass of ``items`` shifts over rows of ``width`` bits runs in the compiled
    kernel (``solvers._native``): Numba found, and the pass on Python integers predicted
    longer than importing Numba and loading the kernels (or they are loaded already)."""
    if width < NATIVE_MIN_WIDTH or not _native.available():
        return False
    python = cost_model().dp(items * width / 2, width) / 3  # one pass, rows half full
    return python > (NATIVE_LOADED_MIN if _native.loaded() else _native.NATIVE_OVERHEAD)


def predicted_seconds(core: Core) -> float:
    """The dp's predicted time: the reference cost model on Python integers, or with the
    compiled kernels when they are available and pay (``solvers._native``)."""
    python = cost_model().dp(table_bits(core), widest_row(core))
    if widest_row(core) < NATIVE_MIN_WIDTH or not _native.available():
        return python
    return min(python, _native.NATIVE_OVERHEAD + python / _native.NATIVE_SPEEDUP)


def row_bytes(budget: int) -> int:
    return budget // 8 + 1


def group_split(core: Core) -> _groups.Split | None:
    """The divisor split of this core when it makes the tables much smaller (cached)."""
    if "split" not in core.memo:
        costs = core.costs if core.array is None else None  # the array alone, if any
        core.memo["split"] = (_groups.split(costs, core.budget, core.array)
                              if core.budget < 2**62 else None)
    return core.memo["split"]


def _forward_bits(costs: list[int] | np.ndarray, cap: int, presorted: bool = False) -> int:
    """Bits the forward pass shifts: items small first, row k as wide as min(prefix sum, cap)."""
    if isinstance(costs, np.ndarray):
        prefix = np.cumsum(costs if presorted else np.sort(costs))  # int64 (an array core)
        return int(np.minimum(prefix, cap).sum()) + costs.size
    return sum(min(p, cap) + 1 for p in accumulate(sorted(costs)))


def table_bits(core: Core) -> int:
    """Bit operations of the forward pass (plain, or the divisor split's two tables)."""
    if "table_bits" not in core.memo:
        found = group_split(core)
        counts = core.memo.get("bincount")  # small costs counted by prepare: no sort
        if found is None and counts is not None:
            bits = _forward_bits(np.repeat(np.arange(counts.size), counts), core.budget, True)
        elif found is None:
            bits = _forward_bits(core.array if core.array is not None else core.costs,
                                 core.budget)
        else:
            arr = core.array
            bits = sum(
                _forward_bits(arr[members] // g if arr is not None
                              else [core.costs[i] // g for i in members], cap)
                for g, cap, members in zip(found.divisors, found.caps(core.budget),
                                           found.members, strict=True))
        core.memo["table_bits"] = bits
    return core.memo["table_bits"]


def widest_row(core: Core) -> int:
    found = group_split(core)
    return max(found.caps(core.budget)) if found else core.budget


def refusal(core: Core) -> str | None:
    need = _MIN_ROWS * row_bytes(widest_row(core))
    if need > core.limits.memory_cap_bytes:
        return (f"dp table would need {need / 2**20:.0f} MiB for budget {core.budget}, over the "
                f"memory cap of {core.limits.memory_cap_bytes / 2**20:.0f} MiB")
    return None


def forward(costs: list[int], cap: int, core: Core, stop: int | None = None) -> tuple[int, int]:
    """Reachable sums ≤ cap as a bitset, and how many items were used.

    The pass stops early once sum ``stop`` (default ``cap``) is reachable: the set returned is
    then only the sums of the first items, complete only up to what those items reach. Stop at
    a sum only when reaching it proves the caller's answer (the budget, or a proven upper
    bound); ``stop=-1`` never stops, for callers that combine the whole set with others."""
    stop = cap if stop is None else min(stop, cap + 1)  # beyond cap: never
    if _native_pays(len(costs), cap):
        return _native.forward_words(costs, cap, stop if 0 <= stop <= cap else -1,
                                     core.check_time)
    mask = (1 << (cap + 1)) - 1
    reach = 1
    every = _check_every(cap)
    for k, w in enumerate(costs):
        if k % every == every - 1:
            core.check_time()
        reach |= reach << w
        if reach.bit_length() > cap + 1:
            reach &= mask
        if 0 <= stop < reach.bit_length() and (stop == cap or reach >> stop & 1):
            return reach, k + 1
    return reach, len(costs)


def _backward(costs: list[int], target: int, core: Core) -> int:
    """Bitset of ``target − s`` for every subset sum s ≤ target of ``costs``."""
    if _native_pays(len(costs), target):
        return _native.backward_words(costs, target, core.check_time)
    back = 1 << target
    every = _check_every(target)
    for k, w in enumerate(costs):
        if k % every == every - 1:
            core.check_time()
        back |= back >> w
    return back


def reconstruct(idx: list[int], costs: list[int], target: int, core: Core) -> list[int]:
    """Positions (from ``idx``) of a subset of ``costs[idx]`` summing exactly to ``target``."""
    if target == 0 or not idx:
        return []
    leaf_bytes = min(core.limits.memory_cap_bytes // 2, LEAF_BYTES)
    if len(idx) <= max(leaf_bytes // row_bytes(target), 2):
        mask = (1 << (target + 1)) - 1
        rows = [1]
        every = _check_every(target)
        for k, i in enumerate(idx):
            if k % every == every - 1:
                core.check_time()
            rows.append((rows[-1] | rows[-1] << costs[i]) & mask)
            if rows[-1] >> target:  # the first k+1 items already reach the target
                break
        chosen, t = [], target
        for k in range(len(rows) - 2, -1, -1):
            if not rows[k] >> t & 1:  # t unreachable without item k: it is in the subset
                chosen.append(idx[k])
                t -= costs[idx[k]]
            rows.pop()
        assert t == 0
        return chosen
    mid = len(idx) // 2
    left, right = idx[:mid], idx[mid:]
    reach, _ = forward([costs[i] for i in left], target, core)
    back = _backward([costs[i] for i in right], target, core)
    meet = reach & back
    a = meet.bit_length() - 1  # largest share for the left half
    return reconstruct(left, costs, a, core) + reconstruct(right, costs, target - a, core)


def exact_dp(core: Core) -> Answer:
    """The dp answer; raises TimeUp when out of time."""
    order = sorted(range(core.n), key=core.costs.__getitem__)  # small first: short early rows
    if (_native_pays(core.n, core.budget)
            and _native.first_reach_bytes(core.budget) <= core.limits.memory_cap_bytes // 2):
        best, picked = _native.best_subset([core.costs[i] for i in order], core.budget,
                                           core.check_time)
        return Answer([order[i] for i in picked], exact=True, upper_bound=best)
    reach, used = forward([core.costs[i] for i in order], core.budget, core)
    best = reach.bit_length() - 1
    try:
        chosen = reconstruct(order[:used], core.costs, best, core)
    except TimeUp:
        incumbent = core.incumbent or greedy_indices(core.costs, core.budget)
        return Answer(incumbent, False, upper_bound=best,
                      reason="time limit reached while reconstructing the optimal subset")
    return Answer(chosen, exact=True, upper_bound=best)  # the shared result checks it


def grouped_dp(core: Core, found: _groups.Split) -> Answer:
    """The dp answer over the two divisor groups, combined exactly; raises TimeUp.

    Each group's pass runs over all its items: ``combine`` may need any share of a group, not
    only the sums its first items reach. The one early stop is a proof for the whole instance:
    a group alone reaching ``ceil(upper_bound / g)`` units reaches the proven upper bound (the
    other group then needs no pass: it contributes nothing)."""
    g1, g2 = found.divisors
    cap1, cap2 = found.caps(core.budget)
    sets, orders = [], []
    proven = False
    for g, cap, members in zip((g1, g2), (cap1, cap2), found.members, strict=True):
        order = sorted(members, key=core.costs.__getitem__)
        orders.append(order)
        if proven:
            sets.append(np.zeros(1, dtype=np.int64))
            continue
        proof = -(-core.upper_bound // g)  # s · g ≥ upper_bound: the optimum, whatever else
        reach, _ = forward([core.costs[i] // g for i in order], cap, core, stop=proof)
        proven = proof <= cap and bool(reach >> proof & 1)
        sets.append(_groups.reachable_values(reach, cap))
    best, share1, share2 = _groups.combine(sets[0], sets[1], g1, g2, core.budget)
    chosen: list[int] = []
    for g, share, order in zip((g1, g2), (share1, share2), orders, strict=True):
        sub = replace(core, costs=[c // g for c in core.costs], array=None, memo={})
        chosen += reconstruct(order, sub.costs, share, sub)
    return Answer(chosen, exact=True, upper_bound=best, extra={"dp_groups": [g1, g2]})


def _solve_core(core: Core) -> Answer:
    why = refusal(core)
    if why:
        return Answer([], False, failed=True, reason=why)
    try:
        found = group_split(core)
        if found is not None:
            return grouped_dp(core, found)
        return exact_dp(core)
    except TimeUp:
        incumbent = core.incumbent or greedy_indices(core.costs, core.budget)
        return Answer(incumbent, False, reason="time limit reached during the dp forward pass")


solve = make_solver(NAME, _solve_core)
