"""Named configurations: an algorithm with other settings, for a selector to choose among.

A configuration is an algorithm of ``ALGORITHMS`` run with a frozen settings object (today
``hybrid.HybridConfig``; an algorithm with knobs takes ``config=`` in its ``_solve_core``).
Its name is ``"<algorithm>[<label>]"``; ``solve(..., algorithm=name)`` runs it, and the result's
``algorithm`` is the base name that ran, with ``configuration`` set to the name. The names are
not in ``ALGORITHMS`` (the API, the database and the benchmarks enumerate that registry): they
are selector candidates, measured in ``ml.history`` like the algorithms.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import hybrid
from ._core import Answer, Core, call_deadline, parse_call, run_core
from ._limits import Limits
from ._measure import measure

__all__ = ["CONFIGURATIONS", "Configuration"]


@dataclass(frozen=True)
class Configuration:
    """One named configuration: ``algorithm`` run with ``settings``."""

    name: str
    algorithm: str
    settings: Any
    description: str

    @property
    def core(self) -> Callable[[Core], Answer]:
        module = _MODULES[self.algorithm]
        return functools.partial(module._solve_core, config=self.settings)

    def solve(self, projects: Any, budget: Any, *, time_limit: float | None = None,
              limits: Limits | None = None, measure_memory: bool = False) -> dict[str, Any]:
        """The shared result dict, ``algorithm`` the base name, ``configuration`` this name."""
        start = time.perf_counter()
        problem, lim, tl = parse_call(projects, budget, time_limit, limits)
        deadline = call_deadline(start, tl, lim)
        core = self.core
        result = measure(lambda: run_core(self.algorithm, core, problem, lim, tl,
                                          deadline=deadline), measure_memory, lim, deadline)
        result["configuration"] = self.name
        return result


_MODULES = {hybrid.NAME: hybrid}

# Kept because each wins somewhere (docs/benchmarks/selector.md, "Portfolio of configurations").
# Measured and dropped: hybrid with smaller cores (16, 20), never faster than the default by
# more than timing noise; meet in the middle with Schroeppel–Shamir from 24 items, faster on 1
# of 64 instances, 2-5x slower on 10 (so meet_in_the_middle has no configuration knob).
_ALL = (
    Configuration(
        "hybrid[exact-first]", "hybrid",
        hybrid.HybridConfig(exact_first=math.inf),
        "the cheapest exact method first whenever it is predicted to finish in the time left; "
        "heuristics only when none is (sparse Todd/pe-like instances with n <= 47)"),
    Configuration(
        "hybrid[heuristic-heavy]", "hybrid",
        hybrid.HybridConfig(core_sizes=(32, 40), heuristic_share=1.0, heuristic_seconds=4.0),
        "bigger random cores (32, 40), and the core searches may use the whole cheapest exact "
        "prediction (default: half, at most 2 s)"),
    Configuration(
        "hybrid[core-large]", "hybrid",
        hybrid.HybridConfig(core_sizes=(32, 40)),
        "bigger random cores (32, 40) in the default time split"),
)

CONFIGURATIONS: dict[str, Configuration] = {c.name: c for c in _ALL}
