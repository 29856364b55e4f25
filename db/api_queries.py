"""Queries the REST API needs beyond the core repository functions.

Same conventions as the rest of `db/`: the session is a keyword argument, unknown ids raise
`NotFoundError`, bad values raise `DataValidationError` naming the field.

Owners: the functions that read sets and runs take `owner_id`. A string shows only that
owner's sets and the runs on them (another owner's id is a `NotFoundError` with the same text
as a missing one, so nobody learns it exists); None shows every owner's (admin keys, or the
API with `API_AUTH=off`). A run belongs to the owner of its set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from db import _validate as v
from db.datasets import (
    ProjectLike,
    create_project_set,
    get_or_add_budget,
    get_set_with_projects,
    owned_hash,
)
from db.errors import DataValidationError, NotFoundError
from db.models import (
    ALERT_SEVERITIES,
    MATCH_TYPES,
    RUN_KINDS,
    Alert,
    AlgorithmRun,
    Budget,
    ModelAlias,
    ModelVersion,
    Project,
    ProjectSet,
)

__all__ = [
    "Page",
    "alias_versions",
    "budget_for_amount",
    "budget_in_set",
    "create_owned_set",
    "dataset_header",
    "get_set_with_projects",
    "list_project_sets",
    "list_runs",
    "owned_hash",
    "project_page",
    "projects_at",
    "record_alert",
    "run_with_budget",
    "visible_set",
]


@dataclass(frozen=True)
class Page:
    """One page of a listing: `items[offset:offset+limit]` of `total` rows."""

    items: list[Any]
    total: int
    limit: int
    offset: int


def _check_page(limit: int, offset: int) -> None:
    if not isinstance(limit, int) or not isinstance(offset, int) or limit < 1 or offset < 0:
        raise DataValidationError(f"limit must be >= 1 and offset >= 0, got {limit!r}, {offset!r}")


def _moment(session: Session, since: datetime) -> datetime:
    """`since` as the database compares it: UTC (a naive value is taken as UTC); naive UTC
    on SQLite, which stores timestamps as text without a zone."""
    aware = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
    aware = aware.astimezone(UTC)
    bind = session.get_bind()
    return aware.replace(tzinfo=None) if bind.dialect.name == "sqlite" else aware


def _page(session: Session, stmt: Select[Any], limit: int, offset: int,
          *order: Any) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.execute(stmt.order_by(*order).limit(limit).offset(offset)).all()
    return list(rows), int(total or 0)


def _missing_set(set_id: int) -> NotFoundError:
    return NotFoundError(f"project set {set_id} does not exist")


def _visible(project_set: ProjectSet | None, owner_id: str | None) -> bool:
    return project_set is not None and (owner_id is None or project_set.owner_id == owner_id)


def create_owned_set(*, session: Session, owner_id: str | None, name: str,
                     projects: Iterable[ProjectLike], budgets: Iterable[Any] = ()
                     ) -> tuple[ProjectSet, bool]:
    """`db.datasets.create_project_set` for one owner: `(set, created)`, idempotent by content
    within that owner's sets only (`owned_hash`)."""
    return create_project_set(session=session, name=name, projects=projects, budgets=budgets,
                              owner_id=owner_id)


def visible_set(*, session: Session, set_id: int, owner_id: str | None) -> ProjectSet:
    """The set with its projects and budgets, if `owner_id` may see it; else `NotFoundError`
    (the same as for a set that does not exist)."""
    try:
        project_set = get_set_with_projects(session=session, set_id=set_id)
    except NotFoundError:
        raise _missing_set(set_id) from None
    if not _visible(project_set, owner_id):
        raise _missing_set(set_id)
    return project_set


def list_project_sets(*, session: Session, limit: int = 50, offset: int = 0,
                      since: datetime | None = None, family: str | None = None,
                      owner_id: str | None = None) -> Page:
    """Project sets (without their projects), newest first; `since`: created at or after;
    `family`: only sets of that family (`custom` for the ones users sent); `owner_id`: only
    that owner's (None: every owner's)."""
    _check_page(limit, offset)
    stmt = select(ProjectSet)
    if owner_id is not None:
        stmt = stmt.where(ProjectSet.owner_id == owner_id)
    if since is not None:
        stmt = stmt.where(ProjectSet.created_at >= _moment(session, since))
    if family is not None:
        stmt = stmt.where(ProjectSet.family == family)
    rows, total = _page(session, stmt, limit, offset, ProjectSet.id.desc())
    return Page([row[0] for row in rows], total, limit, offset)


def list_runs(*, session: Session, limit: int = 50, offset: int = 0,
              dataset_id: int | None = None, algorithm: str | None = None,
              status: str | None = None, since: datetime | None = None,
              kinds: Iterable[str] | None = ("user",), owner_id: str | None = None) -> Page:
    """Runs with their budget's amount (`(AlgorithmRun, Decimal)` items), newest first.

    Filters: `dataset_id` (the project set), `algorithm` (what ran, or what was requested:
    `auto` finds every run `auto` chose), `status` (exact, approximate, failed), `since`
    (recorded at or after), `kinds` (`RUN_KINDS`; default the users' own runs only, so that
    benchmark, replay and training runs never mix with them; None: every kind), `owner_id`
    (only runs on that owner's sets; None: every owner's)."""
    _check_page(limit, offset)
    if status is not None and status not in MATCH_TYPES:
        raise DataValidationError(f"status must be one of {MATCH_TYPES}, got {status!r}")
    stmt = select(AlgorithmRun, Budget.amount).join(Budget, Budget.id == AlgorithmRun.budget_id)
    if kinds is not None:
        wanted = list(kinds)
        unknown = [k for k in wanted if k not in RUN_KINDS]
        if unknown:
            raise DataValidationError(f"kind must be one of {RUN_KINDS}, got {unknown[0]!r}")
        stmt = stmt.where(AlgorithmRun.kind.in_(wanted))
    if owner_id is not None:
        stmt = stmt.join(ProjectSet, ProjectSet.id == AlgorithmRun.project_set_id).where(
            ProjectSet.owner_id == owner_id)
    if dataset_id is not None:
        stmt = stmt.where(AlgorithmRun.project_set_id == dataset_id)
    if algorithm is not None:
        stmt = stmt.where(or_(AlgorithmRun.algorithm_name == algorithm,
                              AlgorithmRun.requested_algorithm == algorithm))
    if status is not None:
        stmt = stmt.where(AlgorithmRun.match_type == status)
    if since is not None:
        stmt = stmt.where(AlgorithmRun.created_at >= _moment(session, since))
    rows, total = _page(session, stmt, limit, offset, AlgorithmRun.created_at.desc(),
                        AlgorithmRun.id.desc())
    return Page([(row[0], row[1]) for row in rows], total, limit, offset)


def dataset_header(*, session: Session, set_id: int, owner_id: str | None = None) -> ProjectSet:
    """The set with its budgets loaded, not its projects; `NotFoundError` if there is none
    that `owner_id` may see."""
    project_set = session.scalar(select(ProjectSet).where(ProjectSet.id == set_id)
                                 .options(selectinload(ProjectSet.budgets)))
    if not _visible(project_set, owner_id):
        raise _missing_set(set_id)
    return project_set  # type: ignore[return-value]


def project_page(*, session: Session, set_id: int, limit: int, offset: int) -> list[Project]:
    """The set's projects at positions offset .. offset+limit-1, in position order."""
    _check_page(limit, offset)
    return list(session.scalars(
        select(Project).where(Project.project_set_id == set_id)
        .order_by(Project.position).limit(limit).offset(offset)))


def alias_versions(*, session: Session, names: Iterable[str], alias: str = "champion"
                   ) -> dict[str, tuple[int, int]]:
    """`{model name: (version row id, version number)}` of the models whose `alias` is set,
    in one small SELECT (the API asks it every few seconds to notice a promotion)."""
    rows = session.execute(
        select(ModelAlias.model_name, ModelVersion.id, ModelVersion.version)
        .join(ModelVersion, ModelVersion.id == ModelAlias.model_version_id)
        .where(ModelAlias.alias == alias, ModelAlias.model_name.in_(list(names))))
    return {name: (int(row_id), int(version)) for name, row_id, version in rows}


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


def run_with_budget(*, session: Session, run_id: int, owner_id: str | None = None
                    ) -> tuple[AlgorithmRun, Decimal]:
    """The run and the amount of its budget; `NotFoundError` if there is no such run that
    `owner_id` may see (a run on one of their sets)."""
    stmt = (select(AlgorithmRun, Budget.amount)
            .join(Budget, Budget.id == AlgorithmRun.budget_id)
            .where(AlgorithmRun.id == run_id))
    if owner_id is not None:
        stmt = stmt.join(ProjectSet, ProjectSet.id == AlgorithmRun.project_set_id).where(
            ProjectSet.owner_id == owner_id)
    row = session.execute(stmt).first()
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
