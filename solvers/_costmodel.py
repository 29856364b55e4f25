"""A cost model of the exact methods: fixed reference constants, so choices are deterministic.

``hybrid`` (and the difference core) choose between exact methods by predicted time. The unit
costs are those of micro-benchmarks of the very operations the methods repeat (``measure``).
Until issue 19 they were re-measured in every process (about 50 ms on the first call): on a
loaded machine the same instance could then be proven by one process and given up by the next.
``cost_model()`` now returns ``REFERENCE``, the median of repeated calibrations on the
reference machine (2 cores, ``docs/benchmarks/frontier3.md``), so a choice depends only on the
instance and the time limit. The micro-benchmarks are:

- ``dp``: one ``reach |= reach << w`` over a Python-int row, per byte, on a 256 KiB row (in
  cache) and a 4 MiB one (memory-bound), interpolated by row width;
- sorted sums (meet in the middle, the core's halves, Schroeppel–Shamir blocks): building
  sorted subset sums by doubling-and-merging, per sum, at two sizes, so the growth from cache
  misses on large arrays is extrapolated (``(size / 2^14)^alpha``, ``alpha`` from 2^14 and 2^18);
- queries: a vectorised ``searchsorted`` of every sum against the other half, per sum;
- Schroeppel–Shamir: per sum of a whole blockwise sweep (``ss_per_sum``, from full sweeps at
  48-52 items: 1.3-5.0 s on the reference machine; not re-measured by ``measure``).

``CostModel`` is plain data: tests build one with known numbers, and ``set_cost_model``
installs one for the process (e.g. ``set_cost_model(measure())`` on a machine much faster or
slower than the reference; None restores ``REFERENCE``). Predictions are seconds.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass

import numpy as np

from ._mitm import sorted_sums as _sorted_sums

__all__ = ["REFERENCE", "CostModel", "cost_model", "measure", "set_cost_model"]


_BASE = 1 << 14


@dataclass(frozen=True)
class CostModel:
    dp_small: float  # one item's shift-or, per byte, on a 256 KiB row (in cache)
    dp_large: float  # the same on a 4 MiB row (memory-bound)
    sums_per_sum: float  # building sorted sums, per sum, at 2^14 sums
    sums_alpha: float  # growth exponent of the per-sum cost with size
    query_per_sum: float  # searchsorted, per sum, at 2^14 sums
    ss_per_sum: float = 3.6e-8  # Schroeppel–Shamir, per left or right sum of a whole sweep
    bt_per_selection: float = 4.0e-8  # backtracking, per selection it must enumerate (no hit)

    def _scale(self, size: float) -> float:
        return max(1.0, size / _BASE) ** self.sums_alpha

    def dp(self, bit_ops: float, row_bits: int) -> float:
        """Forward pass plus reconstruction (~2x the forward pass) of ``bit_ops`` on rows of
        ``row_bits`` (per-byte cost interpolated between the two measured row sizes)."""
        lo, hi = 1 << 21, 1 << 25
        if row_bits <= lo:
            per = self.dp_small
        elif row_bits >= hi:
            per = self.dp_large
        else:
            f = math.log(row_bits / lo) / math.log(hi / lo)
            per = self.dp_small ** (1 - f) * self.dp_large ** f
        return 3.0 * bit_ops / 8 * per

    def core(self, k: int) -> float:
        """The difference core's two halves for ``k`` core items."""
        return 2 * self.sorted_sums((k + 1) // 2)

    def sorted_sums(self, n_items: int) -> float:
        size = float(1 << n_items)
        return size * self.sums_per_sum * self._scale(size)

    def query(self, n_items: int) -> float:
        size = float(1 << n_items)
        return size * self.query_per_sum * self._scale(size)

    def mitm(self, n: int) -> float:
        """Horowitz–Sahni on ``n`` items: both halves' sorted sums plus one sweep."""
        half = (n + 1) // 2
        return 2 * self.sorted_sums(half) + self.query(half)

    def ss(self, n: int, left_sums: float | None = None) -> float:
        """Schroeppel–Shamir producing ``left_sums`` left sums (default: all 2^ceil(n/2), a
        sweep without an early hit) and as many right ones, in blocks of ~2^20 sorted on
        their own: ``ss_per_sum`` each (measured whole sweeps, not the sorted-sums
        micro-benchmark, which overestimated them 2-4x at 48-52 items and far more with a hit;
        issue 19)."""
        size = float(1 << ((n + 1) // 2))
        return 2 * min(size, size if left_sums is None else left_sums) * self.ss_per_sum

    def backtracking(self, log2_selections: float) -> float:
        """Backtracking enumerating 2^``log2_selections`` selections with nothing reaching the
        bound: ``bt_per_selection`` each (3.0-6.3e-8 s per 2^n on random costs of 10^15-10^16,
        n = 14..24, median of 3; ``benchmarks/bench_selector_cycle.py --calibrate``)."""
        return self.bt_per_selection * 2.0 ** min(log2_selections, 1000.0)


def _time(fn, repeats: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def measure() -> CostModel:
    """Run the micro-benchmarks (about 20 ms) and return the measured model."""
    rng = random.Random(5)
    def per_byte(row_bits: int, shifts: int) -> float:
        row = (1 << row_bits) - 1 - (1 << (row_bits // 3))
        mask = (1 << row_bits) - 1

        def run() -> None:  # the dp's own loop: shift-or, mask only past the cap
            r = row
            for w in (3, 977, 12345, 77)[:shifts]:
                r |= r << w
                if r.bit_length() > row_bits:
                    r &= mask

        return _time(run) / (shifts * row_bits / 8)

    dp_small = per_byte(1 << 21, 4)  # 256 KiB: in cache
    dp_large = per_byte(1 << 25, 2)  # 4 MiB: memory-bound, like real tables
    small = [rng.randint(1, 10**12) for _ in range(14)]
    large = [rng.randint(1, 10**12) for _ in range(18)]
    t_small = _time(lambda: _sorted_sums(small)) / (1 << 14)
    t_large = _time(lambda: _sorted_sums(large), repeats=1) / (1 << 18)
    alpha = min(0.6, max(0.0, math.log(max(t_large, 1e-12) / max(t_small, 1e-12)) / math.log(16)))
    left, right = _sorted_sums(small), _sorted_sums(small[::-1])
    query = _time(lambda: np.searchsorted(right, 10**13 - left)) / (1 << 14)
    return CostModel(dp_small, dp_large, t_small, alpha, query)


REFERENCE = CostModel(dp_small=2.0e-10, dp_large=1.0e-9, sums_per_sum=8.0e-9, sums_alpha=0.4,
                      query_per_sum=1.4e-8)
"""Medians of 8 calibrations on the reference machine (load ~3; range: dp_large 0.6-1.6e-9,
alpha 0.21-0.6, the others within 10%)."""

_lock = threading.Lock()
_model: CostModel | None = None


def cost_model() -> CostModel:
    """The installed model, else ``REFERENCE`` (never measured implicitly)."""
    model = _model
    return REFERENCE if model is None else model


def set_cost_model(model: CostModel | None) -> None:
    """Install a model for this process (tests, or ``measure()``); None restores REFERENCE."""
    global _model
    with _lock:
        _model = model
