"""Budget allocation by subset sum: pure algorithms behind one entry point.

>>> from solvers import solve
>>> solve([{"name": "a", "cost": 3}, {"name": "b", "cost": 5}, 4], 8)["selected_indices"]
[0, 1]

``solve(projects, budget, algorithm="auto", time_limit=None)`` returns a plain dict:
``selected_indices`` (sorted positions), ``total_cost``, ``execution_time`` (s, untraced timed
pass), ``memory_used`` (peak MiB, separate pass, only with ``measure_memory=True``; else 0.0
and ``memory_method`` "none"), ``status`` ("exact" | "approximate" |
"failed"), ``algorithm`` (what actually ran), ``upper_bound`` (a proven bound on the optimum),
``reason`` (why not exact, or None), plus ``budget``, ``n`` and ``memory_method``; ``auto`` adds
``selector``. Amounts come back in the caller's units (money as floats rounded to cents).

``algorithm`` may also name a configuration of ``CONFIGURATIONS`` (``"hybrid[exact-first]"``:
an algorithm with other settings); the result's ``algorithm`` is then the base algorithm that
ran and ``configuration`` the name. Configurations are not in ``ALGORITHMS``.

This package imports nothing of the project and no framework: it can be lifted out as is.
"""

from __future__ import annotations

from typing import Any

from ._configs import CONFIGURATIONS, Configuration
from ._errors import InvalidInputError, UnknownAlgorithmError
from ._limits import DEFAULT_LIMITS, Limits
from ._registry import ALGORITHMS, EXACT_ALGORITHMS, get
from .auto import Selector, rules, set_default_selector
from .features import FEATURE_NAMES, features

__all__ = [
    "ALGORITHMS",
    "CONFIGURATIONS",
    "DEFAULT_LIMITS",
    "EXACT_ALGORITHMS",
    "FEATURE_NAMES",
    "Configuration",
    "InvalidInputError",
    "Limits",
    "Selector",
    "UnknownAlgorithmError",
    "features",
    "rules",
    "set_default_selector",
    "solve",
]


def solve(
    projects: Any,
    budget: Any,
    algorithm: str = "auto",
    time_limit: float | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Choose the projects whose total cost comes closest to ``budget`` without going over.

    ``projects``: a list of mappings with a ``"cost"`` (other keys are ignored here), or of
    plain numbers. Costs and budget: non-negative integers or money with at most two decimals.
    ``algorithm``: a name from ``ALGORITHMS`` or ``CONFIGURATIONS`` (unknown names raise
    UnknownAlgorithmError listing both).
    ``time_limit``: seconds for the whole call (parsing, solving and any memory pass;
    default ``Limits.default_time_limit``); time-limited methods then return their best so far
    as "approximate". ``options``: ``limits=Limits(...)``, ``measure_memory=True`` (off by
    default: peak memory costs a second, traced pass when it fits in the limit, else the
    resident-set growth) and, for ``auto``, ``selector=callable``.
    """
    return get(algorithm)(projects, budget, time_limit=time_limit, **options)
