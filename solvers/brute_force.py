"""Brute force: enumerate every subset in Gray-code order (one addition per subset).

Complexity: O(2^n) time, O(n) memory, pure Python (about 0.2 µs per subset).
Limits: refuses more than ``Limits.brute_force_max_n`` items (default 24; 2^24 subsets take
seconds) with status ``"failed"``. Stops early once the proven upper bound is reached, and returns
its best-so-far as ``"approximate"`` when the time limit hits. Counted after preprocessing, so
projects costlier than the budget do not count against the limit.
"""

from __future__ import annotations

from ._core import Answer, Core, make_solver

NAME = "brute_force"


def _solve_core(core: Core) -> Answer:
    n, costs, budget, target = core.n, core.costs, core.budget, core.upper_bound
    if n > core.limits.brute_force_max_n:
        return Answer([], False, failed=True,
                      reason=f"brute force refuses n={n} items: its limit is "
                             f"{core.limits.brute_force_max_n}")
    best, best_code = 0, 0
    total, code = 0, 0
    timed_out = False
    for k in range(1, 1 << n):
        bit = (k & -k).bit_length() - 1
        code ^= 1 << bit
        total += costs[bit] if code >> bit & 1 else -costs[bit]
        if best < total <= budget:
            best, best_code = total, code
            if best == target:
                break
        if not k & 0xFFFF and core.time_left() < 0:
            timed_out = True
            break
    chosen = [i for i in range(n) if best_code >> i & 1]
    if timed_out:
        return Answer(chosen, False, reason="time limit reached before all subsets were seen")
    return Answer(chosen, exact=True, upper_bound=best)  # the shared result checks it


solve = make_solver(NAME, _solve_core)
