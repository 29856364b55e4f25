"""Guard rails shared by every algorithm.

Override per call with ``solve(..., limits=Limits(...))``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "Limits"]


@dataclass(frozen=True)
class Limits:
    """Configurable limits; the defaults suit a 2-core, 24 GiB machine."""

    max_n: int = 2_000_000
    """Largest number of projects accepted at all (bad input above it)."""
    brute_force_max_n: int = 24
    """Brute force refuses more items than this (2**24 subsets is ~10 s of Python)."""
    mitm_max_n: int = 46
    """Horowitz–Sahni meet in the middle runs up to this many items (2**23 sums per side)."""
    ss_max_n: int = 64
    """Above ``mitm_max_n``, meet in the middle runs Schroeppel–Shamir (O(2^(n/4)) memory) up to
    this many items with int64 costs (2^32 sums a side: minutes, so the time limit decides)."""
    memory_cap_bytes: int = 1 << 30
    """Largest working memory dp and meet-in-the-middle may plan for (default 1 GiB)."""
    default_time_limit: float | None = 60.0
    """Time limit applied when the caller gives none, so no call runs unbounded."""
    memory_pass_max_seconds: float = 1.0
    """Re-run under tracemalloc only when the timed pass took at most this long."""


DEFAULT_LIMITS = Limits()
