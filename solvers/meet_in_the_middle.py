"""Meet in the middle (Horowitz–Sahni): split the projects in two halves, list each half's
2^(n/2) subset sums, sort one side and binary-search the best partner for every sum of the other.

Complexity: O(2^(n/2) · n) time, O(2^(n/2)) memory; vectorised with NumPy (costs beyond int64
fall back to Python integers, several times slower). Always exact when it runs.
Limits: refuses more than ``Limits.mitm_max_n`` items (default 46, about 400 MiB of arrays) or a
plan over ``Limits.memory_cap_bytes`` (Python integers cost ~3x more per sum), with status
``"failed"``. It checks the time limit between steps (doubling steps, and search chunks of
65,536 sums), and does not start a step predicted to end after the deadline, so it stops
within one small step of its limit; it then answers the greedy selection as ``"approximate"``.
"""

from __future__ import annotations

from ._core import Answer, Core, TimeUp, make_solver
from ._mitm import best_pair, fits_int64, mitm_bytes
from .greedy import greedy_indices

NAME = "meet_in_the_middle"


def refusal(core: Core) -> str | None:
    """Why meet in the middle will not run on this core, or None."""
    if core.n > core.limits.mitm_max_n:
        return (f"meet in the middle refuses n={core.n} items: its limit is "
                f"{core.limits.mitm_max_n}")
    need = mitm_bytes(core.n, python_ints=not fits_int64(core.costs, core.budget))
    if need > core.limits.memory_cap_bytes:
        return (f"meet in the middle would need {need / 2**20:.0f} MiB, over the "
                f"memory cap of {core.limits.memory_cap_bytes / 2**20:.0f} MiB")
    return None


def _solve_core(core: Core) -> Answer:
    why = refusal(core)
    if why:
        return Answer([], False, failed=True, reason=why)
    try:
        chosen, _ = best_pair(core.costs, core.budget, core.check_time, core.deadline)
    except (TimeUp, TimeoutError):
        incumbent = core.incumbent or greedy_indices(core.costs, core.budget)
        return Answer(incumbent, False, reason="time limit reached while listing subset sums")
    return Answer(chosen, exact=True)


solve = make_solver(NAME, _solve_core)
