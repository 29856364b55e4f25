"""Time and memory are measured in separate passes.

The timed pass runs with no tracing (``time.perf_counter``). Memory comes from a second pass
under ``tracemalloc`` (which slows pure-Python code several times, so its timing is discarded),
run only when the timed pass took at most ``Limits.memory_pass_max_seconds``. For longer solves
a second pass would double the cost, so memory is the growth of the process's peak resident set
during the timed pass instead (Linux ``/proc``; reset with ``clear_refs``), and the result says
which method was used in ``memory_method``.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from ._limits import Limits

__all__ = ["measure"]

_MIB = 1024 * 1024


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


def measure(fn: Callable[[], dict[str, Any]], measure_memory: bool, limits: Limits
            ) -> dict[str, Any]:
    """Run ``fn`` timed; then measure its memory; fill ``execution_time``/``memory_used``."""
    rss_ok = measure_memory and _reset_peak_rss()
    rss_before = _rss_kib("VmRSS:") if rss_ok else None
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    result["execution_time"] = elapsed
    if not measure_memory:
        result["memory_used"] = 0.0
        result["memory_method"] = "none"
        return result
    hwm = _rss_kib("VmHWM:") if rss_ok else None
    if elapsed <= limits.memory_pass_max_seconds or hwm is None or rss_before is None:
        result["memory_used"] = round(_traced_peak(fn), 4)
        result["memory_method"] = "tracemalloc"
    else:
        result["memory_used"] = round(max(0, hwm - rss_before) / 1024, 4)
        result["memory_method"] = "rss"
    return result
