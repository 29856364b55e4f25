"""Model registry: versions of a trained model, movable aliases, champion history.

Also the training history the selector learns from (generated instances stored as project
sets with one budget, plus their runs, read back as plain records).

* `register_version` numbers versions per model name (1, 2, ...); versions are never deleted.
* `promote` points the `champion` alias at a version and appends `champion#<seq>` to the
  alias history; `demote` removes the `champion` alias (``auto`` is back on the rules) and
  appends `champion#<seq>:rules` (pointing at the version it demoted); `rollback` drops the
  newest history entry and restores the state before it (a version, or the rules after a
  demote). (The history lives in `model_aliases` rows, since there is no event table.)
* Every function takes the session as `session=` and leaves committing to the caller.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db import _validate as v
from db.datasets import create_project_set
from db.errors import DataValidationError, NotFoundError
from db.models import AlgorithmRun, Budget, ModelAlias, ModelVersion, Project, ProjectSet
from db.runs import record_runs

CHAMPION = "champion"
_HISTORY = "#"
_DEMOTED = ":rules"  # suffix of a history entry that records a demote
REFUSAL_PREFIX = "not run: "  # reason of the refusal rows older histories stored as failed

__all__ = [
    "CHAMPION",
    "alias_history",
    "count_training_instances",
    "demote",
    "get_alias",
    "get_champion",
    "get_version",
    "list_versions",
    "load_training_history",
    "promote",
    "register_version",
    "rollback",
    "set_alias",
    "store_training_history",
    "version_info",
]


def _json_safe(value: Any) -> Any:
    """JSON columns refuse NaN/inf: they become None; tuples become lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(x) for k, x in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(x) for x in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def register_version(
    *,
    session: Session,
    name: str,
    sha256: str,
    path: str,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    feature_names: Iterable[str] | None = None,
    class_order: Iterable[str] | None = None,
    library_versions: Mapping[str, str] | None = None,
    training_window_start: datetime | None = None,
    training_window_end: datetime | None = None,
) -> ModelVersion:
    """Store a new version of `name` (its number: one more than the highest so far)."""
    v.text("name", name, max_length=100)
    v.text("path", path, max_length=500)
    if not isinstance(sha256, str) or len(sha256) != 64:
        raise DataValidationError(f"sha256 must be 64 hex characters, got {sha256!r}")
    for _attempt in range(3):
        latest = session.scalar(select(func.max(ModelVersion.version))
                                .where(ModelVersion.name == name))
        row = ModelVersion(
            name=name, version=(latest or 0) + 1, sha256=sha256, path=path,
            params=_json_safe(dict(params or {})), metrics=_json_safe(dict(metrics or {})),
            feature_names=list(feature_names or []), class_order=list(class_order or []),
            library_versions=dict(library_versions or {}),
            training_window_start=training_window_start,
            training_window_end=training_window_end,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
            return row
        except IntegrityError:  # a concurrent writer took the number: take the next one
            continue
    raise DataValidationError(f"could not allocate a version number for model {name!r}")


def get_version(*, session: Session, name: str, version: int) -> ModelVersion:
    """Version `version` of `name`; `NotFoundError` if there is none."""
    row = session.scalar(select(ModelVersion).where(ModelVersion.name == name,
                                                    ModelVersion.version == version))
    if row is None:
        raise NotFoundError(f"model {name!r} has no version {version}")
    return row


def list_versions(*, session: Session, name: str | None = None) -> list[ModelVersion]:
    """Versions (of one name, or all), newest first."""
    stmt = select(ModelVersion).order_by(ModelVersion.name, ModelVersion.version.desc())
    if name is not None:
        stmt = stmt.where(ModelVersion.name == name)
    return list(session.scalars(stmt))


def aliases(*, session: Session, name: str) -> dict[int, list[str]]:
    """version number → its current aliases (history entries excluded)."""
    rows = session.execute(
        select(ModelAlias.alias, ModelVersion.version)
        .join(ModelVersion, ModelAlias.model_version_id == ModelVersion.id)
        .where(ModelAlias.model_name == name)
    )
    out: dict[int, list[str]] = {}
    for alias, version in rows:
        if _HISTORY not in alias:
            out.setdefault(version, []).append(alias)
    return out


def set_alias(*, session: Session, name: str, alias: str, version: int) -> ModelAlias:
    """Point `alias` of model `name` at `version` (created or moved)."""
    v.text("alias", alias, max_length=50)
    target = get_version(session=session, name=name, version=version)
    row = session.scalar(select(ModelAlias).where(ModelAlias.model_name == name,
                                                  ModelAlias.alias == alias))
    if row is None:
        row = ModelAlias(model_name=name, alias=alias, model_version_id=target.id)
        session.add(row)
    else:
        row.model_version_id = target.id
        row.updated_at = func.now()
    session.flush()
    return row


def get_alias(*, session: Session, name: str, alias: str) -> ModelVersion | None:
    """The version `alias` points at, or None."""
    return session.scalar(
        select(ModelVersion)
        .join(ModelAlias, ModelAlias.model_version_id == ModelVersion.id)
        .where(ModelAlias.model_name == name, ModelAlias.alias == alias)
    )


def get_champion(*, session: Session, name: str) -> ModelVersion | None:
    """The current champion of `name`, or None when nothing was promoted yet."""
    return get_alias(session=session, name=name, alias=CHAMPION)


def _history(session: Session, name: str, alias: str
             ) -> list[tuple[int, bool, ModelAlias]]:
    """(seq, demoted, row) of every history entry of `alias`, oldest first."""
    prefix = f"{alias}{_HISTORY}"
    rows = session.scalars(select(ModelAlias).where(ModelAlias.model_name == name,
                                                    ModelAlias.alias.like(f"{prefix}%")))
    entries = []
    for row in rows:
        suffix = row.alias[len(prefix):]
        demoted = suffix.endswith(_DEMOTED)
        if demoted:
            suffix = suffix[: -len(_DEMOTED)]
        if suffix.isdigit():
            entries.append((int(suffix), demoted, row))
    return sorted(entries, key=lambda e: e[0])


def _append(session: Session, name: str, alias: str, version: int, demoted: bool) -> None:
    history = _history(session, name, alias)
    seq = history[-1][0] + 1 if history else 1
    tag = f"{alias}{_HISTORY}{seq}{_DEMOTED if demoted else ''}"
    set_alias(session=session, name=name, alias=tag, version=version)


def _drop_alias(session: Session, name: str, alias: str) -> None:
    session.execute(delete(ModelAlias).where(ModelAlias.model_name == name,
                                             ModelAlias.alias == alias))
    session.flush()


def promote(*, session: Session, name: str, version: int, alias: str = CHAMPION) -> ModelAlias:
    """Point `alias` at `version` and append the move to the alias history."""
    current = get_alias(session=session, name=name, alias=alias)
    if current is not None and current.version == version:
        return set_alias(session=session, name=name, alias=alias, version=version)
    get_version(session=session, name=name, version=version)  # NotFoundError before any write
    _append(session, name, alias, version, demoted=False)
    return set_alias(session=session, name=name, alias=alias, version=version)


def demote(*, session: Session, name: str, alias: str = CHAMPION) -> ModelVersion | None:
    """Remove `alias` (for the champion: ``auto`` uses the rules again) and record it in the
    alias history; returns the version it pointed at, or None when it pointed at nothing
    (then nothing changes)."""
    current = get_alias(session=session, name=name, alias=alias)
    if current is None:
        return None
    _append(session, name, alias, current.version, demoted=True)
    _drop_alias(session, name, alias)
    return current


def rollback(*, session: Session, name: str, alias: str = CHAMPION) -> ModelVersion | None:
    """Undo the last move of `alias`: back to the version it pointed at before, or to no
    version (the rules) when the move being undone followed a demote.

    Returns the version `alias` now points at (None: the rules). Raises `NotFoundError` when
    there is no earlier state to go back to.
    """
    history = _history(session, name, alias)
    if len(history) < 2:
        raise NotFoundError(f"model {name!r}: no earlier {alias} to roll back to")
    session.execute(delete(ModelAlias).where(ModelAlias.id == history[-1][2].id))
    _seq, demoted, before = history[-2]
    if demoted:
        _drop_alias(session, name, alias)
        return None
    previous = session.get(ModelVersion, before.model_version_id)
    assert previous is not None  # the foreign key keeps it
    set_alias(session=session, name=name, alias=alias, version=previous.version)
    return previous


def alias_history(*, session: Session, name: str, alias: str = CHAMPION
                  ) -> list[dict[str, Any]]:
    """Every recorded move of `alias`, oldest first: `seq`, `action` (promote or demote),
    `version` (promoted, or demoted), `at`."""
    out = []
    for seq, demoted, row in _history(session, name, alias):
        version = session.get(ModelVersion, row.model_version_id)
        out.append({"seq": seq, "action": "demote" if demoted else "promote",
                    "version": version.version if version is not None else None,
                    "at": row.updated_at})
    return out


def version_info(row: ModelVersion) -> dict[str, Any]:
    """A version as plain data (what `ml.serving.load_selector` takes)."""
    return {
        "id": row.id, "name": row.name, "version": row.version, "sha256": row.sha256,
        "path": row.path, "params": row.params or {}, "metrics": row.metrics or {},
        "feature_names": list(row.feature_names or []),
        "class_order": list(row.class_order or []),
        "library_versions": row.library_versions or {},
        "training_window_start": row.training_window_start,
        "training_window_end": row.training_window_end, "created_at": row.created_at,
    }


# ------------------------------------------------------------------ training history


def store_training_history(*, session: Session, records: Iterable[Mapping[str, Any]],
                           flow_run_id: str | None = None) -> int:
    """Store generated instances (one project set and one budget each) and their runs.

    A record: `family`, `n`, `seed`, `params`, `projects`, `budget`, `runs` (solver result
    rows; `time_limit` goes into the set's generator params). Returns how many runs.
    """
    rows: list[dict[str, Any]] = []
    for rec in records:
        runs = list(rec["runs"])
        time_limit = runs[0].get("time_limit") if runs else None
        params = {"family": rec["family"], "n": rec["n"], "seed": rec["seed"],
                  "params": rec.get("params") or {}, "time_limit": time_limit}
        project_set, _ = create_project_set(
            session=session, name=f"{rec['family']}-n{rec['n']}-s{rec['seed']}",
            projects=rec["projects"], budgets=[rec["budget"]],
            generator_params=_json_safe(params), family=rec["family"])
        amount = v.money("budget", rec["budget"])
        budget_id = session.scalar(select(Budget.id).where(
            Budget.project_set_id == project_set.id, Budget.amount == amount))
        for run in runs:
            rows.append({**run, "project_set_id": project_set.id, "budget_id": budget_id,
                         "requested_algorithm": run.get("algorithm"),
                         "flow_run_id": flow_run_id})
    # Training measurements may repeat a pair (each training run times its own instances).
    return record_runs(session=session, runs=rows, kind="training")


def count_training_instances(*, session: Session, since: datetime | None = None,
                             min_algorithms: int = 1) -> int:
    """How many (set, budget) pairs have runs of at least `min_algorithms` distinct algorithms
    (created at/after `since`)."""
    inner = select(AlgorithmRun.budget_id).group_by(AlgorithmRun.budget_id).having(
        func.count(func.distinct(AlgorithmRun.algorithm_name)) >= min_algorithms)
    if since is not None:
        inner = inner.where(AlgorithmRun.created_at >= since)
    return int(session.scalar(select(func.count()).select_from(inner.subquery())) or 0)


def load_training_history(*, session: Session, since: datetime | None = None,
                          algorithms: Iterable[str] | None = None
                          ) -> tuple[list[dict[str, Any]], datetime | None, datetime | None]:
    """Runs grouped per (set, budget) as records, and the window (first, last run time).

    A record: `key` ("<set id>:<budget id>"), `family`, `projects` (costs as Decimal),
    `budget`, `runs` (`algorithm`, `status`, `total_cost`, `execution_time`, `created_at`).
    """
    stmt = (select(AlgorithmRun.project_set_id, AlgorithmRun.budget_id,
                   AlgorithmRun.algorithm_name, AlgorithmRun.match_type,
                   AlgorithmRun.total_cost, AlgorithmRun.execution_time,
                   AlgorithmRun.created_at)
            .order_by(AlgorithmRun.budget_id, AlgorithmRun.id))
    # older histories stored refusals ("not run: brute_force refuses ...") as failed runs:
    # they were never run, so they are no history (the dataset costs a refusal PAR10 anyway)
    stmt = stmt.where(or_(AlgorithmRun.reason.is_(None),
                          ~AlgorithmRun.reason.like(f"{REFUSAL_PREFIX}%")))
    if since is not None:
        stmt = stmt.where(AlgorithmRun.created_at >= since)
    if algorithms is not None:
        stmt = stmt.where(AlgorithmRun.algorithm_name.in_(list(algorithms)))
    grouped: dict[tuple[int, int], list[dict[str, Any]]] = {}
    first: datetime | None = None
    last: datetime | None = None
    for set_id, budget_id, name, status, total, seconds, created in session.execute(stmt):
        grouped.setdefault((set_id, budget_id), []).append(
            {"algorithm": name, "status": status, "total_cost": total,
             "execution_time": seconds, "created_at": created})
        first = created if first is None or created < first else first
        last = created if last is None or created > last else last
    if not grouped:
        return [], None, None
    set_ids = sorted({s for s, _ in grouped})
    costs: dict[int, list[Decimal]] = {}
    families: dict[int, str] = {}
    for start in range(0, len(set_ids), 5_000):
        chunk = set_ids[start:start + 5_000]
        for set_id, cost in session.execute(
                select(Project.project_set_id, Project.cost)
                .where(Project.project_set_id.in_(chunk))
                .order_by(Project.project_set_id, Project.position)):
            costs.setdefault(set_id, []).append(cost)
        families.update(session.execute(
            select(ProjectSet.id, ProjectSet.family).where(ProjectSet.id.in_(chunk))).all())
    amounts = dict(session.execute(
        select(Budget.id, Budget.amount).where(Budget.id.in_([b for _, b in grouped]))).all())
    records = [
        {"key": f"{s}:{b}", "family": families.get(s, "custom"), "projects": costs.get(s, []),
         "budget": amounts[b], "runs": runs}
        for (s, b), runs in grouped.items()
    ]
    return records, first, last
