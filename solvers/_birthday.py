"""Generalised birthday search: an exact hit of the budget on dense instances, int64 or not.

When many costs are large (10^13 to 10^18 and beyond, n = 56..4096), the budget is reached
exactly by a huge number of selections: about ``2^n · φ(z)/σ`` (subset sums are near-normal,
``σ = √Σc²/2``). Finding one needs neither a sorted sweep of all sums (Schroeppel–Shamir:
2^(n/2) steps, int64 sums only) nor a core of small gaps (which has too few items when n is
~100 and the gaps are ~10^16). Wagner's k-tree algorithm (“A generalized birthday problem”,
CRYPTO 2002) with four lists does it in O(2^k) per try:

- 4k items form four groups; every other item is fixed (in or out) so that the budget lies
  near the middle of the groups' sums; each group lists its 2^k subset sums;
- lists 1 and 2 are joined on ``s1 + s2 ≡ c (mod 2^k)``, lists 3 and 4 on ``s3 + s4 ≡ T − c``
  (each join ~2^k pairs, found through buckets of the low k bits, radix-sorted once);
- the two joined lists meet where ``a + b ≡ T (mod 2^64)``; each such pair is checked
  exactly with Python integers (a wrap of 2^64 is ~6σ away from the budget, so false pairs
  are rare, and they are rejected, never returned).

All sums are uint64 *modulo 2^64*, so costs of any size work; only the density matters. One
try meets ``2^(3k) · φ(z)/σ`` exact selections on average (2^(4k) counted as the groups'
distinct multisets: equal costs make far fewer distinct sums, and groups with under
``DISTINCT_SHARE`` of them are not planned: their sums lie on a lattice the budget may miss
altogether, as with a few prices); tries with other ``c`` are
independent, and ``Plan.seconds`` prices a plan from that (NumPy cost constants below).
A hit reaches the budget: a proof. Budgets above half the total are searched as the
complement (the excluded projects). hybrid's difference core (``solvers._bigcore.core_hit``)
runs it; the forecast (``ml.runtime``) counts its expected hits the same way.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

MIN_K = 12  # 2^12 sums a list: below this the other cores are already cheap
MAX_K = 22  # 2^22 sums a list: ~580 MiB at the peak (BYTES_PER_SUM)
MAX_N = 4096  # the plan is O(n) Python work per candidate; larger n have other cores
# NumPy cost model (seconds; one list entry of four): measured for k = 12..22 on the reference
# machine (setup 2.0-7.6e-8, a try 3.5-8.0e-8 rising with k as the lists leave the caches)
SETUP_PER_SUM = 3e-8
TRY_PER_SUM = 6e-8
TRY_FIXED = 1e-4
BYTES_PER_SUM = 160  # peak bytes per entry of one list (2^k): four lists, buckets, two joins
# and the sorts; tracemalloc measured 145 at k = 20 and 22 (580 MiB at k = 22)
DISTINCT_SHARE = 0.875  # groups with fewer distinct multisets (log2, of 4k) are not planned
MAX_CHECKS = 64  # values checked exactly a try (pairs equal mod 2^64)
_SEED = 20261207
_MASK64 = (1 << 64) - 1


@dataclass
class Plan:
    k: int
    groups: list[list[int]]  # 4 groups of k positions into the costs
    fixed: list[int]  # positions fixed inside (the rest of the non-group items is out)
    target: int  # what the four groups must sum to
    complement: bool  # the plan searches for the excluded projects
    hits_per_try: float

    def setup_seconds(self) -> float:
        """Predicted seconds to list and bucket the four groups' sums."""
        return SETUP_PER_SUM * 4 * (1 << self.k)

    def try_seconds(self) -> float:
        """Predicted seconds of one try (two joins and the meet)."""
        return TRY_FIXED + TRY_PER_SUM * 4 * (1 << self.k)

    def seconds(self) -> float:
        """Expected seconds to the first hit: the lists, then max(1, 1/hits) tries."""
        tries = 1.0 / max(self.hits_per_try, 1e-300)
        if tries > 1e9:
            return math.inf
        return self.setup_seconds() + max(tries, 1.0) * self.try_seconds()


def _density(target: int, group_costs: list[int]) -> float:
    """φ(z)/σ of the groups' subset sums at ``target`` (per unit of sum)."""
    half = sum(group_costs) / 2
    sigma = math.sqrt(sum(float(c) * c for c in group_costs)) / 2
    if sigma <= 0:
        return 0.0
    z = (target - half) / sigma
    return math.exp(-z * z / 2) / (sigma * math.sqrt(2 * math.pi))


def _log2_multisets(values: list[int]) -> float:
    """log2 of the distinct sub-multisets of ``values``: Σ log2(copies + 1) over its costs."""
    copies: dict[int, int] = {}
    for v in values:
        copies[v] = copies.get(v, 0) + 1
    return sum(math.log2(m + 1) for m in copies.values())


def _fill(costs: list[int], order: list[int], goal: int) -> tuple[list[int], int]:
    """Greedy selection, in ``order``, of items with total ≤ ``goal``."""
    taken, total = [], 0
    for i in order:
        if total + costs[i] <= goal:
            taken.append(i)
            total += costs[i]
    return taken, total


def plan(costs: list[int], target: int, memory_cap: int = 1 << 30) -> Plan | None:
    """The four-group plan expected to hit ``target`` soonest, or None (n < 4·MIN_K or
    n > MAX_N); lists of at most ``memory_cap`` / ``BYTES_PER_SUM`` sums."""
    n = len(costs)
    if not 4 * MIN_K <= n <= MAX_N or target <= 0:
        return None
    total = sum(costs)
    complement = 2 * target > total
    goal = total - target if complement else target
    asc = sorted(range(n), key=costs.__getitem__)
    best: Plan | None = None
    k_cap = min(MAX_K, n // 4, (memory_cap // BYTES_PER_SUM).bit_length() - 1)
    for k in range(MIN_K, k_cap + 1):
        if best is not None and best.seconds() <= (SETUP_PER_SUM + TRY_PER_SUM) * 4 * (1 << k):
            break  # a larger k costs more than the best plan even with one try
        m = 4 * k
        # candidate group sets: the m smallest costs (densest sums), or m spread evenly
        spread = [asc[(i * n) // m] for i in range(m)]
        for chosen in (asc[:m], spread):
            inside = set(chosen)
            rest = [i for i in reversed(asc) if i not in inside]  # largest first
            g_costs = [costs[i] for i in chosen]
            fixed, fixed_total = _fill(costs, rest, goal - sum(g_costs) // 2)
            t = goal - fixed_total
            groups = [chosen[j::4] for j in range(4)]
            # 2^(4k - l) sums meet a target with l = k, counted as distinct multisets (k
            # copies of one cost give k + 1 sums, not 2^k: few prices make far fewer hits)
            log2_sums = sum(_log2_multisets([costs[i] for i in g]) for g in groups)
            hits = 2.0 ** (log2_sums - k) * _density(t, g_costs)
            if log2_sums < DISTINCT_SHARE * 4 * k:
                hits = 0.0  # few prices: sums on a lattice the budget may miss altogether
            here = Plan(k, groups, fixed, t, complement, hits)
            if best is None or here.seconds() < best.seconds():
                best = here
    return best


def core_plan(core: Any) -> Plan | None:
    """``plan`` for a solver core (its costs, bound and memory cap), computed once per core:
    hybrid's exact-first rule and its core step both ask."""
    if "birthday_plan" not in core.memo:
        core.memo["birthday_plan"] = plan(core.costs, core.upper_bound,
                                          core.limits.memory_cap_bytes)
    return core.memo["birthday_plan"]


def _sums(values: list[int]) -> np.ndarray:
    """All 2^len subset sums mod 2^64; entry i is the subset whose bit j selects item j."""
    def doubling(part: list[int]) -> np.ndarray:
        s = np.zeros(1, dtype=np.uint64)
        for v in part:
            s = np.concatenate((s, s + np.uint64(v & _MASK64)))
        return s

    half = len(values) // 2  # low bits: the first half's items; one outer sum for the rest
    low, high = doubling(values[:half]), doubling(values[half:])
    return (high[:, None] + low[None, :]).ravel()


def _bucket_order(keys: np.ndarray, bits: int) -> np.ndarray:
    """Positions of ``keys`` (< 2^bits) in ascending key order: an LSD radix sort of 11-bit
    digits (NumPy's stable sort is a radix sort on 16-bit types)."""
    order = np.arange(keys.size, dtype=np.int64)
    for shift in range(0, bits, 11):
        digit = ((keys[order] >> np.uint64(shift)) & np.uint64(0x7FF)).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
    return order


class _Buckets:
    """A list of sums bucketed by their low ``bits`` bits (a radix sort, done once)."""

    def __init__(self, sums: np.ndarray, bits: int) -> None:
        keys = sums & np.uint64((1 << bits) - 1)
        self.order = _bucket_order(keys, bits).astype(np.int32)
        self.counts = np.bincount(keys.astype(np.int64), minlength=1 << bits)
        self.starts = np.cumsum(self.counts) - self.counts
        self.sums = sums


def _join(left: np.ndarray, right: _Buckets, c: int, bits: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (i, j) with left[i] + right[j] ≡ c (mod 2^bits): (i, j, their sum mod
    2^64)."""
    need = ((np.uint64(c) - left) & np.uint64((1 << bits) - 1)).astype(np.int64)
    cnt = right.counts[need]
    size = int(cnt.sum())
    i = np.repeat(np.arange(left.size, dtype=np.int32), cnt)
    first = np.repeat(right.starts[need] - (np.cumsum(cnt) - cnt), cnt)
    j = right.order[first + np.arange(size)]
    return i, j, left[i] + right.sums[j]


def search(costs: list[int], target: int, stop: float, p: Plan | None = None
           ) -> list[int] | None:
    """Positions of costs summing to ``target`` exactly, or None by ``stop`` (perf_counter)."""
    p = p or plan(costs, target)
    if p is None or p.seconds() == math.inf:
        return None
    k = bits = p.k  # l = k: each join keeps ~2^k pairs
    lists = [_sums([costs[i] for i in g]) for g in p.groups]
    right12, right34 = _Buckets(lists[1], bits), _Buckets(lists[3], bits)
    t64 = p.target & _MASK64
    rng = np.random.default_rng(_SEED)
    per_try = p.try_seconds()
    while time.perf_counter() + per_try <= stop:
        c = int(rng.integers(0, 1 << bits))
        i1, j2, a = _join(lists[0], right12, c, bits)
        i3, j4, b = _join(lists[2], right34, (p.target - c) % (1 << bits), bits)
        if a.size == 0 or b.size == 0:
            continue
        need = np.uint64(t64) - a  # a + b ≡ T (mod 2^64)
        bs = np.sort(b)
        ns = np.sort(need)
        pos = np.searchsorted(bs, ns)
        pos[pos == bs.size] = 0
        values = np.unique(ns[bs[pos] == ns])[:MAX_CHECKS]
        for v in values.tolist():
            x = int(np.flatnonzero(need == np.uint64(v))[0])
            y = int(np.flatnonzero(b == np.uint64(v))[0])
            picks = [(p.groups[0], int(i1[x])), (p.groups[1], int(j2[x])),
                     (p.groups[2], int(i3[y])), (p.groups[3], int(j4[y]))]
            chosen = [g[bit] for g, mask in picks for bit in range(k) if mask >> bit & 1]
            if sum(costs[i] for i in chosen) == p.target:
                selected = chosen + p.fixed
                if p.complement:
                    out = set(selected)
                    return [i for i in range(len(costs)) if i not in out]
                return sorted(selected)
    return None
