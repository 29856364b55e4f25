"""Costs on two scales: "dust" whose subset sums fill a range, and the coarse costs above it.

The usual estimate of how many selections sum exactly to a target takes all subset sums as one
normal distribution (``2^n · φ(z)/σ``). When many tiny costs sit under a few huge ones (say 1 to
1,000 under 10^8 to 10^9), that count is huge, yet no selection may reach the target at all:
the tiny costs only fill a window of their total width, and the target is reached only when a
selection of the *coarse* costs lands in that window, which is rare when they are few. Any
selection reaching the target is a coarse selection in the window plus dust, so the expected
number of coarse selections in the window bounds the chance of a hit from above, and exhaustive
search (backtracking) effectively enumerates the coarse selections: the dust either fits
whole, or fills the rest, or the branch is pruned.

A *scale split* is a point in the ascending distinct costs where the next cost is at least
``SCALE_GAP`` times the previous one and the costs below it have at least as many distinct
selections as their total width (``Π(m_i + 1) ≥ Σ c_i·m_i + 1``: enough of them to fill it).
Instances without one (every family of ``solvers.instances``, which are on one scale) keep the
usual estimates unchanged.
"""

from __future__ import annotations

import math

import numpy as np

SCALE_GAP = 100.0
"""A scale split needs the smallest coarse cost at least this many times the largest dust
cost."""
MIN_COARSE = 4
"""A split leaves at least this many coarse items (the normal approximation needs a few)."""


def _normal_log_density(values: np.ndarray, counts: np.ndarray, target: float,
                        width: float) -> float:
    """ln of the expected number of selections of (values, counts) (each class uniform on
    0..m_i, sums taken as normal) whose sum lies in a window of ``width`` centred at
    ``target`` (``width`` 1: exactly ``target``), capped at the selections' count."""
    v = values.astype(np.float64)
    m = counts.astype(np.float64)
    ln_sets = float(np.log(m + 1.0).sum())
    sigma = max(float(np.sqrt((v * v * m * (m + 2.0) / 12.0).sum())), 1.0)
    z = (float(target) - float((v * m).sum()) / 2.0) / sigma
    ln_p = min(0.0, math.log(max(width, 1.0)) - z * z / 2.0 - math.log(math.sqrt(2 * math.pi)
                                                                        * sigma))
    return ln_sets + ln_p


def has_gap(sorted_costs: np.ndarray) -> bool:
    """Does any cost exceed its predecessor (ascending) ``SCALE_GAP`` times? Necessary for a
    scale split; a few microseconds, so callers skip the rest on one-scale costs."""
    if sorted_costs.size < 2:
        return False
    return bool((sorted_costs[1:] >= SCALE_GAP * sorted_costs[:-1].astype(np.float64)).any())


def log_hits(values: np.ndarray, counts: np.ndarray, target: float) -> float:
    """ln of the expected number of distinct selections (multisets, Π(m_i + 1)) of the
    distinct costs ``values`` (``counts`` copies each) summing exactly to ``target``."""
    return _normal_log_density(np.asarray(values), np.asarray(counts), target, 1.0)


def scale_splits(values: np.ndarray, counts: np.ndarray) -> list[int]:
    """Indices ``j`` into the ascending distinct ``values`` where ``values[:j]`` is dust under
    the coarse ``values[j:]`` (see the module docstring). O(len(values)), vectorised."""
    n = len(values)
    if n < 2 or float(values[-1]) < SCALE_GAP * float(values[0]):
        return []
    v = values.astype(np.float64)
    m = counts.astype(np.float64)
    width = np.cumsum(v * m)[:-1] + 1.0  # the dust's width below each split j = 1..n-1
    ln_sets = np.cumsum(np.log(m + 1.0))[:-1]
    coarse_items = np.cumsum(m[::-1])[::-1][1:]  # items from j on
    ok = ((v[1:] >= SCALE_GAP * v[:-1]) & (coarse_items >= MIN_COARSE)
          & (ln_sets >= np.log(width)))
    return [int(j) + 1 for j in np.flatnonzero(ok)]


def coarse(values: np.ndarray, counts: np.ndarray, target: float
           ) -> tuple[float, float] | None:
    """(log10 of the expected coarse selections landing in the dust's window before ``target``,
    the smallest over the scale splits; log2 of the coarse selections of the deepest split), or
    None without a split."""
    values = np.asarray(values)
    counts = np.asarray(counts)
    splits = scale_splits(values, counts)
    if not splits:
        return None
    v = values.astype(np.float64)
    m = counts.astype(np.float64)
    best = math.inf
    for j in splits:
        dust = float((v[:j] * m[:j]).sum())
        best = min(best, _normal_log_density(values[j:], counts[j:], target - dust / 2.0,
                                             dust + 1.0))
    return best / math.log(10.0), float(np.log2(m[splits[-1]:] + 1.0).sum())


def hits_and_search(values: np.ndarray, counts: np.ndarray, target: float
                    ) -> tuple[float, float]:
    """(log10 of the expected number of selections reaching ``target``, log2 of the
    selections an exhaustive search enumerates).

    Without a scale split: the usual normal estimate over every cost, and every distinct
    selection ``Π(m_i + 1)``. With splits: the smaller of that and the coarse estimate
    (``coarse``), and the coarse selections of the deepest split."""
    log10_hits = log_hits(values, counts, target) / math.log(10.0)
    found = coarse(values, counts, target)
    if found is None:
        return log10_hits, float(np.log2(np.asarray(counts, dtype=np.float64) + 1.0).sum())
    return min(log10_hits, found[0]), found[1]
