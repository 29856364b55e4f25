"""Project sets: create idempotently by content hash, fetch with a page of run history."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from numbers import Real
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from db import _validate as v
from db.base import NAME_LENGTH
from db.errors import DataValidationError, NotFoundError
from db.models import AlgorithmRun, Budget, Project, ProjectSet

ProjectLike = Mapping[str, Any] | int | float | str | Decimal


@dataclass(frozen=True)
class ProjectSetHistory:
    """A set (projects and budgets loaded) with one page of its runs, newest first."""

    project_set: ProjectSet
    runs: list[AlgorithmRun]
    total_runs: int
    limit: int
    offset: int


def _encodable(field: str, value: Any) -> None:
    """Reject text UTF-8 cannot encode (lone UTF-16 surrogates, e.g. from a JSON "\\ud800")."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DataValidationError(
            f"{field} contains a lone UTF-16 surrogate {text[exc.start]!r}, which is not text"
        ) from None


def _normalize_projects(projects: Iterable[ProjectLike]) -> list[tuple[str, Decimal, Any]]:
    out: list[tuple[str, Decimal, Any]] = []
    for i, item in enumerate(projects):
        if isinstance(item, Mapping):
            name = v.text(
                f"projects[{i}].name", item.get("name", f"project-{i}"), max_length=NAME_LENGTH
            )
            cost = v.money(f"projects[{i}].cost", item.get("cost"))
            meta = v.json_doc(f"projects[{i}].metadata", item.get("metadata"))
            _encodable(f"projects[{i}].name", name)
            if meta is not None:
                _encodable(f"projects[{i}].metadata", meta)
        elif isinstance(item, Real | str | Decimal) and not isinstance(item, bool):
            name, cost, meta = f"project-{i}", v.money(f"projects[{i}]", item), None
        else:
            raise DataValidationError(f"projects[{i}] must be a mapping or a number, got {item!r}")
        out.append((name, cost, meta))  # type: ignore[arg-type]
    if not out:
        raise DataValidationError("projects must not be empty")
    return out


def _hash(rows: Sequence[tuple[str, Decimal, Any]]) -> str:
    canonical = [[name, str(cost), meta] for name, cost, meta in rows]
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: never a UnicodeEncodeError here, whatever reached us (rows are validated).
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def content_hash(projects: Iterable[ProjectLike]) -> str:
    """SHA-256 of the projects' names, costs (to the cent) and metadata, in order."""
    return _hash(_normalize_projects(projects))


def _find_budget(session: Session, set_id: int, amount: Decimal) -> Budget | None:
    return session.scalar(
        select(Budget).where(Budget.project_set_id == set_id, Budget.amount == amount)
    )


def get_or_add_budget(session: Session, set_id: int, amount: Decimal) -> Budget:
    """The set's budget of `amount` (already validated), inserted if missing.

    Safe against concurrent writers adding the same amount: the insert runs in a savepoint, and
    when the unique constraint says another transaction stored it first, that row is returned.
    """
    for _attempt in range(3):
        budget = _find_budget(session, set_id, amount)
        if budget is not None:
            return budget
        try:
            with session.begin_nested():
                budget = Budget(project_set_id=set_id, amount=amount)
                session.add(budget)
                session.flush()
            return budget
        except IntegrityError:
            # Another writer committed this amount between our select and our insert.
            continue
    budget = _find_budget(session, set_id, amount)
    if budget is None:
        raise DataValidationError(f"could not store budget {amount} for project set {set_id}")
    return budget


def _add_missing_budgets(session: Session, project_set: ProjectSet, amounts: list[Decimal]) -> None:
    query = select(Budget.amount).where(Budget.project_set_id == project_set.id)
    have = set(session.scalars(query))
    for amount in dict.fromkeys(amounts):
        if amount not in have:
            get_or_add_budget(session, project_set.id, amount)
    session.flush()


def owned_hash(digest: str, owner_id: str | None) -> str:
    """The `content_hash` a set of content `digest` is stored under for `owner_id`: the digest
    itself for sets without an owner, SHA-256 of `owner:<owner>` and the digest for an
    owner's (so each owner has their own copy of the same projects)."""
    if owner_id is None:
        return digest
    return hashlib.sha256(f"owner:{owner_id}\n{digest}".encode()).hexdigest()


def create_project_set(
    *,
    session: Session,
    name: str,
    projects: Iterable[ProjectLike],
    budgets: Iterable[Any] = (),
    generator_params: Mapping[str, Any] | None = None,
    family: str | None = None,
    owner_id: str | None = None,
) -> tuple[ProjectSet, bool]:
    """Store a set with its projects and budgets; `(set, created)`.

    The same projects (by `content_hash`) are stored once: a second call returns the existing
    set with `created=False`, adding any budgets it did not have yet. With an `owner_id` the
    content hash is the owner's (`owned_hash`): each owner has their own copy of the same
    projects, and finds only their own.
    """
    v.text("name", name, max_length=NAME_LENGTH)
    v.text("owner_id", owner_id, max_length=100, required=False)
    params = v.json_doc("generator_params", dict(generator_params) if generator_params else None)
    family = v.text("family", family or (params or {}).get("family") or "custom", max_length=50)
    rows = _normalize_projects(projects)
    amounts = [v.money(f"budgets[{i}]", b) for i, b in enumerate(budgets)]
    digest = owned_hash(_hash(rows), owner_id)

    existing = session.scalar(select(ProjectSet).where(ProjectSet.content_hash == digest))
    if existing is None:
        try:
            with session.begin_nested():
                project_set = ProjectSet(
                    name=name,
                    owner_id=owner_id,
                    family=family,
                    n_projects=len(rows),
                    generator_params=params,
                    content_hash=digest,
                )
                session.add(project_set)
                session.flush()
                session.execute(
                    insert(Project),
                    [
                        {
                            "project_set_id": project_set.id,
                            "position": i,
                            "name": n,
                            "cost": c,
                            "meta": m,
                        }
                        for i, (n, c, m) in enumerate(rows)
                    ],
                )
                _add_missing_budgets(session, project_set, amounts)  # type: ignore[arg-type]
            session.expire(project_set, ["projects", "budgets"])
            return project_set, True
        except IntegrityError:
            # Another writer stored the same content between our check and our insert.
            existing = session.scalar(select(ProjectSet).where(ProjectSet.content_hash == digest))
            if existing is None:
                raise
    _add_missing_budgets(session, existing, amounts)  # type: ignore[arg-type]
    session.expire(existing, ["projects", "budgets"])
    return existing, False


def get_set_with_projects(*, session: Session, set_id: int) -> ProjectSet:
    """The set with its projects and budgets loaded (no run history); NotFoundError if none."""
    project_set = session.scalar(
        select(ProjectSet)
        .where(ProjectSet.id == set_id)
        .options(selectinload(ProjectSet.projects), selectinload(ProjectSet.budgets))
    )
    if project_set is None:
        raise NotFoundError(f"project set {set_id} does not exist")
    return project_set


def get_project_set(
    *, session: Session, set_id: int, limit: int = 50, offset: int = 0
) -> ProjectSetHistory:
    """The set with its projects, budgets and runs[offset:offset+limit], newest run first."""
    if limit < 1 or offset < 0:
        raise DataValidationError(f"limit must be >= 1 and offset >= 0, got {limit}, {offset}")
    project_set = get_set_with_projects(session=session, set_id=set_id)
    total = session.scalar(
        select(func.count()).select_from(AlgorithmRun).where(AlgorithmRun.project_set_id == set_id)
    )
    runs = session.scalars(
        select(AlgorithmRun)
        .where(AlgorithmRun.project_set_id == set_id)
        .order_by(AlgorithmRun.created_at.desc(), AlgorithmRun.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return ProjectSetHistory(project_set, list(runs), int(total or 0), limit, offset)
