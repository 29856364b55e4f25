"""Queries the REST API needs beyond the core repository functions.

Same conventions as the rest of `db/`: the session is a keyword argument, unknown ids raise
`NotFoundError`, bad values raise `DataValidationError` naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import _validate as v
from db.datasets import get_or_add_budget, get_set_with_projects
from db.errors import DataValidationError, NotFoundError
from db.models import ALERT_SEVERITIES, Alert, AlgorithmRun, Budget, Project, ProjectSet

__all__ = [
    "budget_for_amount",
    "budget_in_set",
    "get_set_with_projects",
    "projects_at",
    "record_alert",
    "run_with_budget",
]


def budget_in_set(*, session: Session, set_id: int, budget_id: int) -> Budget:
    """Budget `budget_id` of set `set_id`; `NotFoundError` if the set has no such budget."""
    budget = session.get(Budget, budget_id)
    if budget is None or budget.project_set_id != set_id:
        raise NotFoundError(f"project set {set_id} has no budget {budget_id}")
    return budget


def budget_for_amount(*, session: Session, set_id: int, amount: Any) -> Budget:
    """The set's budget of this amount, created if the set does not have it yet."""
    value = v.money("budget", amount)
    budget = session.scalar(
        select(Budget).where(Budget.project_set_id == set_id, Budget.amount == value)
    )
    if budget is None:
        if session.get(ProjectSet, set_id) is None:
            raise NotFoundError(f"project set {set_id} does not exist")
        budget = get_or_add_budget(session, set_id, value)  # type: ignore[arg-type]
    return budget


def projects_at(*, session: Session, set_id: int, positions: Iterable[int]) -> list[Project]:
    """The set's projects at these positions, in position order."""
    wanted = sorted(set(positions))
    if not wanted:
        return []
    return list(
        session.scalars(
            select(Project)
            .where(Project.project_set_id == set_id, Project.position.in_(wanted))
            .order_by(Project.position)
        )
    )


def run_with_budget(*, session: Session, run_id: int) -> tuple[AlgorithmRun, Decimal]:
    """The run and the amount of its budget; `NotFoundError` if there is no such run."""
    row = session.execute(
        select(AlgorithmRun, Budget.amount)
        .join(Budget, Budget.id == AlgorithmRun.budget_id)
        .where(AlgorithmRun.id == run_id)
    ).first()
    if row is None:
        raise NotFoundError(f"algorithm run {run_id} does not exist")
    return row[0], row[1]


def record_alert(
    *, session: Session, kind: str, severity: str, message: str,
    context: Mapping[str, Any] | None = None,
) -> Alert:
    """Store one alert for operators."""
    if severity not in ALERT_SEVERITIES:
        raise DataValidationError(f"severity must be one of {ALERT_SEVERITIES}, got {severity!r}")
    alert = Alert(
        kind=v.text("kind", kind, max_length=50),
        severity=severity,
        message=v.text("message", message, max_length=10_000),
        context=v.json_doc("context", dict(context) if context else None),
    )
    session.add(alert)
    session.flush()
    return alert
