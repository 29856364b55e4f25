"""Schroeppel–Shamir: meet in the middle in O(2^(n/2)) time but O(2^(n/4)) memory.

The items are split in four quarters with sorted subset sums ``a, b`` (left) and ``c, d``
(right). The left sums ``a ⊕ b`` are never stored whole: they are produced in ascending value
*blocks* (for each ``a_i``, the ``b_j`` with ``a_i + b_j`` in the block's value range are one
``searchsorted`` interval), each block sorted on its own. For a block of left sums in
``[x, x')``, the best partners lie in the right sums within ``(T − x', T − x]``, produced the
same way from ``c ⊕ d``; a left sum with no partner there pairs with the largest right sum
``≤ T − x'``, one vectorised search over ``c``. That is the two-pointer sweep of Horowitz–Sahni,
done blockwise, so n = 47–56 items with int64 costs fit in a few MiB. The blocks are swept
from the one whose partners are the *centre* of the right sums outwards (``_centre_out``):
every block is still visited unless the budget itself is hit, but on dense instances the hit
comes in the first few blocks instead of half-way through the sweep.

Complexity: O(2^(n/2) · log) time (about 0.1–0.2 µs a sum here), O(2^(n/4) + block) memory.
Limits: int64 costs; checks the clock between blocks (``check``), a block never holding more
than 2·BLOCK sums on a side (dense value ranges are halved); exact when it completes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ._mitm import sorted_sums as _sorted_sums
from ._mitm import subset_with_sum

__all__ = ["schroeppel_shamir"]

BLOCK = 1 << 20  # left sums per block (8 MiB)


def _pairs_in(a: np.ndarray, b: np.ndarray, lo: int, hi: int,
              limit: int | None = None) -> np.ndarray | None:
    """Sorted values ``a_i + b_j`` with ``lo ≤ a_i + b_j < hi``; None when there are more than
    ``limit`` of them (the caller splits the range: one block's work stays bounded)."""
    start = np.searchsorted(b, lo - a, side="left")
    stop = np.searchsorted(b, hi - a, side="left")
    counts = stop - start
    total = int(counts.sum())
    if limit is not None and total > limit and hi - lo > 1:
        return None
    if not total:
        return np.empty(0, dtype=np.int64)
    keep = counts > 0
    a, start, counts = a[keep], start[keep], counts[keep]
    offsets = np.cumsum(counts) - counts
    idx = np.arange(total, dtype=np.int64) - np.repeat(offsets - start, counts)
    return np.sort(np.repeat(a, counts) + b[idx])


def _largest_at_most(c: np.ndarray, d: np.ndarray, y: int) -> int:
    """max{c_i + d_j ≤ y}, or -1."""
    if y < 0:
        return -1
    pos = np.searchsorted(d, y - c, side="right") - 1
    ok = pos >= 0
    if not ok.any():
        return -1
    return int((c[ok] + d[pos[ok]]).max())


def _split_value(a: np.ndarray, b: np.ndarray, value: int) -> tuple[int, int]:
    """(a_i, b_j) with a_i + b_j == value (value must be such a sum)."""
    pos = np.searchsorted(b, value - a)
    ok = (pos < b.size) & (b[np.minimum(pos, b.size - 1)] == value - a)
    i = int(np.flatnonzero(ok)[0])
    return int(a[i]), value - int(a[i])


def _centre_out(top: int, width: int, centre: int) -> list[int]:
    """Starts of the value blocks ``[x, x + width)`` covering ``[0, top]``, the block holding
    ``centre`` first, then alternately the next one up and down. The caller's centre is where
    left sums and their partners ``budget − x`` are both dense (halfway between the left sums'
    middle and the budget minus the right sums' middle), so a budget that is a subset sum is
    usually met in the first blocks."""
    count = top // width + 1
    first = min(max(centre, 0), top) // width
    order = [first]
    for step in range(1, count):
        for k in (first + step, first - step):
            if 0 <= k < count:
                order.append(k)
    return [k * width for k in order]


def schroeppel_shamir(costs: list[int], budget: int, check: Callable[[], None]
                      ) -> tuple[list[int], int]:
    """Exact: positions of a subset with the largest sum ≤ budget, and that sum."""
    n = len(costs)
    q = [0, n // 4, n // 2, n // 2 + (n - n // 2) // 2, n]
    parts = [costs[q[k]:q[k + 1]] for k in range(4)]
    a, b, c, d = (_sorted_sums(p) for p in parts)
    lmax = int(a[-1] + b[-1])
    lhi_all = min(lmax, budget)
    blocks = max(1, math.ceil(a.size * b.size / BLOCK))
    width = max(1, (lhi_all + 1) // blocks + 1)
    best, best_l = -1, 0
    rmax = int(c[-1] + d[-1])
    for start in _centre_out(lhi_all, width, (lmax // 2 + budget - rmax // 2) // 2):
        # Blocks have equal value widths, but sums are not uniform: a block holding more than
        # 2·BLOCK sums on either side is halved (and again), so the clock is checked at least
        # every ~2·BLOCK sums whatever the distribution.
        pending = [(start, min(start + width, lhi_all + 1))]
        while pending:
            check()
            x, x_next = pending.pop()
            left = _pairs_in(a, b, x, x_next, 2 * BLOCK)
            right = (_pairs_in(c, d, budget - x_next + 1, budget - x + 1, 2 * BLOCK)
                     if left is not None and left.size else None)
            if left is None or (left.size and right is None):
                mid = (x + x_next) // 2
                pending += [(mid, x_next), (x, mid)]
                continue
            if not left.size:
                continue
            # partners in (budget - x_next, budget - x]
            fallback = _largest_at_most(c, d, budget - x_next)
            if right.size:
                pos = np.searchsorted(right, budget - left, side="right") - 1
                partner = np.where(pos >= 0, right[np.maximum(pos, 0)], fallback)
            else:
                partner = np.full(left.size, fallback, dtype=np.int64)
            totals = np.where(partner >= 0, left + partner, -1)
            k = int(np.argmax(totals))
            if int(totals[k]) > best:
                best, best_l = int(totals[k]), int(left[k])
                if best == budget:
                    break
        if best == budget:
            break
    a_val, b_val = _split_value(a, b, best_l)
    c_val, d_val = _split_value(c, d, best - best_l)
    chosen: list[int] = []
    for k, value in enumerate((a_val, b_val, c_val, d_val)):
        chosen += [q[k] + i for i in subset_with_sum(parts[k], value)]
    return chosen, best
