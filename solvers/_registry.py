"""The one registry of algorithm names → solver callables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import auto, backtracking, brute_force, dp, greedy, hybrid, meet_in_the_middle
from ._core import Answer, Core
from ._errors import UnknownAlgorithmError

_MODULES = (brute_force, dp, backtracking, greedy, meet_in_the_middle, hybrid)

CORES: dict[str, Callable[[Core], Answer]] = {m.NAME: m._solve_core for m in _MODULES}
ALGORITHMS: dict[str, Callable[..., dict[str, Any]]] = {m.NAME: m.solve for m in _MODULES}
ALGORITHMS[auto.NAME] = auto.solve
EXACT_ALGORITHMS = ("brute_force", "dp", "backtracking", "meet_in_the_middle", "hybrid")


def get(name: Any) -> Callable[..., dict[str, Any]]:
    """The solver called ``name``; an unknown name raises UnknownAlgorithmError listing all."""
    try:
        return ALGORITHMS[name]
    except (KeyError, TypeError):
        raise UnknownAlgorithmError(name, list(ALGORITHMS)) from None
