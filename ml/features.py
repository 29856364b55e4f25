"""Selector features: ``solvers.features`` plus a few derived ones that earn their place.

The selector receives only the feature mapping ``solvers.auto`` computes (not the instance), so
every extra feature here is a cheap function of that mapping. The extras are proxies of each
algorithm's cost, on a log scale so linear baselines can use them too:

* ``log2_n_fit``: brute force costs ~2^n_fit, so does plain backtracking in the worst case;
* ``log2_mitm_sums``: meet in the middle builds 2^(n_fit/2) sums a side, n_fit/2 · log2 … work;
* ``dp_minus_mitm``: log2 dp cells minus log2 meet-in-the-middle work (who is cheaper);
* ``log2_cost_max`` and ``log2_budget``: coefficient size, what defeats dp;
* ``budget_over_mean``: about how many projects a full answer holds (greedy/backtracking depth);
* ``fit_ratio``: share of projects that fit the budget at all.

Then the shape of the costs that fit (``solvers.features.SHAPE_FEATURE_NAMES``: quantile
ratios, largest gap, dust, distinct share, residues, budget over the fitting total).
``FEATURE_NAMES`` is version 2; ``FEATURE_NAMES_V1`` (without the shape) is what older models
were trained on, and ``KNOWN_FEATURE_SETS`` lists both so those models still load.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

import solvers
from solvers.features import FEATURE_NAMES_V1 as BASE_NAMES_V1
from solvers.features import SHAPE_FEATURE_NAMES

__all__ = [
    "EXTRA_FEATURE_NAMES",
    "FEATURE_NAMES",
    "FEATURE_NAMES_V1",
    "KNOWN_FEATURE_SETS",
    "SHAPE_FEATURE_NAMES",
    "TRIVIAL_N_FIT",
    "extend",
    "instance_features",
    "is_trivial",
    "vector",
]

TRIVIAL_N_FIT = 16
"""At most this many projects fit the budget: every exact method answers in well under a
millisecond (meet in the middle builds 2^8 sums a side), so there is nothing to select."""

EXTRA_FEATURE_NAMES = (
    "log2_n_fit", "log2_mitm_sums", "dp_minus_mitm", "log2_cost_max", "log2_budget",
    "budget_over_mean", "fit_ratio",
)
FEATURE_NAMES_V1: tuple[str, ...] = (*BASE_NAMES_V1, *EXTRA_FEATURE_NAMES)
FEATURE_NAMES: tuple[str, ...] = (*FEATURE_NAMES_V1, *SHAPE_FEATURE_NAMES)
KNOWN_FEATURE_SETS: tuple[tuple[str, ...], ...] = (FEATURE_NAMES, FEATURE_NAMES_V1)


def _log2p(x: float) -> float:
    return math.log2(x + 1.0) if x > 0 else 0.0


def extend(feats: Mapping[str, float]) -> dict[str, float]:
    """The base features plus the derived extras (pure; O(1)); shape features are copied
    (NaN when the mapping has none: LightGBM's missing-value branch)."""
    n_fit = feats["n_fit"]
    mitm = n_fit / 2 + _log2p(n_fit)
    mean = feats["cost_mean"]
    return {
        **{name: float(feats[name]) for name in BASE_NAMES_V1},
        "log2_n_fit": _log2p(n_fit),
        "log2_mitm_sums": mitm,
        "dp_minus_mitm": feats["log2_dp_cells"] - mitm,
        "log2_cost_max": _log2p(feats["cost_max"]),
        "log2_budget": _log2p(feats["budget"]),
        "budget_over_mean": feats["budget"] / mean if mean else 0.0,
        "fit_ratio": n_fit / feats["n"] if feats["n"] else 0.0,
        **{name: float(feats.get(name, math.nan)) for name in SHAPE_FEATURE_NAMES},
    }


def is_trivial(feats: Mapping[str, float]) -> bool:
    """Nothing to select (O(1) on the feature mapping): everything fits, nothing fits, or at
    most ``TRIVIAL_N_FIT`` projects fit. The selector then returns the rules' answer."""
    n_fit = feats["n_fit"]
    return bool(feats["all_fit"]) or n_fit <= TRIVIAL_N_FIT


def instance_features(projects: Any, budget: Any) -> dict[str, float]:
    """All selector features of an instance (raises solvers.InvalidInputError on bad input)."""
    return extend(solvers.features(projects, budget))


def vector(feats: Mapping[str, float], names: tuple[str, ...] = FEATURE_NAMES) -> np.ndarray:
    """One float64 row in ``names`` order; base-only mappings are extended first."""
    if "fit_ratio" not in feats or any(name not in feats for name in names):
        feats = extend(feats)
    return np.fromiter((feats[name] for name in names), dtype=np.float64, count=len(names))
