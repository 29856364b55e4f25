"""Errors raised at the edge of the solver engine, before any algorithm runs."""

from __future__ import annotations

from typing import Any

__all__ = ["InvalidInputError", "UnknownAlgorithmError"]


class InvalidInputError(ValueError):
    """Bad input: names the offending field (e.g. ``projects[3].cost``) and the value."""

    def __init__(self, field: str, value: Any, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{field}: {problem} (got {value!r})")


class UnknownAlgorithmError(ValueError):
    """An algorithm name that is not in the registry; the message lists the valid names."""

    def __init__(self, name: Any, valid: list[str]) -> None:
        self.name = name
        self.valid = sorted(valid)
        super().__init__(
            f"algorithm: unknown algorithm {name!r}; valid names are: {', '.join(self.valid)}"
        )
