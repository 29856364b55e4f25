"""Multiplicities: equal costs collapsed into (cost, count) classes and solved as a *bounded*
subset sum, exactly, on a box that a proximity argument proves holds an optimum.

Sort the costs once (the core's cached order) and collapse them into d classes
``(v_j, m_j)``. Let x̄ be the break solution (classes taken whole in ascending cost order, the
break class as far as it fits): ``w·x̄ = B − g`` with ``0 ≤ g < r``, r the largest cost.

**Proximity.** Some optimal z differs from x̄ by at most ``2r − 1`` items. Take an optimal z
closest to x̄ and order its differences (additions +w, removals −w) by the rule "add while the
partial sum is ≤ 0, else remove": every partial sum stays in (−r, r] (the final one,
``w·z − w·x̄``, lies in [0, g]). With 2r or more moves two partial sums would coincide and the
moves between them would sum to zero: dropping them gives an optimum closer to x̄ — a
contradiction (the balancing argument of Pisinger's balsub; Eisenbrand & Weismantel 2018 for
integer programs). So each class's count lies in ``[x̄_j − D, x̄_j + D]`` with ``D = 2r − 1``:
``L_j`` items of each class are fixed in, ``m_j − U_j`` fixed out, and the rest (at most
``2D + 1`` a class) form a residual problem with budget ``B' = B − Σ L_j v_j``.

**Residual.** A bitset DP over the classes (binary splitting: copies 1, 2, 4, ..., a class),
either *direct* (reachable sums ≤ B') or over the *excluded* part when B' is near the
residual total T' (the least excluded sum ≥ T' − B' is below T' − B' + r: a minimal such set
loses its footing when any item leaves), whichever row is narrower. One row per class is kept
for the walk back. A descending greedy over the classes first (O(d)) proves the common case
outright when it reaches the upper bound.

Complexity: O(n) NumPy (classes, selection) plus O(Σ_j log(k_j) · W / 64) word operations, W
the row width (≤ min(B', T' − B' + r)). Limits: needs the core's int64 array; refuses when the
rows kept for the walk back exceed half the memory cap or 64 MiB; stops at the deadline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._bigcore import greedy_fast
from ._core import Answer, Core, TimeUp
from ._costmodel import cost_model

__all__ = ["MIN_N", "NAME", "Plan", "estimated_seconds", "plan", "select", "solve_core"]

NAME = "bounded"

MIN_N = 1000  # below this the plain methods are as fast and small solves stay untouched
ROWS_BYTES = 64 * 2**20  # rows kept for the walk back
GREEDY_CLASSES = 4096  # partial steps of the greedy over classes (Python), at most
_PER_ITEM = 1.5e-8  # classes, selection: NumPy work per item (reference machine)


@dataclass
class Plan:
    values: np.ndarray  # ascending distinct costs
    counts: np.ndarray  # items of each
    starts: np.ndarray  # start of each class in the core's sorted order
    greedy: np.ndarray | None  # counts of a greedy answer reaching the upper bound, if any
    low: np.ndarray  # L_j: fixed in
    high: np.ndarray  # U_j: at most this many
    base: int  # Σ L_j v_j
    budget: int  # B' = B − base
    total: int  # T' = Σ (U_j − L_j) v_j
    complement: bool  # DP over the excluded part
    width: int  # row width in bits (the cap)
    pieces: int  # binary pieces shifted in

    @property
    def row_bytes(self) -> int:
        return (self.width + 8) // 8


def _classes(core: Core) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ascending distinct costs, their counts, where each starts in sorted order): from the
    counts ``prepare`` took for small costs, else from the sorted order."""
    counts = core.memo.get("bincount")
    if counts is not None:
        values = np.flatnonzero(counts)
        m = counts[values].astype(np.int64)
        return values.astype(np.int64), m, np.cumsum(m) - m
    s = core.array[core.sorted_order()]  # type: ignore[index]
    starts = np.concatenate(([0], np.flatnonzero(s[1:] != s[:-1]) + 1))
    return s[starts], np.diff(np.append(starts, s.size)), starts


def _greedy(values: np.ndarray, counts: np.ndarray, budget: int, goal: int) -> np.ndarray | None:
    """Descending greedy over the classes (the classes taken whole found vectorised, then at
    most ``GREEDY_CLASSES`` partial steps); its counts when it reaches ``goal``."""
    weight = (counts * values)[::-1]
    cum = np.cumsum(weight)  # the total fits int64 whenever the core has an array
    whole = int(np.searchsorted(cum, budget, side="right"))
    take = np.zeros(values.size, dtype=np.int64)
    d = values.size
    take[d - whole:] = counts[d - whole:]
    rem = budget - (int(cum[whole - 1]) if whole else 0)
    if budget - rem >= goal:
        return take
    vals, cnts = values.tolist(), counts.tolist()
    for j in range(d - whole - 1, max(-1, d - whole - 1 - GREEDY_CLASSES), -1):
        q = min(cnts[j], rem // vals[j])
        take[j] = q
        rem -= q * vals[j]
        if budget - rem >= goal:
            return take
    return None


def plan(core: Core) -> Plan | None:
    """The bounded plan of this core (cached); None without an int64 array or below MIN_N."""
    if "bounded" in core.memo:
        return core.memo["bounded"]
    found = None
    if core.array is not None and core.n >= MIN_N:
        found = _plan(core)
    core.memo["bounded"] = found
    return found


def _plan(core: Core) -> Plan:
    v, m, starts = _classes(core)
    budget = core.budget
    greedy = _greedy(v, m, budget, core.upper_bound)
    weight = m * v
    cum = np.cumsum(weight)  # ≤ the total, which fits int64 when the core has an array
    k = int(np.searchsorted(cum, budget, side="right"))  # classes taken whole
    xbar = np.zeros_like(m)
    xbar[:k] = m[:k]
    if k < v.size:
        xbar[k] = (budget - (int(cum[k - 1]) if k else 0)) // int(v[k])
    d = 2 * int(v[-1]) - 1
    low = np.maximum(xbar - d, 0)
    high = np.minimum(xbar + d, m)
    base = int((low * v).sum())
    rbudget = budget - base
    free = high - low
    total = int((free * v).sum())
    need = total - rbudget
    biggest = int(v[free > 0].max()) if (free > 0).any() else 0
    complement = 0 < need + biggest - 1 < rbudget
    width = max(0, need + biggest - 1 if complement else rbudget)
    copies = np.minimum(free, width // v)
    pieces = int(np.ceil(np.log2(copies[copies > 0] + 1)).sum()) if width else 0
    return Plan(v, m, starts, greedy, low, high, base, rbudget, total, complement, width,
                pieces)


def refusal(core: Core, p: Plan) -> str | None:
    need = p.values.size * p.row_bytes
    if need > min(ROWS_BYTES, core.limits.memory_cap_bytes // 2):
        return f"bounded dp rows would need {need / 2**20:.0f} MiB"
    return None


def estimated_seconds(core: Core) -> float | None:
    """Predicted time of :func:`solve_bounded` (None when it does not apply)."""
    p = plan(core)
    if p is None or (p.greedy is None and refusal(core, p)):
        return None
    fixed = core.n * _PER_ITEM
    if p.greedy is not None or p.total <= p.budget:
        return fixed
    return fixed + cost_model().dp(float(p.pieces) * p.width, p.width)


_PARTIAL_SCANS = 8  # classes partly taken, found by a scan each, before sorting pays


def select(core: Core, p: Plan, take: np.ndarray) -> np.ndarray:
    """Positions into the core: ``take[j]`` items of each class (whole classes by a lookup
    table over the costs when they are small, the first items of each class in sorted order
    otherwise)."""
    a = core.array
    assert a is not None
    partial = np.flatnonzero((take > 0) & (take < p.counts))
    if "bincount" in core.memo and partial.size <= _PARTIAL_SCANS:
        whole = np.zeros(int(p.values[-1]) + 1, dtype=bool)
        whole[p.values[take == p.counts]] = True
        parts = [np.flatnonzero(whole[a])]
        parts += [np.flatnonzero(a == p.values[j])[: int(take[j])] for j in partial.tolist()]
        return np.concatenate(parts)
    order = core.sorted_order()
    rank = np.arange(order.size) - np.repeat(p.starts, p.counts)
    return order[rank < np.repeat(take, p.counts)]


def _dp(core: Core, p: Plan) -> np.ndarray:
    """Counts (per class, within the residual box) of the best residual answer."""
    free = p.high - p.low
    width = p.width
    mask = (1 << (width + 1)) - 1
    vals = p.values.tolist()
    copies = np.minimum(free, width // p.values).tolist()
    rows: list[int] = []
    reach = 1
    for j, (v, k) in enumerate(zip(vals, copies, strict=True)):
        rows.append(reach)
        if j % 16 == 15:
            core.check_time()
        piece = 1
        while k > 0:
            q = min(piece, k)
            reach |= reach << (q * v)
            if reach.bit_length() > width + 1:
                reach &= mask
            k -= q
            piece <<= 1
    if p.complement:  # the least excluded sum ≥ T' − B'
        need = p.total - p.budget
        above = reach >> need
        t = need + ((above & -above).bit_length() - 1)
    else:
        t = reach.bit_length() - 1
    counts = [0] * len(vals)
    nbytes = (width + 8) // 8
    for j in range(len(vals) - 1, -1, -1):
        if t == 0:
            break
        row = np.frombuffer(rows[j].to_bytes(nbytes, "little"), dtype=np.uint8)
        v, k = vals[j], copies[j]
        pos = t - v * np.arange(min(k, t // v) + 1)
        hit = (row[pos >> 3] >> (pos & 7).astype(np.uint8)) & 1
        q = int(np.argmax(hit))
        assert hit[q], "bounded dp walk back lost its path"
        counts[j] = q
        t -= q * v
    assert t == 0
    chosen = np.array(counts, dtype=np.int64)
    return p.high - chosen if p.complement else p.low + chosen


def solve_bounded(core: Core) -> Answer:
    """The exact answer by classes; raises TimeUp when out of time."""
    p = plan(core)
    assert p is not None
    if p.greedy is not None:
        take, how = p.greedy, "greedy"
    elif p.total <= p.budget:
        take, how = p.high, "box"
    else:
        why = refusal(core, p)
        if why:
            return Answer([], False, failed=True, reason=why)
        take, how = _dp(core, p), "dp"
    total = int((take * p.values).sum())
    extra = {"classes": int(p.values.size), "bounded": how}
    chosen = select(core, p, take)
    if how == "greedy":  # a hit of the proven upper bound
        return Answer(chosen, exact=True, upper_bound=core.upper_bound, extra=extra)
    return Answer(chosen, exact=True, upper_bound=total, extra=extra)


def solve_core(core: Core) -> Answer:
    """:func:`solve_bounded`, or the incumbent (else a greedy answer) as approximate when the
    time runs out."""
    try:
        return solve_bounded(core)
    except TimeUp:
        incumbent = core.incumbent or greedy_fast(core)
        return Answer(incumbent, False, reason="time limit reached during the bounded dp")
