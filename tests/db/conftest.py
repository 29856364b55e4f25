"""Fixtures for the data-layer tests: a stored project set and a solver-shaped result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from db import ProjectSet, create_project_set


@pytest.fixture
def project_set(session: Session) -> ProjectSet:
    """A five-project set with two budgets, committed."""
    ps, _ = create_project_set(
        session=session,
        name="five",
        projects=[
            {"name": f"p{i}", "cost": c, "metadata": {"i": i}}
            for i, c in enumerate(["10.00", 20, 30.5, "40", 55])
        ],
        budgets=[60, "100.50"],
        generator_params={"family": "uniform", "n": 5, "seed": 7},
    )
    session.commit()
    return ps


def _solver_result(**overrides: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "selected_indices": [0, 1, 2],
        "total_cost": 60.5,
        "execution_time": 0.0123,
        "memory_used": 0.75,
        "status": "exact",
        "algorithm": "dp",
        "upper_bound": 60.5,
        "reason": None,
        "selector": "rules",
    }
    result.update(overrides)
    return result


@pytest.fixture
def solver_result() -> Callable[..., dict[str, Any]]:
    """Factory for dicts shaped like `solvers.solve(...)`'s result, with overrides."""
    return _solver_result
