"""The one registry of algorithm names → solver callables, and the named configurations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import auto, backtracking, brute_force, dp, greedy, hybrid, meet_in_the_middle
from ._configs import CONFIGURATIONS, Configuration
from ._core import Answer, Core
from ._errors import UnknownAlgorithmError

_MODULES = (brute_force, dp, backtracking, greedy, meet_in_the_middle, hybrid)

CORES: dict[str, Callable[[Core], Answer]] = {m.NAME: m._solve_core for m in _MODULES}
ALGORITHMS: dict[str, Callable[..., dict[str, Any]]] = {m.NAME: m.solve for m in _MODULES}
ALGORITHMS[auto.NAME] = auto.solve
EXACT_ALGORITHMS = ("brute_force", "dp", "backtracking", "meet_in_the_middle", "hybrid")

__all__ = ["ALGORITHMS", "CONFIGURATIONS", "CORES", "EXACT_ALGORITHMS", "Configuration",
           "core_of", "get"]


def _valid() -> list[str]:
    return [*ALGORITHMS, *CONFIGURATIONS]


def get(name: Any) -> Callable[..., dict[str, Any]]:
    """The solver called ``name`` (an algorithm or a configuration); an unknown name raises
    UnknownAlgorithmError listing all."""
    try:
        return ALGORITHMS[name]
    except (KeyError, TypeError):
        pass
    try:
        return CONFIGURATIONS[name].solve
    except (KeyError, TypeError):
        raise UnknownAlgorithmError(name, _valid()) from None


def core_of(name: str) -> tuple[str, Callable[[Core], Answer], str | None] | None:
    """(base algorithm, core function, configuration name or None) for a name ``auto`` may
    run: a base algorithm or a configuration; None for anything else (``auto`` included)."""
    if name in CORES:
        return name, CORES[name], None
    config = CONFIGURATIONS.get(name)
    if config is None:
        return None
    return config.algorithm, config.core, config.name
