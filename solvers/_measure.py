"""Time and memory are measured in separate passes, both inside the caller's time limit.

The timed pass runs with no tracing (``time.perf_counter``). Memory is measured only when the
caller asks (``measure_memory=True``; the default is off: a library call pays for its answer
only). It comes from a second pass under ``tracemalloc`` (which slows pure-Python code several
times, so its timing is discarded), run only when the timed pass took at most
``Limits.memory_pass_max_seconds`` *and* the time left before the call's deadline is at least
``TRACE_HEADROOM`` times the timed pass. The traced pass runs against the same deadline, so the
whole call never outlasts its limit (up to the methods' own clock-check granularity). When no
traced pass fits, or it was cut by the deadline, memory is the growth of the process's peak
resident set during the timed pass instead (Linux ``/proc``; reset with ``clear_refs``); where
that is unavailable too, memory is not reported (``memory_method`` ``"none"``). The result
says which method was used in ``memory_method``.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from ._limits import Limits

__all__ = ["TRACE_HEADROOM", "measure"]

_MIB = 1024 * 1024
TRACE_HEADROOM = 3.0
"""A traced pass starts only with this many timed passes' worth of time left before the
deadline (tracemalloc slows pure Python 2-5x); it is stopped at the deadline anyway."""


def _rss_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _traced_peak(fn: Callable[[], Any]) -> float:
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not already:
            tracemalloc.stop()
    return max(0, peak - base) / _MIB


def measure(fn: Callable[[], dict[str, Any]], measure_memory: bool, limits: Limits,
            deadline: float | None = None) -> dict[str, Any]:
    """Run ``fn`` timed; then, if asked, measure its memory without passing ``deadline``
    (``time.perf_counter()`` seconds; ``fn`` must itself stop there); fill
    ``execution_time``, ``memory_used`` and ``memory_method``."""
    if not measure_memory:
        start = time.perf_counter()
        result = fn()
        result["execution_time"] = time.perf_counter() - start
        result["memory_used"] = 0.0
        result["memory_method"] = "none"
        return result
    rss_ok = _reset_peak_rss()
    rss_before = _rss_kib("VmRSS:") if rss_ok else None
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    result["execution_time"] = elapsed
    hwm = _rss_kib("VmHWM:") if rss_ok else None
    rss = None if hwm is None or rss_before is None else max(0, hwm - rss_before) / 1024
    left = float("inf") if deadline is None else deadline - time.perf_counter()
    if elapsed <= limits.memory_pass_max_seconds and left > TRACE_HEADROOM * elapsed:
        peak = _traced_peak(fn)
        cut = deadline is not None and time.perf_counter() >= deadline
        if not cut or rss is None:  # a cut pass still gives a lower bound when nothing else
            result["memory_used"] = round(peak, 4)
            result["memory_method"] = "tracemalloc"
            return result
    if rss is not None:
        result["memory_used"] = round(rss, 4)
        result["memory_method"] = "rss"
    else:
        result["memory_used"] = 0.0
        result["memory_method"] = "none"
    return result
