"""A difference core for large or huge-coefficient instances (Pisinger's core idea, for subset
sum): hit the upper bound exactly, touching O(n) data only through NumPy.

Sort the costs; pair items whose costs are *adjacent* and closest (gap ``δ = c_hi − c_lo``).
Take the lower item of each of the K closest pairs ("base"), and let the core decide, for each
pair, whether to swap it for the upper one: the core's items are the gaps δ, far smaller than
the costs themselves (on P(E) with n = 1,000 the 40 smallest adjacent gaps are ~10^-4 of the
costs), so its 2^K subset sums cover a window densely. The other items are fixed by a greedy
prefix (in a seeded random order) towards the window's centre, corrected by the single addition
or 1-for-1 swap that lands closest to it; every such move gives another target for the same core.
Each target is checked exactly by meet in the middle over the core's two halves, whose sorted
sums are built once.

K adapts to the magnitude of the gaps: the smallest K (at least 16) whose expected number of
hits at the centre, ``2^K / (2.5 σ)`` with σ the standard deviation of the core's subset sums,
is at least 8, capped by the memory cap and ``MAX_CORE``.

Complexity: O(n log n) NumPy work plus O(2^(K/2) · K) per core and O(2^(K/2)) per target.
Limits: a heuristic — it answers only when it hits the bound (a proof of optimality); None
otherwise. It needs costs below 2^61 (their *sums* may pass int64: P(15) at n ≥ 9,300, P(18):
totals and the fixed part are then summed in Python integers) and stops at its deadline.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from . import _birthday
from ._core import Core
from ._costmodel import cost_model
from ._mitm import sorted_sums as _sorted_sums
from ._mitm import subset_with_sum

__all__ = ["core_hit"]

MIN_N = 48  # below this the plain heuristics and exact methods are cheap
MIN_CORE = 16
MAX_CORE = 44  # 2^22 sums a side: ~130 MiB of arrays
MAX_TARGETS = 48
SMALL_N = 128  # up to here the targets are every subset sum of the items outside the core
REST_MAX = 22  # 2^22 subset sums of the items outside the core, at most
_TARGET_HITS = 8.0
BIRTHDAY_FIRST = 0.25  # the birthday search goes first when expected within this share
BIRTHDAY_SHARE = 0.5  # on int64 cores it runs when expected within this share of the time
COST_LIMIT = 1 << 61  # costs below this: a cost plus a gap (the moves' sums) fits int64
_SEED = 20241202


class _Halves:
    """Sorted subset sums of the two halves of ``items``, built once, queried per target."""

    def __init__(self, items: np.ndarray) -> None:
        half = items.size // 2
        self.half = half
        self.left_items, self.right_items = items[:half].tolist(), items[half:].tolist()
        self.lsum = _sorted_sums(self.left_items)
        self.rsum = _sorted_sums(self.right_items)

    def hit(self, target: int) -> list[int] | None:
        """Positions (into ``items``) of a subset summing exactly to ``target``, or None."""
        want = target - self.lsum  # descending as lsum ascends
        pos = np.searchsorted(self.rsum, want)
        ok = pos < self.rsum.size
        found = np.flatnonzero(ok & (self.rsum[np.minimum(pos, self.rsum.size - 1)] == want))
        if not found.size:
            return None
        lval = int(self.lsum[int(found[0])])
        chosen = subset_with_sum(self.left_items, lval)
        chosen += [self.half + i for i in subset_with_sum(self.right_items, target - lval)]
        return chosen


def _pairs(sorted_costs: np.ndarray, want: int) -> np.ndarray:
    """Up to ``want`` disjoint adjacent pairs (index of the lower item in sorted order) with the
    smallest positive gaps, smallest first."""
    gaps = np.diff(sorted_costs)
    positive = np.flatnonzero(gaps > 0)  # equal costs make useless (zero) gaps
    pool = min(positive.size, max(8 * want, 256))
    if pool < positive.size:
        cand = positive[np.argpartition(gaps[positive], pool - 1)[:pool]]
    else:
        cand = positive
    cand = cand[np.argsort(gaps[cand], kind="stable")]
    used = np.zeros(sorted_costs.size, dtype=bool)
    chosen: list[int] = []
    for t in cand.tolist():
        if not used[t] and not used[t + 1]:
            used[t] = used[t + 1] = True
            chosen.append(t)
            if len(chosen) == want:
                break
    return np.array(chosen, dtype=np.int64)


def _core_size(deltas: np.ndarray, max_k: int) -> int:
    """Smallest K ≥ MIN_CORE with enough expected hits (deltas sorted ascending)."""
    sq = np.cumsum(deltas.astype(np.float64) ** 2)
    for k in range(min(MIN_CORE, deltas.size), min(max_k, deltas.size) + 1):
        sigma = max(math.sqrt(sq[k - 1]) / 2, 1.0)
        if 2.0**k / (2.5 * sigma) >= _TARGET_HITS:
            return k
    return min(max_k, deltas.size)


def _build_seconds(k: int) -> float:
    """Predicted time to build the halves' sorted sums (the measured cost model)."""
    return cost_model().core(k)


def _query_seconds(k: int) -> float:
    """Predicted time of one target query."""
    return cost_model().query((k + 1) // 2)


def _max_core(core: Core) -> int:
    k = MAX_CORE
    while k > MIN_CORE and 48 * (1 << ((k + 1) // 2)) > core.limits.memory_cap_bytes // 2:
        k -= 2
    return k


def _moves(s: np.ndarray, in_pos: np.ndarray, out_pos: np.ndarray, need: int, limit: int
           ) -> list[tuple[int, int, int]]:
    """Candidate (delta, drop, add) moves raising the fixed part by about ``need``: nothing, one
    addition of an outside item, or a 1-for-1 swap; sorted by how close ``delta`` lands to
    ``need``. ``s`` is sorted; ``in_pos``/``out_pos`` are ascending positions into it, so their
    values are sorted too."""
    moves: list[tuple[int, int, int]] = [(0, -1, -1)]
    if out_pos.size:
        ov = s[out_pos]
        p = int(np.searchsorted(ov, need))
        for q in (p - 1, p):
            if 0 <= q < ov.size:
                moves.append((int(ov[q]), -1, int(out_pos[q])))
        if in_pos.size:
            sample = in_pos if in_pos.size <= 4096 else in_pos[:: in_pos.size // 4096 + 1]
            iv = s[sample]
            p = np.searchsorted(ov, iv + need)
            for q in (p - 1, p):
                okq = (q >= 0) & (q < ov.size)
                qq = np.clip(q, 0, ov.size - 1)
                delta = ov[qq] - iv
                score = np.abs(delta - need)
                score[~okq] = np.iinfo(np.int64).max
                best = np.argsort(score, kind="stable")[:limit]
                moves.extend((int(delta[b]), int(sample[b]), int(out_pos[qq[b]]))
                             for b in best.tolist() if okq[b])
    moves.sort(key=lambda m: abs(m[0] - need))
    return moves[:limit]


@dataclass(frozen=True)
class CorePlan:
    """One candidate core of the small-n search: ``kind`` "pairs" (the gaps of the K closest
    pairs, ``pos`` their lower members) or "raw" (the K smallest costs), over sorted costs;
    ``fixed`` are positions always taken (an aligned plan's fixed part)."""

    kind: str
    pos: np.ndarray
    items: np.ndarray  # the core's values (gaps or costs)
    used: np.ndarray  # the sorted positions the core and the fixed part take; the rest are
    # the targets' items
    build_seconds: float  # the halves' sums plus every subset sum of the rest (not interrupted)
    expected_hits: float  # hits over the targets in the window it can afford
    fixed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _sums_sigma(items: np.ndarray) -> float:
    """Deviation of the subset sums of ``items`` (each taken with probability 1/2), at least 1."""
    x = items.astype(np.float64)
    return max(math.sqrt(float((x * x).sum())) / 2, 1.0)


def _taken(n: int, pos: np.ndarray, pairs: bool) -> np.ndarray:
    """Mask of the sorted positions a core takes: ``pos``, and their upper pair members."""
    used = np.zeros(n, dtype=bool)
    used[pos] = True
    if pairs:
        used[pos + 1] = True
    return used


ALIGN_STEP = 4
"""An aligned pairs plan is tried for every this many fewer pairs, down to ``MIN_CORE``."""


def _score(s: np.ndarray, kind: str, pos: np.ndarray, items: np.ndarray, used: np.ndarray,
           fixed: np.ndarray, seconds: float, target: int | None) -> CorePlan:
    rest = s[~used].astype(np.float64)
    sigma_rest = _sums_sigma(rest)
    z = 0.0
    if target is not None:
        base = (float(s[pos].sum()) if kind == "pairs" else 0.0) + float(s[fixed].sum())
        want = float(target) - base - float(items.sum()) / 2
        z = (want - float(rest.sum()) / 2) / sigma_rest
    rho = 2.0**rest.size * math.exp(-min(z * z / 2, 700.0)) / (2.5 * sigma_rest)
    sigma_k = _sums_sigma(items)
    build = _build_seconds(items.size) + cost_model().sorted_sums(int(rest.size))
    affordable = max(0.0, seconds - build) / _query_seconds(items.size)
    every = rho * 2.0**items.size  # targets per unit x the core's sums over the window
    expected = (every * math.erf(affordable / (2 * math.sqrt(2) * rho * sigma_k))
                if rho > 0 else 0.0)
    return CorePlan(kind, pos, items, used, build, expected, fixed)


def _aligned(s: np.ndarray, pos: np.ndarray, items: np.ndarray, target: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """(used, fixed) for K pairs whose other items are more than ``REST_MAX``: the rest is
    ``REST_MAX`` of them (a seeded random choice), the others are fixed, taken as a prefix (in
    a seeded random order) up to what centres the window on the rest's mean sum, the remainder
    left out. One of each pair is always taken, so with a budget far from half the total the
    plain plan's window lies in the far tail of the rest's sums, or below zero."""
    used = _taken(s.size, pos, pairs=True)
    others = np.random.default_rng(_SEED).permutation(np.flatnonzero(~used))
    rest, spare = others[:REST_MAX], others[REST_MAX:]
    goal = (int(target) - int(s[pos].sum()) - int(items.sum()) // 2
            - int(s[rest].sum()) // 2)
    b, _ = _prefix_cut(s[spare], max(goal, 0), True)
    used[spare] = True  # fixed: in (the prefix) or out
    return used, np.sort(spare[:b])


def core_plans(s: np.ndarray, kmax: int, seconds: float, target: int | None = None
               ) -> list[CorePlan]:
    """The small-n core's plans for the sorted costs ``s`` given ``seconds`` to search, scored
    by expected hits: the one scoring ``_enumerated_hit`` chooses by, and the forecast reads
    (``ml.runtime``).

    The targets are the rest's subset sums in the core's window, tried from its centre
    outward; the rest's sums have density ``ρ`` there (normal, at the ``target``'s place in
    their distribution when it is given, else at their centre), and the core's own sums are
    normal with deviation ``σ_K``. Querying ``A`` targets covers ``A/ρ`` of the window around
    its centre, so the expected hits are ``ρ · 2^K · erf(A / (2√2 ρ σ_K))``: ``2^K·A/(2.5 σ_K)``
    for few queries, and never more than every target's hits together, ``ρ · 2^K`` (counting
    each target at the centre's density overstated that ~√K times: a plan "expecting" 2-4 hits
    tried every target in 0.1 s and found none).

    With a ``target``, pairs plans with fewer pairs and a fixed part (``_aligned``) are scored
    too: they centre the window on the rest's sums whatever the budget's share of the total."""
    n = s.size
    plans: list[CorePlan] = []
    lows = _pairs(s, kmax)
    k_pairs = min(lows.size, max(MIN_CORE, (n - REST_MAX) // 2))
    if k_pairs >= MIN_CORE and n - 2 * k_pairs <= REST_MAX:
        pos = lows[:k_pairs]
        plans.append(_score(s, "pairs", pos, s[pos + 1] - s[pos], _taken(n, pos, pairs=True),
                            np.zeros(0, dtype=np.int64), seconds, target))
    if target is not None:
        # a low budget cannot hold the lower members of pairs spread over all costs: pairs
        # among the smallest costs too (3K of them), whose lower members sum to little
        low = 2 * float(target) < float(s.sum())
        for k in range(min(k_pairs, lows.size), MIN_CORE - 1, -ALIGN_STEP):
            if n - 2 * k <= REST_MAX:
                continue  # no spare items to fix: the plain plan above
            pools = [lows[:k]]
            if low and 3 * k < n:
                small = _pairs(s[:3 * k], k)
                if small.size == k:
                    pools.append(small)
            for pos in pools:
                items = s[pos + 1] - s[pos]
                used, fixed = _aligned(s, pos, items, target)
                plans.append(_score(s, "pairs", pos, items, used, fixed, seconds, target))
    k_raw = min(kmax, n - min(REST_MAX, n - MIN_CORE))
    if k_raw >= MIN_CORE and n - k_raw <= REST_MAX:
        pos = np.arange(k_raw)
        plans.append(_score(s, "raw", pos, s[pos], _taken(n, pos, pairs=False),
                            np.zeros(0, dtype=np.int64), seconds, target))
    return plans


def _enumerated_hit(core: Core, stop: float) -> list[int] | None:
    """For few items (n ≤ SMALL_N): the core is either the K closest pairs' gaps or the K
    smallest costs, whichever promises more hits within the time left (``core_plans``), and
    the targets are *all* subset sums of the remaining ≤ REST_MAX items, tried from the one
    that centres the core outward."""
    a = core.array
    assert a is not None
    asc = core.sorted_order()
    s = a[asc]
    n = s.size
    plans = core_plans(s, _max_core(core), stop - time.perf_counter(), core.upper_bound)
    if not plans:
        return None
    plan = max(plans, key=lambda p: p.expected_hits)
    kind, pos, items, used = plan.kind, plan.pos, plan.items, plan.used
    k = items.size
    # both builds (the core's halves and every subset sum of the rest, up to 2^REST_MAX) must
    # fit before the deadline: neither is interrupted once started
    if time.perf_counter() + plan.build_seconds > stop:
        return None
    base = (int(s[pos].sum()) if kind == "pairs" else 0) + int(s[plan.fixed].sum())
    rest_pos = np.flatnonzero(~used)
    rest_items = s[rest_pos].tolist()
    rest_sums = _sorted_sums(rest_items)
    span = int(items.sum())
    want = core.upper_bound - base - span // 2
    halves = _Halves(items)
    p = int(np.searchsorted(rest_sums, want))
    lo, hi = p - 1, p
    while lo >= 0 or hi < rest_sums.size:
        if time.perf_counter() + _query_seconds(k) > stop:
            return None
        take_hi = hi < rest_sums.size and (lo < 0 or rest_sums[hi] - want <= want - rest_sums[lo])
        if take_hi:
            rs, hi = int(rest_sums[hi]), hi + 1
        else:
            rs, lo = int(rest_sums[lo]), lo - 1
        t = core.upper_bound - base - rs
        if t < 0:
            if take_hi:
                hi = rest_sums.size  # larger rest sums only overshoot more
            continue
        if t > span:
            if not take_hi:
                lo = -1
            continue
        picked = halves.hit(t)
        if picked is None:
            continue
        chosen = np.zeros(n, dtype=bool)
        chosen[plan.fixed] = True
        chosen[rest_pos[subset_with_sum(rest_items, rs)]] = True
        if kind == "pairs":
            swap = np.zeros(k, dtype=bool)
            swap[picked] = True
            chosen[pos[~swap]] = True
            chosen[pos[swap] + 1] = True
        else:
            chosen[pos[picked]] = True
        return asc[chosen].tolist()
    return None


def _costs_int64(core: Core) -> tuple[np.ndarray, np.ndarray] | None:
    """(costs as int64, ascending order): the core's array, or for costs whose *sums* pass
    int64 (``Core.array`` is None there) a copy when every cost is below ``COST_LIMIT``;
    None beyond. Sums over many items are then taken in Python integers (``_prefix_cut``)."""
    if core.array is not None:
        return core.array, core.sorted_order()
    if "int64_costs" not in core.memo:
        found = None
        if core.costs and max(core.costs) < COST_LIMIT:
            arr = np.array(core.costs, dtype=np.int64)
            found = (arr, np.argsort(arr, kind="stable"))
        core.memo["int64_costs"] = found
    return core.memo["int64_costs"]


def _prefix_cut(values: np.ndarray, goal: int, exact_sums: bool) -> tuple[int, int]:
    """(b, the sum of values[:b]) for the longest prefix whose sum is at most ``goal``.
    With ``exact_sums`` False (the total may pass int64) the cut is found in float64 and
    settled in Python integers around it."""
    if exact_sums:
        csum = np.cumsum(values)
        b = int(np.searchsorted(csum, goal, side="right"))
        return b, int(csum[b - 1]) if b else 0
    approx = np.cumsum(values.astype(np.float64))
    b = max(0, int(np.searchsorted(approx, float(goal), side="right")) - 8)
    fixed = sum(values[:b].tolist())
    while fixed > goal and b:  # float rounding put the cut too far
        b -= 1
        fixed -= int(values[b])
    while b < values.size and fixed + int(values[b]) <= goal:
        fixed += int(values[b])
        b += 1
    return b, fixed


def birthday_route(core: Core, seconds: float) -> tuple[_birthday.Plan | None, bool, float]:
    """How ``core_hit`` given ``seconds`` uses the generalised birthday search: its plan (None
    when it does not run), whether it runs first, and the seconds it may use. It runs when it
    expects its hit within those seconds: all of them when the sums pass int64 (the difference
    cores then see gaps or a part of the costs only, so it goes first); half of them on int64
    cores up to ``SMALL_N`` items (past that the greedy-and-moves core has room enough, and
    the plan's O(n) Python work would cost quick solves a tenth of a millisecond), first when
    it expects its hit within ``BIRTHDAY_FIRST`` of the time, else after the difference cores.
    The forecast (``ml.runtime``) and hybrid's exact-first rule ask the same question."""
    n_max = _birthday.MAX_N if core.array is None else SMALL_N
    if not 4 * _birthday.MIN_K <= core.n <= n_max:
        return None, False, 0.0
    wagner = _birthday.core_plan(core)
    budget = seconds if core.array is None else seconds * BIRTHDAY_SHARE
    if wagner is None or wagner.seconds() > budget:
        return None, False, 0.0
    first = core.array is None or wagner.seconds() <= seconds * BIRTHDAY_FIRST
    return wagner, first, budget


def core_hit(core: Core, seconds: float) -> list[int] | None:
    """A selection (positions into ``core.costs``) summing to ``core.upper_bound``, or None:
    the difference cores and the generalised birthday search (``solvers._birthday``), in the
    order and shares ``birthday_route`` gives."""
    stop = time.perf_counter() + min(seconds, core.time_left())
    wagner, first, budget = birthday_route(core, stop - time.perf_counter())
    if wagner is None:
        return _difference_cores(core, stop)
    if core.array is None:
        return _birthday.search(core.costs, core.upper_bound, stop, wagner)
    half = time.perf_counter() + budget  # the first of the two gets this, the other the rest
    if first:
        hit = _birthday.search(core.costs, core.upper_bound, half, wagner)
    else:
        hit = _difference_cores(core, half)
    if hit is not None or time.perf_counter() >= stop:
        return hit
    if first:
        return _difference_cores(core, stop)
    return _birthday.search(core.costs, core.upper_bound, stop, wagner)


def _difference_cores(core: Core, stop: float) -> list[int] | None:
    """The enumerated core (n ≤ ``SMALL_N``), then the greedy-and-moves core, until ``stop``."""
    found = _costs_int64(core)
    if found is None or found[0].size < MIN_N:
        return None
    a, asc = found
    exact_sums = core.array is not None  # every sum fits int64
    if a.size <= SMALL_N and exact_sums:
        hit = _enumerated_hit(core, stop)
        if hit is not None or time.perf_counter() >= stop:
            return hit  # else: no enumerable plan; the greedy-and-moves targets below
    plan = _generic_plan(core, a, asc, exact_sums, stop)
    if plan is None or time.perf_counter() > stop:
        return None
    lows, k = plan.lows, plan.lows.size
    inside = plan.inside
    halves = _Halves(plan.deltas)
    for _delta, drop, add, t in plan.targets():
        if time.perf_counter() + _query_seconds(k) > stop:
            return None
        picked = halves.hit(t)
        if picked is None:
            continue
        if drop >= 0:
            inside[drop] = False
        if add >= 0:
            inside[add] = True
        swap = np.zeros(k, dtype=bool)
        swap[picked] = True
        inside[lows[~swap]] = True
        inside[lows[swap] + 1] = True
        return asc[inside].tolist()
    return None


@dataclass
class _GenericPlan:
    """The greedy-and-moves core: the K closest pairs' gaps, a fixed part, and the moves that
    give its targets."""

    lows: np.ndarray
    deltas: np.ndarray
    base_sum: int
    span: int
    fixed: int
    inside: np.ndarray  # the fixed part (sorted positions)
    moves: list[tuple[int, int, int]]
    target_total: int

    def targets(self) -> list[tuple[int, int, int, int]]:
        """(delta, drop, add, t) of the moves whose target t lies in the core's window."""
        out = []
        for delta, drop, add in self.moves:
            t = self.target_total - self.base_sum - self.fixed - delta
            if 0 <= t <= self.span:
                out.append((delta, drop, add, t))
        return out


def _generic_plan(core: Core, a: np.ndarray, asc: np.ndarray, exact_sums: bool, stop: float
                  ) -> _GenericPlan | None:
    target_total = core.upper_bound
    s = a[asc]
    lows = _pairs(s, _max_core(core))
    if lows.size < MIN_CORE:
        return None
    deltas = s[lows + 1] - s[lows]
    k = _core_size(deltas, _max_core(core))
    while k > MIN_CORE and time.perf_counter() + _build_seconds(k) > stop:
        k -= 1  # a smaller core that can be built in the time given
    lows, deltas = lows[:k], deltas[:k]
    base_sum = sum(s[lows].tolist())  # Python integers: 44 costs of 2^60 pass int64
    span = int(deltas.sum())
    if span >= COST_LIMIT:
        return None
    goal = target_total - base_sum - span // 2
    if goal < 0:
        return None
    in_pair = np.zeros(a.size, dtype=bool)
    in_pair[lows] = in_pair[lows + 1] = True
    # The fixed part: a prefix of the other items in a seeded random order, so that taken and
    # untaken items interleave in value and 1-for-1 swaps can move the total by small amounts.
    perm = np.random.default_rng(_SEED).permutation(np.flatnonzero(~in_pair))
    b, fixed = _prefix_cut(s[perm], goal, exact_sums)
    inside = np.zeros(a.size, dtype=bool)
    inside[perm[:b]] = True
    in_pos = np.flatnonzero(inside)
    out_pos = np.flatnonzero(~inside & ~in_pair)
    if goal - fixed >= COST_LIMIT:  # the rest cannot reach the window: no target
        return None
    moves = _moves(s, in_pos, out_pos, goal - fixed, MAX_TARGETS)
    return _GenericPlan(lows, deltas, base_sum, span, fixed, inside, moves, target_total)


def generic_expected_hits(core: Core, seconds: float) -> float | None:
    """Hits the greedy-and-moves core expects within ``seconds`` (the forecast reads it): over
    its targets in the window, the core sums' normal density there (None: it has no plan)."""
    found = _costs_int64(core)
    if found is None or found[0].size < MIN_N:
        return None
    a, asc = found
    plan = _generic_plan(core, a, asc, core.array is not None, time.perf_counter() + seconds)
    if plan is None:
        return 0.0
    sigma = _sums_sigma(plan.deltas)
    centre = plan.span / 2
    per = 2.0**plan.deltas.size / (math.sqrt(2 * math.pi) * sigma)
    return float(sum(per * math.exp(-((t - centre) / sigma) ** 2 / 2)
                     for *_, t in plan.targets()))


def greedy_fast(core: Core, rounds: int = 64) -> list[int]:
    """Largest-first greedy on int64 costs, vectorised: the longest prefix of the costs sorted
    in decreasing order that fits, then up to ``rounds`` best-fitting single additions."""
    a = core.array
    assert a is not None
    asc = core.sorted_order()
    s = a[asc]
    csum = np.cumsum(s[::-1])
    b = int(np.searchsorted(csum, core.budget, side="right"))
    gap = core.budget - (int(csum[b - 1]) if b else 0)
    free_end = s.size - b  # s[:free_end] are not taken
    extra: list[int] = []
    for _ in range(rounds):
        p = int(np.searchsorted(s[:free_end], gap, side="right")) - 1
        if p < 0 or gap == 0:
            break
        extra.append(p)
        gap -= int(s[p])
        free_end = p  # everything at or above p is now taken or too big
    taken = np.concatenate((asc[s.size - b:], asc[np.array(extra, dtype=np.int64)]))
    return taken.tolist()
