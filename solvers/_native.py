"""Optional compiled kernels (Numba): the dp's shift-or passes on wide rows, in place.

CPython's ``reach |= reach << w`` on a row of B bits allocates and walks it three times (the
shift, the or, the mask); the C bitset DP of the frontier benchmarks shifts in place, from the
top word down, only up to the highest reachable word. On rows of megabytes that is ~10x.

Numba is optional (``pip install .[fast]``): nothing here imports it until a pass is predicted
to be long enough to pay for the import and the load of the cached compilation
(``NATIVE_OVERHEAD``); without it, or with ``SOLVERS_NATIVE=0`` in the environment, or after
``set_enabled(False)``, the dp runs on Python integers as before, with the same answers.
Compilation is cached on disk (``cache=True``): the first use on a machine compiles (a few
seconds, once), later processes load it.
"""

from __future__ import annotations

import importlib.util
import mmap
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["NATIVE_OVERHEAD", "NATIVE_SPEEDUP", "available", "backward_words", "balsub_value",
           "best_subset",
           "enabled", "first_reach_bytes", "forward_words", "loaded", "set_enabled", "warm"]

NATIVE_OVERHEAD = 0.6  # s: import numba and load the cached kernels (a fresh process)
NATIVE_SPEEDUP = 2.5  # dp time on Python integers over the kernel's (memory-bound rows: 2.5-4x)
CHUNK_WORDS = 1 << 25  # most word updates between returns to Python (clock checks)
FIRST_CHUNK = 1 << 20  # the first chunk's; later ones are sized to take ~CHUNK_SECONDS
CHUNK_SECONDS = 0.01
FRESH_WORDS = 4  # a first-reach record, in word updates: the write and its share of a page fault

_lock = threading.Lock()
_enabled: bool | None = None
_kernels: dict[str, Callable[..., Any]] = {}


def available() -> bool:
    """Numba is installed (found, not imported) and not disabled."""
    global _enabled
    if _enabled is None:
        _enabled = (os.environ.get("SOLVERS_NATIVE", "1") != "0"
                    and importlib.util.find_spec("numba") is not None)
    return _enabled


def enabled() -> bool:
    return available()


def loaded() -> bool:
    """The kernels are compiled or loaded in this process already."""
    return bool(_kernels)


def set_enabled(flag: bool | None) -> None:
    """Force the kernels off (False) or back to the default (None: on when Numba is found)."""
    global _enabled
    with _lock:
        _enabled = None if flag is None else (flag and importlib.util.find_spec("numba")
                                              is not None)


def _compile() -> dict[str, Callable[..., Any]]:
    with _lock:
        if _kernels:
            return _kernels
        import numba  # lazily: only instances that pay for it

        u64 = numba.uint64

        @numba.njit(cache=True, nogil=True)
        def backward(words, costs, start, lo, stop, budget_words):  # type: ignore[no-untyped-def]
            """``back |= back >> w`` for costs[start:] in place, ascending (each word reads
            only words above it, not yet written); ``lo``: the lowest bit that may be set;
            ``stop`` ≥ 0: return once that bit is set. Returns (next item, new lo)."""
            nw = words.size
            spent = 0
            k = start
            while k < costs.size:
                w = costs[k]
                ws = w >> 6
                bs = u64(w & 63)
                lo = max(lo - w, 0)
                end = nw - ws  # words j < end have a source word j + ws
                if bs == 0:
                    for j in range(lo >> 6, end):
                        words[j] |= words[j + ws]
                else:
                    back = u64(64) - bs
                    for j in range(lo >> 6, end - 1):
                        words[j] |= (words[j + ws] >> bs) | (words[j + ws + 1] << back)
                    if end - 1 >= lo >> 6:
                        words[end - 1] |= words[nw - 1] >> bs
                spent += nw - (lo >> 6)
                k += 1
                if stop >= 0 and (words[stop >> 6] >> u64(stop & 63)) & u64(1):
                    return k, lo
                if spent >= budget_words:
                    break
            return k, lo

        @numba.njit(cache=True, nogil=True)
        def first_reach(words, first, costs, start, lo, stop, budget_words, table):  # type: ignore[no-untyped-def]
            """``backward`` that also records, for each bit as it is first set, the item that
            set it (``first``): the walk back then needs no second pass."""
            nw = words.size
            magic = u64(DEBRUIJN)
            spent = 0
            k = start
            while k < costs.size:
                w = costs[k]
                ws = w >> 6
                bs = u64(w & 63)
                lo = max(lo - w, 0)
                end = nw - ws
                back = u64(64) - bs
                for j in range(lo >> 6, end):
                    v = words[j + ws] >> bs
                    if bs != 0 and j + ws + 1 < nw:
                        v |= words[j + ws + 1] << back
                    fresh = v & ~words[j]
                    if fresh:
                        words[j] |= fresh
                        while fresh:
                            low = fresh & (~fresh + u64(1))
                            first[j * 64 + table[(low * magic) >> u64(58)]] = k
                            fresh ^= low
                            spent += FRESH_WORDS
                spent += nw - (lo >> 6)
                k += 1
                if stop >= 0 and (words[stop >> 6] >> u64(stop & 63)) & u64(1):
                    return k, lo
                if spent >= budget_words:
                    break
            return k, lo

        @numba.njit(cache=True, nogil=True)
        def balsub(w, c, start, b, wbar, sp, sc, budget_ops):  # type: ignore[no-untyped-def]
            """Pisinger's balsub from item ``start`` (1-based; the state ``sp`` is for the
            items before it): ``sp[mu - off]`` is the largest item index of a balanced filling
            of weight mu in (c − r, c + r]. Returns the next item once ``budget_ops`` steps
            are spent (or n + 1 when done)."""
            n = w.size
            r = sp.size // 2
            off = c - r + 1
            spent = 0
            t = start
            if t == b:
                sp[wbar - off] = b
            while t <= n:
                wt = w[t - 1]
                sc[:] = sp
                for i in range(r):  # mu = c − r + 1 + i ≤ c: add item t (vectorisable)
                    v = sp[i]
                    if sc[i + wt] < v:
                        sc[i + wt] = v
                for mu in range(c + wt, c, -1):
                    for j in range(sp[mu - off], sc[mu - off]):
                        m2 = mu - w[j - 1] - off
                        if sc[m2] < j:
                            sc[m2] = j
                sp[:] = sc
                spent += 3 * r
                t += 1
                if spent >= budget_ops:
                    break
            return t

        @numba.njit(cache=True, nogil=True, inline="always")
        def rev64(a):  # type: ignore[no-untyped-def]
            m1, m2, m4 = u64(0x5555555555555555), u64(0x3333333333333333), u64(0x0F0F0F0F0F0F0F0F)
            m8, m16 = u64(0x00FF00FF00FF00FF), u64(0x0000FFFF0000FFFF)
            a = ((a >> u64(1)) & m1) | ((a & m1) << u64(1))
            a = ((a >> u64(2)) & m2) | ((a & m2) << u64(2))
            a = ((a >> u64(4)) & m4) | ((a & m4) << u64(4))
            a = ((a >> u64(8)) & m8) | ((a & m8) << u64(8))
            a = ((a >> u64(16)) & m16) | ((a & m16) << u64(16))
            return (a >> u64(32)) | (a << u64(32))

        @numba.njit(cache=True, nogil=True)
        def reverse(words):  # type: ignore[no-untyped-def]
            """Reverse the row's bits in place: bit i ↔ bit 64·size − 1 − i."""
            nw = words.size
            for j in range((nw + 1) // 2):
                low = rev64(words[nw - 1 - j])
                words[nw - 1 - j] = rev64(words[j])
                words[j] = low

        _kernels["backward"] = backward
        _kernels["reverse"] = reverse
        _kernels["first_reach"] = first_reach
        _kernels["balsub"] = balsub
        return _kernels


def warm() -> bool:
    """Import Numba and load (or compile, the first time on a machine) every kernel now — for
    a long-running service at start-up, so that no solve pays for it. False without Numba."""
    if not available():
        return False
    forward_words([3, 5], 100, -1, lambda: None)
    backward_words([3, 5], 100, lambda: None)
    best_subset([3, 5], 100, lambda: None)
    balsub_value(np.array([3, 5, 9], dtype=np.int64), 10, lambda: None)
    return True


class _Chunks:
    """Work units for each kernel call between clock checks, sized from the last call's time
    to take about ``CHUNK_SECONDS``: a unit's cost is not fixed — memory touched the first time
    in a fresh VM costs ~2 ms a MB, and a chunk of 2^25 units took 0.65 s there instead of
    0.08 s, far past a 0.05 s limit."""

    def __init__(self) -> None:
        self.units = min(FIRST_CHUNK, CHUNK_WORDS)
        self._start = time.perf_counter()

    def tick(self) -> None:
        """After a call: size ``units`` for the next one from the time since the last tick."""
        now = time.perf_counter()
        took, self._start = now - self._start, now
        if took > 0:
            scale = min(max(CHUNK_SECONDS / took, 0.25), 4.0)
            self.units = int(min(max(self.units * scale, 1), CHUNK_WORDS))


def _to_words(x: int, bits: int) -> np.ndarray:
    nwords = bits // 64 + 1
    return np.frombuffer(x.to_bytes(nwords * 8, "little"), dtype=np.uint64).copy()


def _from_words(words: np.ndarray) -> int:
    return int.from_bytes(words.tobytes(), "little")


DEBRUIJN = 0x03F79D71B4CB0A89
_TABLE = np.zeros(64, dtype=np.int64)
for _i in range(64):
    _TABLE[((1 << _i) * DEBRUIJN % 2**64) >> 58] = _i


def _scratch(size: int, dtype: Any) -> np.ndarray:
    """An uninitialised array on its own anonymous mapping, in 4 KiB pages: NumPy asks for
    huge pages on large arrays, and a scattered write then zeroes 2 MiB (a first-reach array
    of 134 MB with 1,024 records took 0.3 s to touch instead of 4 ms). For sparse writes only:
    a dense fill faults every 4 KiB page again on each call, where NumPy's huge pages are
    reused (a dense dp ran 1.3-2x slower warm). Freed with the array."""
    nbytes = max(size * np.dtype(dtype).itemsize, 1)
    return np.frombuffer(mmap.mmap(-1, nbytes), dtype=dtype, count=size)


def first_reach_bytes(cap: int) -> int:
    """Memory of :func:`best_subset`'s first-reach array."""
    return 4 * (cap // 64 + 1) * 64


def best_subset(costs: list[int], cap: int, check: Callable[[], None]) -> tuple[int, list[int]]:
    """(the largest subset sum ≤ cap, positions into ``costs`` of a subset reaching it): the
    forward pass (mirrored, like :func:`forward_words`) recording the item that first reached
    each sum, then the walk back — no reconstruction passes. Stops once ``cap`` is reached."""
    kernel = _compile()["first_reach"]
    words = np.zeros(cap // 64 + 1, dtype=np.uint64)
    words[cap >> 6] = np.uint64(1) << np.uint64(cap & 63)
    # read only where a sum was reached; few records (at most 2^n) touch few pages
    sparse = len(costs) < 40 and (64 << len(costs)) < cap
    first = (_scratch if sparse else np.empty)(words.size * 64, np.int32)
    arr = np.asarray(costs, dtype=np.int64)
    k, lo = 0, cap
    chunks = _Chunks()
    while k < arr.size:
        k, lo = kernel(words, first, arr, k, lo, 0, chunks.units, _TABLE)
        if int(words[0]) & 1:  # sum cap reached
            break
        check()
        chunks.tick()
    j = int(np.argmax(words != 0))  # bit cap − s for sum s: the lowest set bit, the largest sum
    low = int(words[j])
    q = 64 * j + (low & -low).bit_length() - 1
    best = cap - q
    chosen, s = [], best
    while s > 0:
        i = int(first[cap - s])
        chosen.append(i)
        s -= costs[i]
    assert s == 0
    return best, chosen


def balsub_value(costs: np.ndarray, cap: int, check: Callable[[], None]) -> int:
    """The largest subset sum ≤ ``cap`` by Pisinger's balanced algorithm (balsub, 1999),
    O(n · r) time and O(r) memory for r the largest cost — the value only. ``costs``: int64,
    each in [1, cap], summing past ``cap``. ``check`` runs between chunks."""
    kernel = _compile()["balsub"]
    w = np.ascontiguousarray(costs, dtype=np.int64)
    r = int(w.max())
    csum = np.cumsum(w)
    b = int(np.searchsorted(csum, cap, side="right")) + 1  # the break item, 1-based
    wbar = int(csum[b - 2]) if b >= 2 else 0
    sp = np.zeros(2 * r, dtype=np.int32)
    sp[r:] = 1  # mu in (c, c + r]: the empty-removal sentinel of the paper
    sc = np.empty_like(sp)
    t = b
    chunks = _Chunks()
    while t <= w.size:
        t = kernel(w, cap, t, b, wbar, sp, sc, chunks.units)
        check()
        chunks.tick()
    reached = np.flatnonzero(sp[:r] > 0)  # mu = c − r + 1 + index, mu ≤ c
    return cap - r + 1 + int(reached[-1]) if reached.size else 0


def forward_words(costs: list[int], cap: int, stop: int, check: Callable[[], None]
                  ) -> tuple[int, int]:
    """dp.forward's pass: (reachable sums ≤ cap as a Python int, items used); ``stop`` ≥ 0:
    end once that sum is reachable. ``check`` is called between chunks (it raises when the
    time is up). Run mirrored — bit ``cap − s`` for sum s, so adding a cost is a *right*
    shift-or that runs upwards in place and drops sums past the cap by itself — then the
    bits are reversed once."""
    kernel = _compile()["backward"]
    words = np.zeros(cap // 64 + 1, dtype=np.uint64)
    words[cap >> 6] = np.uint64(1) << np.uint64(cap & 63)
    arr = np.asarray(costs, dtype=np.int64)
    mirrored_stop = cap - stop if 0 <= stop <= cap else -1
    k, lo = 0, cap
    chunks = _Chunks()
    while k < arr.size:
        k, lo = kernel(words, arr, k, lo, mirrored_stop, chunks.units)
        if mirrored_stop >= 0 and int(words[mirrored_stop >> 6]) >> (mirrored_stop & 63) & 1:
            break
        check()
        chunks.tick()
    check()  # the conversion below walks the row three times more
    nbits = words.size * 64
    _compile()["reverse"](words)  # bit i ↔ bit nbits − 1 − i
    return int.from_bytes(words.tobytes(), "little") >> (nbits - 1 - cap), int(k)


def backward_words(costs: list[int], target: int, check: Callable[[], None]) -> int:
    """dp._backward: the bitset of ``target − s`` for every subset sum s ≤ target."""
    kernel = _compile()["backward"]
    words = np.zeros(target // 64 + 1, dtype=np.uint64)
    words[target >> 6] = np.uint64(1) << np.uint64(target & 63)
    arr = np.asarray(costs, dtype=np.int64)
    k, lo = 0, target
    chunks = _Chunks()
    while k < arr.size:
        k, lo = kernel(words, arr, k, lo, -1, chunks.units)
        check()
        chunks.tick()
    return _from_words(words)
