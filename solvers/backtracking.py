"""Backtracking: depth-first search over projects in decreasing cost, with bounds.

Prunes a branch when its current total plus everything left cannot beat the incumbent, takes all
remaining projects at once when they fit, skips duplicate costs symmetrically, and stops as soon
as the proven upper bound is reached. Starts from the greedy answer as incumbent.

Complexity: O(2^n) time in the worst case (hard instances such as Todd's or Avis's defeat the
bounds), O(n) memory. Iterative, so no recursion limit.
Limits: time-limited (``time_limit``, else ``Limits.default_time_limit``); when the limit hits it
returns its best-so-far as ``"approximate"``.
"""

from __future__ import annotations

import numpy as np

from . import _scales
from ._core import Answer, Core, TimeUp, make_solver
from ._costmodel import cost_model
from .greedy import greedy_indices

NAME = "backtracking"


def search(core: Core, incumbent: list[int]) -> tuple[list[int], bool]:
    """Best selection found and whether the search completed (proving optimality)."""
    n, budget, target = core.n, core.budget, core.upper_bound
    order = sorted(range(n), key=core.costs.__getitem__, reverse=True)
    c = [core.costs[i] for i in order]
    suffix = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        suffix[i] = suffix[i + 1] + c[i]
    # next_distinct[i]: first j > i with c[j] != c[i] (skip equal costs after skipping i)
    next_distinct = [n] * (n + 1)
    for i in range(n - 2, -1, -1):
        next_distinct[i] = next_distinct[i + 1] if c[i + 1] == c[i] else i + 1
    position = {orig: k for k, orig in enumerate(order)}
    best = sum(core.costs[i] for i in incumbent)
    best_set = sorted(position[i] for i in incumbent)
    if best >= target:
        return incumbent, True
    path: list[int] = []
    # frame: [i, cur, phase]; phase 0 = enter, 1 = back from "take", 2 = back from "skip"
    frames = [[0, 0, 0]]
    nodes = 0
    try:
        while frames:
            frame = frames[-1]
            i, cur, phase = frame
            if phase == 0:
                nodes += 1
                if not nodes & 0x3FFF:
                    core.check_time()
                rest = suffix[i]
                if cur + rest <= budget:  # everything left fits: this subtree's best
                    if cur + rest > best:
                        best, best_set = cur + rest, [*path, *range(i, n)]
                        if best >= target:
                            break
                    frames.pop()
                    continue
                if cur + rest <= best or i >= n or best >= target:
                    frames.pop()
                    continue
                frame[2] = 1
                if cur + c[i] <= budget:
                    path.append(i)
                    frames.append([i + 1, cur + c[i], 0])
                    continue
                phase = 1
                path.append(i)  # balanced by the pop below
            if phase == 1:
                path.pop()
                if best >= target:
                    break
                frame[2] = 2
                frames.append([next_distinct[i], cur, 0])
                continue
            frames.pop()
    except TimeUp:
        return [order[k] for k in best_set], False
    return [order[k] for k in best_set], True


MAX_ESTIMATED_N = 4096
"""Above this many items no estimate is made (sorting the costs would cost more than it
informs: the huge costs' selections are then far too many anyway, or the dp's cheaper)."""


def estimated_seconds(core: Core) -> float | None:
    """Predicted time when the costs lie on two scales (``solvers._scales``: many tiny costs
    under a few huge ones), else None (no estimate: in general the bounds' reach is unknown).
    There the search enumerates the huge costs' selections only (the tiny ones fit whole, fill
    the rest, or the branch is pruned): the cost model's ``backtracking`` of their count when
    nothing reaches the budget, divided by the selections expected to land in the tiny ones'
    window when that is more than one (the first hit ends it)."""
    if core.array is None or not 2 * _scales.MIN_COARSE <= core.n <= MAX_ESTIMATED_N:
        return None
    ascending = core.array[core.sorted_order()]
    if not _scales.has_gap(ascending):
        return None
    values, counts = np.unique(ascending, return_counts=True)
    found = _scales.coarse(values, counts, core.upper_bound)
    if found is None:
        return None
    hits, log2_selections = found
    # E huge-cost selections expected to land in the window: the search meets the first after
    # about 1/E of them (the tiny costs then fill the rest), as Schroeppel-Shamir's sweep does
    return cost_model().backtracking(log2_selections) / max(1.0, 10.0 ** min(hits, 300.0))


def _solve_core(core: Core) -> Answer:
    start = core.incumbent or greedy_indices(core.costs, core.budget)
    chosen, complete = search(core, start)
    if complete:
        return Answer(chosen, exact=True)
    return Answer(chosen, False, reason="time limit reached before the search completed")


solve = make_solver(NAME, _solve_core)
