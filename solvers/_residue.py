"""Residue classes: a bound and a selection for costs that share one or two residues modulo g.

When every cost but a few *outliers* is ≡ r (mod g), g ≥ 2, a selection of k of those costs
sums to ≡ r·k (mod g), and to at least the k smallest and at most the k largest of them. So
for each subset O of the outliers and each count k, the best such selection is at most

    U(O, k) = the largest s ≤ min(B − sum(O), hi_k) with s ≡ r·k (mod g), if s ≥ lo_k

and the optimum is at most max U(O, k) + sum(O): a proof where the budget's residue is out of
reach (the preprocessing bound then stays at the budget, and no heuristic hit can reach it).
With two classes (residues r1, r2) the counts form a grid: k1 + k2 items sum to
≡ r1·k1 + r2·k2 (mod g), between the sums of each class's k_j smallest and largest.
The selection: for the counts that reach the bound, exactly k of a class summing to its share,
found by a greedy exchange from the k smallest (each chosen item moves as far up the sorted
class as the remaining gap allows; a block of top items moves at once); with two classes the
total is split where both shares are central. On dense classes it lands on the target; when it
does not, the bound still holds and the other methods aim at it.

Detection: one class by the gcd of differences in three scattered samples of 16 (a few µs when
there is none); two classes by the largest pairwise gcd of a sample's differences (multiples of
g when both items share a class) under which the sample shows exactly two residues (MIN_G2 ≤ g).
Complexity: O(n) NumPy for the class test, O(2^t · n) (one class) or O(2^t · n1 · n2) (two,
at most ``MAX_GRID`` cells) for the bound over t ≤ ``MAX_OUTLIERS`` outliers, O(n log n) a try.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._core import Core

__all__ = ["Bound", "Classes", "Part", "bound", "classes", "select"]

MIN_N = 64  # smaller cores: the exact methods are quick, and small solves pay nothing
SAMPLE = 16  # items a sample, three samples spread through the array
MAX_OUTLIERS = 10
MAX_WORK = 1 << 23  # outlier subsets × the bound's counts (int64 arrays)
MAX_GRID = 1 << 21  # the same for two classes (a grid of counts, several arrays of it)
MIN_G2 = 8  # two classes modulo less than this say nothing (any costs have ≤ 2 residues mod 2)
TRIES = 8  # (outlier subset, count) pairs tried for a selection
SECONDS_PER_ITEM = 3e-7  # the whole step, measured 27 ms at n = 10^5 (the forecast's price)
_SPREAD = (np.arange(SAMPLE, dtype=np.int64) * 2_654_435_761
           + np.array([[0], [7919], [15838]], dtype=np.int64))
_SPREAD2 = np.arange(24, dtype=np.int64) * 2_654_435_761 + 104_729
_UPPER = np.triu_indices(23, 1)


@dataclass(frozen=True)
class Part:
    """One residue class: every member is ≡ ``r`` (mod the classes' g)."""

    r: int
    members: np.ndarray  # positions into the core, sorted by cost ascending
    values: np.ndarray  # their costs, ascending
    low: np.ndarray  # low[k]: the sum of the k smallest, k = 0..size
    high: np.ndarray  # high[k]: the sum of the k largest


def _part(r: int, members: np.ndarray, values: np.ndarray) -> Part:
    return Part(r, members, values, np.concatenate(([0], np.cumsum(values))),
                np.concatenate(([0], np.cumsum(values[::-1]))))


@dataclass(frozen=True)
class Classes:
    g: int
    parts: tuple[Part, ...]  # one or two classes
    outliers: tuple[int, ...]  # positions of the other items

    @property
    def r(self) -> int:
        return self.parts[0].r


def classes(core: Core) -> Classes | None:
    """The common residue class (or two) of all costs but at most ``MAX_OUTLIERS``, or
    None."""
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
    if g >= 2:
        found = _split(core, g, (int(x[best, 0]) % g,))
        if found is not None:
            return found
    return _two(core)


def _two(core: Core) -> Classes | None:
    """Two classes: among a sample's pairwise gcds of differences (same-class pairs give
    multiples of g), the largest g ≥ ``MIN_G2`` under which the sample has two residues."""
    a = core.array
    assert a is not None
    x = a[_SPREAD2 % a.size]
    diff = np.abs(x[1:] - x[0])
    pairs = np.gcd.outer(diff, diff)[_UPPER]
    big = pairs[pairs >= MIN_G2]
    if big.size < _UPPER[0].size // 10:  # random costs: ~8 % of pairs; a class's own: p²
        return None
    cands = np.unique(big)[::-1]  # same-class pairs give multiples of g: g itself is likely
    rows = np.sort(x[None, :] % cands[:, None], axis=1)
    distinct = 1 + np.count_nonzero(rows[:, 1:] != rows[:, :-1], axis=1)
    two = np.flatnonzero(distinct == 2)
    if two.size == 0:
        return None
    row = rows[two[0]]  # the largest modulus under which the sample has two residues
    return _split(core, int(cands[two[0]]), (int(row[0]), int(row[-1])))


def _split(core: Core, g: int, rs: tuple[int, ...]) -> Classes | None:
    """The classes ``rs`` modulo ``g`` and the outliers, or None when there are too many
    outliers, a class is empty, or the bound's grid would be too large."""
    a = core.array
    assert a is not None
    if float(a.sum(dtype=np.float64)) >= 2.0**62:  # the bound's prefix sums: int64
        return None
    residues = a % g
    masks = [residues == r for r in rs]
    inside = masks[0] if len(masks) == 1 else masks[0] | masks[1]
    outliers = np.flatnonzero(~inside)
    t = outliers.size
    sizes = [int(np.count_nonzero(m)) for m in masks]
    cells = (sizes[0] + 1) * (sizes[1] + 1 if len(sizes) > 1 else 1)
    if (t > MAX_OUTLIERS or (cells << t) > (MAX_WORK if len(sizes) == 1 else MAX_GRID)
            or min(sizes) == 0):
        return None
    asc = core.sorted_order()  # shared with the other methods
    members = [asc[mask[asc]] for mask in masks]
    if len(members) == 1:  # the class's own modulus, a multiple of g
        vals = a[members[0]]
        g = int(np.gcd.reduce(vals - vals[0])) or g
    parts = tuple(_part(int(a[m[0]]) % g, m, a[m]) for m in members)
    return Classes(g, parts, tuple(int(i) for i in outliers))


@dataclass(frozen=True)
class Bound:
    value: int  # the proven upper bound (≤ the core's)
    pairs: list[tuple[int, int, int, int]]  # (outlier mask, k1, k2, class total) reaching it


def bound(core: Core, cls: Classes) -> Bound:
    """The residue-and-count bound, with the (outlier subset, counts) that reach it (best
    margins first)."""
    g = cls.g
    first = cls.parts[0]
    second = cls.parts[1] if len(cls.parts) > 1 else _part(0, first.members[:0],
                                                           first.values[:0])
    lo1, hi1, lo2, hi2 = first.low, first.high, second.low, second.high
    lo = lo1[:, None] + lo2[None, :]
    hi = hi1[:, None] + hi2[None, :]
    need = ((first.r * np.arange(lo1.size, dtype=np.int64))[:, None]
            + (second.r * np.arange(lo2.size, dtype=np.int64))[None, :]) % g
    costs = [int(core.array[i]) for i in cls.outliers]  # type: ignore[index]
    sums: dict[int, int] = {}
    for mask in range(1 << len(costs)):
        s = sum(c for j, c in enumerate(costs) if mask >> j & 1)
        if s <= core.budget:
            sums.setdefault(s, mask)
    best, found = -1, []
    for s_o, mask in sums.items():
        cap = np.minimum(core.budget - s_o, hi)
        s = cap - (cap - need) % g
        vals = np.where(s >= lo, s, -1)
        top = int(vals.max())
        if top < 0 or top + s_o < best:
            continue
        if top + s_o > best:
            best, found = top + s_o, []
        ks = np.flatnonzero(vals == top)
        margin = np.minimum(top - lo.flat[ks], hi.flat[ks] - top)
        keep = np.argsort(-margin, kind="stable")[:TRIES] if margin.size <= TRIES else (
            np.argpartition(-margin, TRIES)[:TRIES])
        found += [(int(margin[x]), mask, *divmod(int(ks[x]), lo2.size), top) for x in keep]
    found.sort(key=lambda x: -x[0])
    value = min(best, core.upper_bound)
    if value < best:  # the preprocessing bound is tighter: no pair is known to reach it
        found = []
    return Bound(value, [(mask, k1, k2, top) for _, mask, k1, k2, top in found[:TRIES]])


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


def _shares(cls: Classes, k1: int, k2: int, total: int) -> list[int]:
    """Totals for the first class (the second gets the rest) to try: in the range both can
    reach, in the first class's residue, near where each is as central as the other."""
    if len(cls.parts) == 1:
        return [total]
    a, b = cls.parts
    lo1, hi1, lo2, hi2 = int(a.low[k1]), int(a.high[k1]), int(b.low[k2]), int(b.high[k2])
    low, high = max(lo1, total - hi2), min(hi1, total - lo2)
    span = (hi1 - lo1) + (hi2 - lo2)
    aim = lo1 + ((hi1 - lo1) * (total - lo1 - lo2)) // span if span else lo1
    aim = min(max(aim, low), high)
    base = aim - (aim - a.r * k1) % cls.g
    out = []
    for t in (base, base + cls.g, base - cls.g, base + 2 * cls.g):
        if low <= t <= high and t not in out:
            out.append(t)
    return out


def select(core: Core, cls: Classes, b: Bound) -> list[int] | None:
    """A selection reaching ``b.value``, or None."""
    for mask, k1, k2, total in b.pairs:
        core.check_time()
        for share in _shares(cls, k1, k2, total):
            pos1 = _exactly(cls.parts[0].values, k1, share)
            if pos1 is None:
                continue
            chosen = cls.parts[0].members[pos1].tolist()
            if len(cls.parts) > 1:
                pos2 = _exactly(cls.parts[1].values, k2, total - share)
                if pos2 is None:
                    continue
                chosen += cls.parts[1].members[pos2].tolist()
            chosen += [cls.outliers[j] for j in range(len(cls.outliers)) if mask >> j & 1]
            return chosen
    return None
