"""Residue classes: a bound and a selection for costs that share a residue modulo some g.

When every cost but a few *outliers* is ≡ r (mod g), g ≥ 2, a selection of k of those costs
sums to ≡ r·k (mod g), and to at least the k smallest and at most the k largest of them. So
for each subset O of the outliers and each count k, the best such selection is at most

    U(O, k) = the largest s ≤ min(B − sum(O), hi_k) with s ≡ r·k (mod g), if s ≥ lo_k

and the optimum is at most max U(O, k) + sum(O): a proof where the budget's residue is out of
reach (the preprocessing bound then stays at the budget, and no heuristic hit can reach it).
The selection: for the (O, k) pairs that reach the bound, exactly k of the class summing to
U, found by a greedy exchange from the k smallest (each chosen item moves as far up the sorted
class as the remaining gap allows; a block of top items moves at once). On dense classes it
lands on the target; when it does not, the bound still holds and the other methods aim at it.

Complexity: O(n) NumPy for the class test (a sample's gcd first: microseconds when there is no
class), O(2^t · n) for the bound over t ≤ ``MAX_OUTLIERS`` outliers, O(n log n) a try.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._core import Core

__all__ = ["Bound", "Classes", "bound", "classes", "select"]

MIN_N = 64  # smaller cores: the exact methods are quick, and small solves pay nothing
SAMPLE = 16  # items a sample, three samples spread through the array
MAX_OUTLIERS = 10
MAX_WORK = 1 << 23  # outlier subsets × class size in the bound
TRIES = 8  # (outlier subset, count) pairs tried for a selection
SECONDS_PER_ITEM = 3e-7  # the whole step, measured 27 ms at n = 10^5 (the forecast's price)
_SPREAD = (np.arange(SAMPLE, dtype=np.int64) * 2_654_435_761
           + np.array([[0], [7919], [15838]], dtype=np.int64))


@dataclass(frozen=True)
class Classes:
    g: int
    r: int  # every class member is ≡ r (mod g), 0 ≤ r < g
    members: np.ndarray  # positions into the core, sorted by cost ascending
    values: np.ndarray  # their costs, ascending
    outliers: tuple[int, ...]  # positions of the other items


def classes(core: Core) -> Classes | None:
    """The common residue class of all costs but at most ``MAX_OUTLIERS``, or None."""
    if "residue" in core.memo:
        return core.memo["residue"]
    core.memo["residue"] = found = _find(core)
    return found


def _find(core: Core) -> Classes | None:
    a = core.array
    if a is None or a.size < MIN_N:
        return None
    x = a[_SPREAD % a.size]  # three scattered samples (outliers may sit anywhere)
    d = np.gcd.reduce(np.abs(x[:, 1:] - x[:, :1]), axis=1)
    best = int(np.argmax(d))
    g = int(d[best])
    r = int(x[best, 0]) % g if g else 0
    if g < 2 or float(a.sum(dtype=np.float64)) >= 2.0**62:  # the bound's prefix sums: int64
        return None
    residues = a % g
    inside = residues == r
    outliers = np.flatnonzero(~inside)
    t = outliers.size
    if t > MAX_OUTLIERS or (a.size << t) > MAX_WORK:
        return None
    asc = core.sorted_order()  # shared with the other methods
    members = asc[inside[asc]]
    vals = a[members]
    g = int(np.gcd.reduce(vals - vals[0])) or g  # the class's own modulus, a multiple of g
    return Classes(g, int(vals[0]) % g, members, vals,
                   tuple(int(i) for i in outliers))


@dataclass(frozen=True)
class Bound:
    value: int  # the proven upper bound (≤ the core's)
    pairs: list[tuple[int, int, int]]  # (outlier mask, k, class target) reaching it


def bound(core: Core, cls: Classes) -> Bound:
    """The residue-and-count bound, with the pairs that reach it (best margins first)."""
    v = cls.values
    m = v.size
    lo = np.concatenate(([0], np.cumsum(v)))
    hi = np.concatenate(([0], np.cumsum(v[::-1])))
    need = (cls.r * np.arange(m + 1, dtype=np.int64)) % cls.g  # the residue of k members
    costs = [int(core.array[i]) for i in cls.outliers]  # type: ignore[index]
    sums: dict[int, int] = {}
    for mask in range(1 << len(costs)):
        s = sum(c for j, c in enumerate(costs) if mask >> j & 1)
        if s <= core.budget:
            sums.setdefault(s, mask)
    best, found = -1, []
    for s_o, mask in sums.items():
        cap = np.minimum(core.budget - s_o, hi)
        s = cap - (cap - need) % cls.g
        vals = np.where(s >= lo, s, -1)
        top = int(vals.max())
        if top < 0 or top + s_o < best:
            continue
        if top + s_o > best:
            best, found = top + s_o, []
        ks = np.flatnonzero(vals == top)
        margin = np.minimum(top - lo[ks], hi[ks] - top)
        keep = np.argsort(-margin, kind="stable")[:TRIES] if margin.size <= TRIES else (
            np.argpartition(-margin, TRIES)[:TRIES])
        found += [(int(margin[x]), mask, int(ks[x]), top) for x in keep]
    found.sort(key=lambda x: -x[0])
    value = min(best, core.upper_bound)
    if value < best:  # the preprocessing bound is tighter: no pair is known to reach it
        found = []
    return Bound(value, [(mask, k, top) for _, mask, k, top in found[:TRIES]])


def _exactly(v: np.ndarray, k: int, target: int, steps: int = 5_000) -> np.ndarray | None:
    """Positions of exactly ``k`` of the ascending ``v`` summing to ``target``, or None (a
    greedy exchange from the k smallest)."""
    m = v.size
    pos = np.arange(k, dtype=np.int64)
    gap = target - int(v[:k].sum())
    if gap < 0 or k == 0:
        return pos if gap == 0 else None
    # The largest block of top items that moves to the top positions (shift m − k) within gap.
    shift = m - k
    gain = v[shift:] - v[:k]  # moving item i to i + shift
    tail = np.cumsum(gain[::-1])  # moving the top j items
    j = int(np.searchsorted(tail, gap, side="right"))  # top j items move fully
    if j:
        pos[k - j:] += shift
        gap -= int(tail[j - 1])
    limit = int(pos[k - j]) if j else m  # positions of the rest stay below this
    i = k - j - 1
    while gap > 0 and i >= 0 and steps > 0:
        steps -= 1
        q = min(limit - 1, int(np.searchsorted(v, v[i] + gap, side="right")) - 1)
        if q > i:
            gap -= int(v[q] - v[i])
            pos[i] = q
            limit = q
        else:
            limit = i
        i -= 1
    return pos if gap == 0 else None


def select(core: Core, cls: Classes, b: Bound) -> list[int] | None:
    """A selection reaching ``b.value``, or None."""
    for mask, k, target in b.pairs:
        core.check_time()
        pos = _exactly(cls.values, k, target)
        if pos is None:
            continue
        chosen = cls.members[pos].tolist()
        chosen += [cls.outliers[j] for j in range(len(cls.outliers)) if mask >> j & 1]
        return chosen
    return None
