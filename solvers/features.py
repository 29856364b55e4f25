"""Instance features shared by the rule-based ``auto`` selector and the ML selector.

Pure and cheap (O(n)). Computed on the validated integer instance (money in cents), after the
same preprocessing the solvers do: ``n_fit`` counts projects with 0 < cost ≤ budget, and the
``*_reduced`` features divide by the gcd of their costs.

Note on "density": ``density`` here is log2(max cost) / n, as the design names it; the
subset-sum literature's density is its inverse, n / log2(max cost) (``literature_density``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._instance import Problem, parse_problem
from ._limits import DEFAULT_LIMITS, Limits

__all__ = ["FEATURE_NAMES", "features", "problem_features"]

FEATURE_NAMES = (
    "n", "n_fit", "budget", "total", "budget_ratio", "cost_mean", "cost_std", "cost_cv",
    "cost_min", "cost_max", "cost_range", "gcd", "density", "literature_density",
    "budget_over_max", "budget_reduced", "log2_budget_reduced", "log2_dp_cells", "mitm_half",
    "all_fit",
)


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
    else:
        fit = [c for c in costs if 0 < c <= budget]
        n, n_fit = len(costs), len(fit)
        total = sum(costs)
        fit_total = sum(fit)
        mean = total / n if n else 0.0
        std = math.sqrt(sum((c - mean) ** 2 for c in costs) / n) if n else 0.0
        cmin, cmax = (min(costs), max(costs)) if n else (0, 0)
        g = math.gcd(*fit) if fit else 1
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
    }


def features(projects: Any, budget: Any, limits: Limits | None = None) -> dict[str, float]:
    """Features of ``(projects, budget)``; raises InvalidInputError on bad input."""
    return problem_features(parse_problem(projects, budget, limits or DEFAULT_LIMITS))
