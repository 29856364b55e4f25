"""``auto``: pick an algorithm from the instance's features, then run it.

The default selector is :func:`rules`, documented rules from the algorithms' costs:

1. everything fits, or nothing does → ``greedy`` (preprocessing answers exactly anyway);
2. at most 20 projects fit → ``meet_in_the_middle`` (≤ 2^10 sums a side: microseconds);
3. sparse instances with at most 40 projects — fewer subsets than budget values
   (n_fit ≤ log2(reduced budget) + 4, e.g. Todd's) → ``meet_in_the_middle``: an exact hit is
   unlikely there, so heuristics would only delay the exhaustive 2^(n/2) search;
4. the dp bitset is tiny (n_fit × reduced budget ≤ 2^24 bit operations, well under a
   millisecond) → ``dp``;
5. otherwise → ``hybrid``: its heuristics prove dense instances optimal in milliseconds, and it
   falls back to the cheapest exact method (meet in the middle, dp, backtracking) by estimate.

A selector is any callable from the feature dict to an algorithm name or a configuration name
(``solvers.CONFIGURATIONS``, e.g. ``"hybrid[exact-first]"``; the ML layer plugs in a trained
model). It may carry a ``name`` attribute (e.g. ``"model:v3"``) recorded in the result's
``selector``; the result's ``algorithm`` is the base algorithm that ran and, when the choice was a
configuration, ``configuration`` its name. If the selector raises or names anything else, the
rules decide and ``reason`` says so.
Complexity and limits: those of the chosen algorithm, plus O(n) for the features.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ._configs import CONFIGURATIONS
from ._core import call_deadline, parse_call, run_core
from ._limits import Limits
from ._measure import measure
from .features import problem_features

NAME = "auto"

Selector = Callable[[Mapping[str, float]], str]

_lock = threading.Lock()
_default_selector: Selector | None = None


def rules(feats: Mapping[str, float]) -> str:
    """The documented rule-based choice (see the module docstring)."""
    if feats["all_fit"] or feats["n_fit"] == 0:
        return "greedy"
    if feats["n_fit"] <= 20:
        return "meet_in_the_middle"
    if feats["n_fit"] <= 40 and feats["n_fit"] <= feats["log2_budget_reduced"] + 4:
        return "meet_in_the_middle"
    if feats["n_fit"] * (feats["budget_reduced"] + 1) <= 2**24:
        return "dp"
    return "hybrid"


rules.name = "rules"  # type: ignore[attr-defined]


def set_default_selector(selector: Selector | None) -> None:
    """Install the selector ``auto`` uses when none is passed (None restores the rules)."""
    global _default_selector
    with _lock:
        _default_selector = selector


def get_default_selector() -> Selector | None:
    return _default_selector


def choose(feats: Mapping[str, float], selector: Selector | None, registry: Mapping[str, Any]
           ) -> tuple[str, str, str | None]:
    """(algorithm or configuration name, selector name, note) — falls back to the rules on any
    selector failure, or a choice that is neither in ``registry`` nor a configuration."""
    if selector is None or selector is rules:
        return rules(feats), "rules", None
    label = str(getattr(selector, "name", getattr(selector, "__name__", "custom")))
    try:
        name = selector(feats)
    except Exception as exc:  # any selector failure falls back to the rules
        return rules(feats), "rules", f"selector {label} failed ({exc!r}); rules used"
    known = isinstance(name, str) and (name in registry or name in CONFIGURATIONS)
    if not known or name == NAME:
        note = (f"selector {label} chose {name!r}, not a base algorithm or configuration; "
                "rules used")
        return rules(feats), "rules", note
    return name, label, None


def solve(
    projects: Any,
    budget: Any,
    *,
    time_limit: float | None = None,
    limits: Limits | None = None,
    measure_memory: bool = False,
    selector: Selector | None = None,
) -> dict[str, Any]:
    """Solve with the algorithm the selector (default: rules) picks; same result dict."""
    from . import _registry  # late: the registry imports this module

    start = time.perf_counter()
    problem, lim, tl = parse_call(projects, budget, time_limit, limits)
    deadline = call_deadline(start, tl, lim)
    chosen_selector = selector if selector is not None else _default_selector
    feats = problem_features(problem)
    name, label, note = choose(feats, chosen_selector, _registry.CORES)
    found = _registry.core_of(name)
    assert found is not None  # choose only returns names core_of knows
    base, core_fn, configuration = found
    result = measure(lambda: run_core(base, core_fn, problem, lim, tl, deadline=deadline),
                     measure_memory, lim, deadline)
    if configuration is not None:
        result["configuration"] = configuration
    result["selector"] = label
    result["requested_algorithm"] = NAME
    if note:
        result["reason"] = note if result["reason"] is None else f"{note}; {result['reason']}"
    return result
