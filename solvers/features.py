"""Instance features shared by the rule-based ``auto`` selector and the ML selector.

Pure and cheap (O(n)). Computed on the validated integer instance (money in cents), after the
same preprocessing the solvers do: ``n_fit`` counts projects with 0 < cost ≤ budget, and the
``*_reduced`` features divide by the gcd of their costs.

**Shape features** (``SHAPE_FEATURE_NAMES``, version 2 of the names): what the moments miss
about the costs that fit, chosen by measurement on instance families the rules were not written
for (``docs/benchmarks/selector.md``): quantile ratios, the largest gap between neighbouring
costs (two-scale instances), the share of "dust" (costs below a thousandth of the budget), the
share of distinct costs (few prices), residues mod small primes after the gcd, and the budget
against the total that fits. O(n) plus one sort of at most ``SHAPE_SAMPLE`` costs (a
deterministic strided sample above that). Version 1 (``FEATURE_NAMES_V1``) is the first 20
names; models trained on it still load (``ml.serving``).

Note on "density": ``density`` here is log2(max cost) / n, as the design names it; the
subset-sum literature's density is its inverse, n / log2(max cost) (``literature_density``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._instance import Problem, parse_problem
from ._limits import DEFAULT_LIMITS, Limits

__all__ = [
    "FEATURE_NAMES",
    "FEATURE_NAMES_V1",
    "SHAPE_FEATURE_NAMES",
    "features",
    "problem_features",
    "shape_features",
]

FEATURE_NAMES_V1 = (
    "n", "n_fit", "budget", "total", "budget_ratio", "cost_mean", "cost_std", "cost_cv",
    "cost_min", "cost_max", "cost_range", "gcd", "density", "literature_density",
    "budget_over_max", "budget_reduced", "log2_budget_reduced", "log2_dp_cells", "mitm_half",
    "all_fit",
)
SHAPE_FEATURE_NAMES = (
    "log10_range_fit", "log10_q90_q10", "log10_q50_q10", "top_decile_share", "max_log10_gap",
    "dust_share", "distinct_share", "residue_diversity", "budget_over_fit_total",
)
FEATURE_NAMES = (*FEATURE_NAMES_V1, *SHAPE_FEATURE_NAMES)
SHAPE_SAMPLE = 8192
_PRIMES = (2, 3, 5, 7)


def _quantile(ordered: np.ndarray, q: float) -> float:
    """``np.quantile(ordered, q)`` (the default linear method, NumPy's own interpolation
    formula, so the same floats) for an ascending float64 array, without its per-call cost
    (~0.1 ms: a tenth of a small solve)."""
    h = (ordered.size - 1) * q
    i = min(math.floor(h), ordered.size - 1)
    a = float(ordered[i])
    b = float(ordered[min(i + 1, ordered.size - 1)])
    t = h - i
    return b - (b - a) * (1.0 - t) if t >= 0.5 else a + (b - a) * t


def shape_features(fit: np.ndarray, budget: int, g: int) -> dict[str, float]:
    """Shape of the costs that fit (``fit``: float64 or int64, all in (0, budget])."""
    n_fit = int(fit.size)
    if n_fit == 0:
        return dict.fromkeys(SHAPE_FEATURE_NAMES, 0.0)
    step = max(1, n_fit // SHAPE_SAMPLE)
    sample = np.sort(fit[::step])
    vals = sample.astype(np.float64)
    q10, q50, q90 = (_quantile(vals, q) for q in (0.1, 0.5, 0.9))
    lo, hi = float(vals[0]), float(vals[-1])
    top = vals[-max(1, len(vals) // 10):].sum()
    total = float(vals.sum()) or 1.0
    distinct = sample[np.concatenate(([True], sample[1:] != sample[:-1]))]  # sorted: unique
    dv = distinct.astype(np.float64)
    gap = float(np.max(np.log10(dv[1:] / dv[:-1]))) if dv.size > 1 else 0.0
    if sample.dtype.kind in "iu" and g > 0:
        reduced = sample // g
        residues = [np.count_nonzero(np.bincount(reduced % p, minlength=p)) / p
                    for p in _PRIMES]
    else:
        reduced_obj = [int(c) // max(g, 1) for c in sample.tolist()]
        residues = [len({c % p for c in reduced_obj}) / p for p in _PRIMES]
    fit_total = float(np.sum(fit.astype(np.float64)))
    return {
        "log10_range_fit": float(np.log10(hi / lo)) if lo > 0 else 0.0,
        "log10_q90_q10": float(np.log10(q90 / q10)) if q10 > 0 else 0.0,
        "log10_q50_q10": float(np.log10(q50 / q10)) if q10 > 0 else 0.0,
        "top_decile_share": float(top / total),
        "max_log10_gap": gap,
        "dust_share": float(np.count_nonzero(vals <= budget / 1000.0)) / vals.size,
        "distinct_share": float(distinct.size / len(sample)),
        "residue_diversity": float(sum(residues)) / len(residues),
        "budget_over_fit_total": float(budget / fit_total) if fit_total else 0.0,
    }


def problem_features(problem: Problem) -> dict[str, float]:
    """Features of a validated problem (integer units)."""
    budget = problem.budget
    costs = problem.costs
    arr = problem.array
    if arr is not None and arr.size and int(arr.max()) <= 2**40:  # vectorised, same values
        fit_arr = arr[(arr > 0) & (arr <= budget)]
        n, n_fit = int(arr.size), int(fit_arr.size)
        total = int(arr.sum())
        fit_total = int(fit_arr.sum())
        mean = total / n
        std = float(np.sqrt(np.mean((arr - mean) ** 2)))
        cmin, cmax = int(arr.min()), int(arr.max())
        g = int(np.gcd.reduce(fit_arr)) if n_fit else 1
        shape = shape_features(fit_arr, budget, g)
    else:
        fit = [c for c in costs if 0 < c <= budget]
        n, n_fit = len(costs), len(fit)
        total = sum(costs)
        fit_total = sum(fit)
        mean = total / n if n else 0.0
        std = math.sqrt(sum((c - mean) ** 2 for c in costs) / n) if n else 0.0
        cmin, cmax = (min(costs), max(costs)) if n else (0, 0)
        g = math.gcd(*fit) if fit else 1
        shape = shape_features(np.array(fit, dtype=object), budget, g)
    reduced = budget // g
    return {
        "n": float(n),
        "n_fit": float(n_fit),
        "budget": float(budget),
        "total": float(total),
        "budget_ratio": budget / total if total else 0.0,
        "cost_mean": mean,
        "cost_std": std,
        "cost_cv": std / mean if mean else 0.0,
        "cost_min": float(cmin),
        "cost_max": float(cmax),
        "cost_range": float(cmax - cmin),
        "gcd": float(g),
        "density": math.log2(cmax) / n if n and cmax > 0 else 0.0,
        "literature_density": n / math.log2(cmax) if cmax > 1 else 0.0,
        "budget_over_max": budget / cmax if cmax else 0.0,
        "budget_reduced": float(reduced),
        "log2_budget_reduced": math.log2(reduced + 1),
        "log2_dp_cells": math.log2(n_fit * (reduced + 1) + 1),
        "mitm_half": n_fit / 2,
        "all_fit": float(fit_total <= budget),
        **shape,
    }


def features(projects: Any, budget: Any, limits: Limits | None = None) -> dict[str, float]:
    """Features of ``(projects, budget)``; raises InvalidInputError on bad input."""
    return problem_features(parse_problem(projects, budget, limits or DEFAULT_LIMITS))
