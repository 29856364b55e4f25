"""Greedy: largest cost first, take each project that still fits.

Complexity: O(n log n) time, O(n) memory. No size limit.
Limits: a heuristic. It is ``"exact"`` only when a certificate proves it (the total reaches the
budget, the gcd-reduced budget or the cardinality bound); otherwise ``"approximate"``.
"""

from __future__ import annotations

from ._core import Answer, Core, make_solver

NAME = "greedy"


def greedy_indices(costs: list[int], budget: int) -> list[int]:
    """Largest-first greedy fill; returns positions into ``costs``."""
    room = budget
    chosen = []
    for i in sorted(range(len(costs)), key=costs.__getitem__, reverse=True):
        if costs[i] <= room:
            chosen.append(i)
            room -= costs[i]
            if room == 0:
                break
    return chosen


def _solve_core(core: Core) -> Answer:
    chosen = greedy_indices(core.costs, core.budget)
    return Answer(chosen, exact=False, reason="greedy heuristic; optimality not proven")


solve = make_solver(NAME, _solve_core)
