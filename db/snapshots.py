"""Analytics snapshots: per algorithm × size bucket × family, aggregated in SQL.

"Algorithm" is the one that was requested (`coalesce(requested_algorithm, algorithm_name)`):
`auto` and `hybrid` get rows of their own instead of being counted under the algorithm they
ran; runs recorded without a request count under the algorithm that ran.

One `INSERT ... SELECT` writes the whole snapshot, so it lands completely or not at all.
Percentiles follow PostgreSQL's `percentile_cont` (linear interpolation between the two
nearest ranks). PostgreSQL computes them natively; other databases (SQLite) use the same
formula over `row_number()` windows, so both give the same numbers.

Only user-facing runs are aggregated (`SNAPSHOT_KINDS`: benchmark, remeasure, user), never
the selector's replay or training runs. A snapshot restricted by `where` (a benchmark plan)
computes `best` over the budgets of its runs only, so its cost is the plan's, not the table's.

Definitions: `exact_rate` = share of runs with status "exact"; time and memory statistics
cover all runs; `accuracy_mean` = mean of total_cost / best known total for the same set and
budget (best = highest total among non-failed runs of any kind, the proven optimum whenever
one of them is exact; 1.0 when that best is 0), over non-failed runs only (NULL when a group
has none).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.models import AlgorithmRun, AnalyticsSnapshot, ProjectSet

_KEYS = ("algorithm_name", "size_bucket", "family")
SNAPSHOT_KINDS = ("benchmark", "remeasure", "user")
"""Runs a snapshot aggregates: never the selector's replay or training runs."""


def size_bucket(n: int) -> str:
    """The bucket name for a set of `n` projects (same thresholds as the SQL)."""
    return "small" if n < 20 else "medium" if n < 100 else "large" if n < 1000 else "xlarge"


def _bucket_sql(n: ColumnElement[int]) -> ColumnElement[str]:
    return case((n < 20, "small"), (n < 100, "medium"), (n < 1000, "large"), else_="xlarge")


def _base(since: datetime | None, where: ColumnElement[bool] | None = None):
    runs, sets = AlgorithmRun.__table__, ProjectSet.__table__
    best = select(runs.c.project_set_id, runs.c.budget_id,
                  func.max(runs.c.total_cost).label("best")).where(runs.c.match_type != "failed")
    if where is not None:  # a plan's snapshot: best over its budgets only (same values)
        best = best.where(runs.c.budget_id.in_(
            select(runs.c.budget_id).where(where).distinct().correlate(None)))
    best = best.group_by(runs.c.project_set_id, runs.c.budget_id).subquery("best")
    accuracy = case(
        (runs.c.match_type == "failed", None),
        (best.c.best > 0, cast(runs.c.total_cost, Float) / cast(best.c.best, Float)),
        else_=1.0,
    )
    stmt = (
        select(
            func.coalesce(runs.c.requested_algorithm, runs.c.algorithm_name).label(
                "algorithm_name"),
            _bucket_sql(sets.c.n_projects).label("size_bucket"),
            sets.c.family,
            case((runs.c.match_type == "exact", 1.0), else_=0.0).label("is_exact"),
            runs.c.execution_time.label("t"),
            runs.c.memory_used.label("mem"),
            accuracy.label("accuracy"),
        )
        .select_from(runs)
        .join(sets, sets.c.id == runs.c.project_set_id)
        .outerjoin(
            best,
            and_(
                best.c.project_set_id == runs.c.project_set_id, best.c.budget_id == runs.c.budget_id
            ),
        )
    )
    stmt = stmt.where(runs.c.kind.in_(SNAPSHOT_KINDS))
    if since is not None:
        stmt = stmt.where(runs.c.created_at >= since)
    if where is not None:
        stmt = stmt.where(where)
    return stmt


def _aggregate_postgresql(base):
    b = base.subquery("b")
    return select(
        b.c.algorithm_name,
        b.c.size_bucket,
        b.c.family,
        func.count().label("run_count"),
        func.avg(b.c.is_exact).label("exact_rate"),
        func.avg(b.c.t).label("time_mean"),
        func.percentile_cont(0.5).within_group(b.c.t).label("time_p50"),
        func.percentile_cont(0.95).within_group(b.c.t).label("time_p95"),
        func.avg(b.c.mem).label("memory_mean"),
        func.max(b.c.mem).label("memory_max"),
        func.avg(b.c.accuracy).label("accuracy_mean"),
    ).group_by(b.c.algorithm_name, b.c.size_bucket, b.c.family)


def _aggregate_portable(base):
    b = base.subquery("b")
    keys = [b.c[k] for k in _KEYS]
    ranked = select(
        b,
        (func.row_number().over(partition_by=keys, order_by=b.c.t) - 1).label("rn"),
        func.count().over(partition_by=keys).label("cnt"),
    ).subquery("r")

    def percentile(p: float) -> ColumnElement[float]:
        # percentile_cont: h = (N-1)p; value = x[lo] + (h - lo)(x[lo+1] - x[lo]), lo = floor h
        h = (ranked.c.cnt - 1) * p
        lo = cast(h, Integer)
        frac = h - lo
        return func.sum(
            case(
                (ranked.c.rn == lo, ranked.c.t * (1 - frac)),
                (ranked.c.rn == lo + 1, ranked.c.t * frac),
                else_=0.0,
            )
        )

    rkeys = [ranked.c[k] for k in _KEYS]
    return select(
        *rkeys,
        func.count().label("run_count"),
        func.avg(ranked.c.is_exact).label("exact_rate"),
        func.avg(ranked.c.t).label("time_mean"),
        percentile(0.5).label("time_p50"),
        percentile(0.95).label("time_p95"),
        func.avg(ranked.c.mem).label("memory_mean"),
        func.max(ranked.c.mem).label("memory_max"),
        func.avg(ranked.c.accuracy).label("accuracy_mean"),
    ).group_by(*rkeys)


def compute_snapshot(
    *,
    session: Session,
    snapshot_at: datetime | None = None,
    since: datetime | None = None,
    flow_run_id: str | None = None,
    where: ColumnElement[bool] | None = None,
) -> list[AnalyticsSnapshot]:
    """Aggregate runs (all, those created at/after `since`, or those matching `where`, e.g.
    `db.runs.plan_filter(...)` for one benchmark plan) into snapshot rows; return them.

    The rows share `snapshot_at` (default: now, UTC) and are written in one statement inside a
    SAVEPOINT, so a failure leaves no partial snapshot behind.
    """
    snapshot_at = snapshot_at or datetime.now(UTC)
    base = _base(since, where)
    dialect = session.get_bind().dialect.name
    agg = (_aggregate_postgresql if dialect == "postgresql" else _aggregate_portable)(base)
    agg = agg.subquery("agg")
    columns = [
        "snapshot_at",
        *_KEYS,
        "run_count",
        "exact_rate",
        "time_mean",
        "time_p50",
        "time_p95",
        "memory_mean",
        "memory_max",
        "accuracy_mean",
        "flow_run_id",
    ]
    source = select(
        literal(snapshot_at, DateTime(timezone=True)),
        *[agg.c[k] for k in _KEYS],
        agg.c.run_count,
        *[cast(agg.c[c], Float) for c in columns[5:12]],
        literal(flow_run_id, String(64)),
    )
    with session.begin_nested():
        session.execute(insert(AnalyticsSnapshot).from_select(columns, source))
    return list(
        session.scalars(
            select(AnalyticsSnapshot)
            .where(AnalyticsSnapshot.snapshot_at == snapshot_at)
            .order_by(*[getattr(AnalyticsSnapshot, k) for k in _KEYS])
        )
    )
