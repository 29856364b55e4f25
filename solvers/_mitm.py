"""Horowitz–Sahni meet in the middle, vectorised with NumPy (pure Python for huge integers).

The subset sums of a half are built by doubling, so the sum at index ``k`` is the sum of the
items whose bits are set in ``k``: the index *is* the subset, and no masks are stored.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

import numpy as np

__all__ = ["best_pair", "mitm_bytes"]

_INT64_SAFE = 1 << 62


def fits_int64(costs: list[int], budget: int) -> bool:
    """Whether the NumPy path applies (every subset sum fits in int64)."""
    return sum(costs) < _INT64_SAFE and budget < _INT64_SAFE


def mitm_bytes(n: int, python_ints: bool = False) -> int:
    """Planned peak working memory for ``n`` items: about six int64 arrays per side, or for
    Python integers a list slot, the int object and the sort order per sum (~150 bytes)."""
    per_sum = 150 if python_ints else 6 * 8
    return per_sum * (1 << ((n + 1) // 2))


def _nothing() -> None:
    return None


def _sums_np(items: list[int], check: Callable[[], None] = _nothing) -> np.ndarray:
    sums = np.zeros(1, dtype=np.int64)
    for w in items:
        check()
        sums = np.concatenate((sums, sums + w))
    return sums


def _sorted_sums_np(items: list[int], check: Callable[[], None] = _nothing) -> np.ndarray:
    sums = np.zeros(1, dtype=np.int64)
    for w in sorted(items):
        check()
        sums = np.sort(np.concatenate((sums, sums + w)), kind="stable")
    return sums


def _sums_py(items: list[int], check: Callable[[], None] = _nothing) -> list[int]:
    sums = [0]
    for w in items:
        check()
        sums += [s + w for s in sums]
    return sums


def best_pair(costs: list[int], budget: int, check: Callable[[], None] = _nothing
              ) -> tuple[list[int], int]:
    """Exact: positions of a subset with the largest sum ≤ budget, and that sum.

    ``check`` is called between steps (it raises to stop, e.g. at a deadline)."""
    n = len(costs)
    half = n // 2
    left, right = costs[:half], costs[half:]
    if fits_int64(costs, budget):
        # Sorted sums by merging (a stable sort of two sorted runs is a linear merge), then
        # one vectorised search with ascending queries; the winning subsets are found after.
        lsorted, rsorted = _sorted_sums_np(left, check), _sorted_sums_np(right, check)
        lrev = lsorted[lsorted <= budget][::-1]
        pos = np.searchsorted(rsorted, budget - lrev, side="right") - 1
        totals = np.where(pos >= 0, lrev + rsorted[np.maximum(pos, 0)], -1)
        k = int(np.argmax(totals))
        best = int(totals[k])
        lk = int(np.flatnonzero(_sums_np(left) == lrev[k])[0])
        rk = int(np.flatnonzero(_sums_np(right) == best - int(lrev[k]))[0])
    else:  # beyond int64: the same algorithm on Python integers
        lsum_py, rsum_py = _sums_py(left, check), _sums_py(right, check)
        order_py = sorted(range(len(rsum_py)), key=rsum_py.__getitem__)
        rsorted_py = [rsum_py[k] for k in order_py]
        best, lk, rk = -1, 0, 0
        for k, s in enumerate(lsum_py):
            if not k & 0xFFF:
                check()
            if s > budget:
                continue
            p = bisect_right(rsorted_py, budget - s) - 1
            if p >= 0 and s + rsorted_py[p] > best:
                best, lk, rk = s + rsorted_py[p], k, order_py[p]
                if best == budget:
                    break
    chosen = [i for i in range(half) if lk >> i & 1]
    chosen += [half + i for i in range(n - half) if rk >> i & 1]
    return chosen, best
