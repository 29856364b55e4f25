"""Horowitz–Sahni meet in the middle, vectorised with NumPy (pure Python for huge integers).

Each half's subset sums are built *sorted* by doubling: adding item ``w`` to a sorted list
gives a second sorted list, and merging two sorted runs is linear (NumPy's stable sort and
Python's timsort both detect the runs). The best pair is then one ascending sweep, done in
chunks. Only values are kept; the subsets behind the winning pair are recovered afterwards by a
small meet in the middle over each half (2^(n/4) sums), so no masks or orders are stored.

Time limits: ``check`` is called between steps, and before each doubling step the step's cost
is predicted from the previous one (steps double in size): a step that would end after the
deadline is not started, so a call overshoots its limit by at most one small step.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Callable

import numpy as np

__all__ = ["best_pair", "fits_int64", "mitm_bytes", "sorted_sums", "subset_with_sum"]

_INT64_SAFE = 1 << 62
TINY_N = 8  # up to here best_pair enumerates in pure Python (measured 6 vs 24 µs at n = 5)
_CHUNK = 1 << 16  # queries per vectorised search step (a few ms)


def fits_int64(costs: list[int], budget: int) -> bool:
    """Whether the NumPy path applies (every subset sum fits in int64)."""
    return sum(costs) < _INT64_SAFE and budget < _INT64_SAFE


def mitm_bytes(n: int, python_ints: bool = False) -> int:
    """Planned peak working memory for ``n`` items: about four int64 arrays per side, or for
    Python integers a list slot and the int object per sum, twice (~150 bytes)."""
    per_sum = 150 if python_ints else 6 * 8
    return per_sum * (1 << ((n + 1) // 2))


def _nothing() -> None:
    return None


class _Pacer:
    """Calls ``check`` and refuses to start a step predicted to end after ``deadline``."""

    def __init__(self, check: Callable[[], None], deadline: float | None) -> None:
        self.check, self.deadline = check, deadline
        self.last = 0.0

    def step(self, growth: float = 2.0) -> None:
        self.check()
        if self.deadline is not None and time.perf_counter() + self.last * growth > self.deadline:
            raise _Late

    def timed(self, started: float) -> None:
        self.last = time.perf_counter() - started


class _Late(Exception):
    """The next step would end after the deadline (converted to the caller's TimeUp)."""


def sorted_sums(items: list[int]) -> np.ndarray:
    """Every subset sum of ``items`` (int64, ascending), built by doubling and merging; the
    unpaced twin of ``_sorted_sums_np`` for callers that bound the size themselves."""
    sums = np.zeros(1, dtype=np.int64)
    for w in sorted(items):
        sums = np.sort(np.concatenate((sums, sums + w)), kind="stable")
    return sums


def _sorted_sums_np(items: list[int], pace: _Pacer) -> np.ndarray:
    sums = np.zeros(1, dtype=np.int64)
    for w in sorted(items):
        pace.step(growth=2.5)  # large arrays: a little more than 2x per doubling (cache)
        t = time.perf_counter()
        sums = np.sort(np.concatenate((sums, sums + w)), kind="stable")
        pace.timed(t)
    return sums


def _sorted_sums_py(items: list[int], pace: _Pacer) -> list[int]:
    sums = [0]
    for w in sorted(items):
        pace.step(growth=3.0)  # big-int steps grow a little faster than 2x (allocation)
        t = time.perf_counter()
        grown = sums[:]
        for start in range(0, len(sums), 1 << 18):
            if start:
                pace.step(growth=0.0)
            grown += [s + w for s in sums[start:start + (1 << 18)]]
        grown.sort()  # two sorted runs: timsort merges them in linear time
        sums = grown
        pace.timed(t)
    return sums


def subset_with_sum(items: list[int], value: int) -> list[int]:
    """Positions of a subset of ``items`` (≤ ~46 of them) summing exactly to ``value``; the
    value must be a known subset sum. Meet in the middle over a dict of one quarter's sums."""
    half = len(items) // 2
    table: dict[int, int] = {0: 0}
    for i in range(half):
        w = items[i]
        table.update({s + w: m | 1 << i for s, m in list(table.items()) if s + w not in table})
    right = items[half:]
    sums = {0: 0}
    for j, w in enumerate(right):
        for s, m in list(sums.items()):
            if s + w not in sums:
                sums[s + w] = m | 1 << j
    for s, m in sums.items():
        mask = table.get(value - s)
        if mask is not None:
            return [i for i in range(half) if mask >> i & 1] + [
                half + j for j in range(len(right)) if m >> j & 1]
    raise AssertionError("value is not a subset sum of items")


def _best_np(lsorted: np.ndarray, rsorted: np.ndarray, budget: int, pace: _Pacer
             ) -> tuple[int, int]:
    """(best total ≤ budget, its left share) by chunked vectorised search."""
    lsorted = lsorted[lsorted <= budget]
    best, share = -1, 0
    for start in range(0, lsorted.size, _CHUNK):
        pace.step(growth=1.0)
        t = time.perf_counter()
        chunk = lsorted[start:start + _CHUNK]
        pos = np.searchsorted(rsorted, budget - chunk, side="right") - 1
        totals = np.where(pos >= 0, chunk + rsorted[np.maximum(pos, 0)], -1)
        k = int(np.argmax(totals))
        if int(totals[k]) > best:
            best, share = int(totals[k]), int(chunk[k])
            if best == budget:
                break
        pace.timed(t)
    return best, share


def _best_py(lsorted: list[int], rsorted: list[int], budget: int, pace: _Pacer
             ) -> tuple[int, int]:
    best, share = -1, 0
    for start in range(0, len(lsorted), _CHUNK):
        pace.step(growth=1.0)
        t = time.perf_counter()
        for s in lsorted[start:start + _CHUNK]:
            if s > budget:
                return best, share
            p = bisect_right(rsorted, budget - s) - 1
            if p >= 0 and s + rsorted[p] > best:
                best, share = s + rsorted[p], s
                if best == budget:
                    return best, share
        pace.timed(t)
    return best, share


def best_pair(costs: list[int], budget: int, check: Callable[[], None] = _nothing,
              deadline: float | None = None) -> tuple[list[int], int]:
    """Exact: positions of a subset with the largest sum ≤ budget, and that sum.

    ``check`` is called between steps (it raises to stop); with a ``deadline``
    (``time.perf_counter()`` seconds) a step predicted to end after it is not started and
    ``check``'s own exception is not what stops it: ``TimeoutError`` is raised instead."""
    n = len(costs)
    if n <= TINY_N:  # at most 256 sums: a set in pure Python beats NumPy's call overhead
        sums = {0}
        for w in costs:
            sums |= {s + w for s in sums if s + w <= budget}
        best = max(sums)
        return subset_with_sum(costs, best), best
    half = n // 2
    left, right = costs[:half], costs[half:]
    pace = _Pacer(check, deadline)
    try:
        if fits_int64(costs, budget):
            lsorted, rsorted = _sorted_sums_np(left, pace), _sorted_sums_np(right, pace)
            best, lshare = _best_np(lsorted, rsorted, budget, pace)
        else:  # beyond int64: the same algorithm on Python integers
            lpy, rpy = _sorted_sums_py(left, pace), _sorted_sums_py(right, pace)
            best, lshare = _best_py(lpy, rpy, budget, pace)
    except _Late:
        raise TimeoutError("meet in the middle: the next step would pass the deadline") from None
    chosen = subset_with_sum(left, lshare)
    chosen += [half + i for i in subset_with_sum(right, best - lshare)]
    return chosen, best
