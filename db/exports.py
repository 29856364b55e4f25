"""Stream runs out as self-describing Arrow record batches; the table never sits in memory whole.

Each row carries what a reader needs without joining anything: the set's `family` and `n`, the
budget amount, the run's `status` (the name the CLI and the API use; the column is
`match_type` in the database) and the money both ways:

    total_cost, upper_bound, budget         float64 (pandas gets a number, not an object)
    total_cost_exact, upper_bound_exact, budget_exact   the exact amount as text (money_text:
                                                        "1650", "1650.75")

float64 is exact up to 2**53 (about 9·10**15 with cents as integers, 9·10**13 as money); beyond
that use the `*_exact` columns (`Decimal(row.total_cost_exact)`).

The query runs with `yield_per` (a server-side cursor on PostgreSQL), and each partition of
`batch_size` rows becomes one `pyarrow.RecordBatch` with the fixed `RUN_SCHEMA`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.models import AlgorithmRun, Budget, ProjectSet
from solvers.money import money_text  # the one money format (tests/test_layering.py: allowed)

RUN_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("project_set_id", pa.int64()),
        ("budget_id", pa.int64()),
        ("family", pa.string()),
        ("n", pa.int32()),
        ("budget", pa.float64()),
        ("budget_exact", pa.string()),
        ("algorithm_name", pa.string()),
        ("requested_algorithm", pa.string()),
        ("status", pa.string()),
        ("selected_projects", pa.list_(pa.int32())),
        ("total_cost", pa.float64()),
        ("total_cost_exact", pa.string()),
        ("upper_bound", pa.float64()),
        ("upper_bound_exact", pa.string()),
        ("execution_time", pa.float64()),
        ("memory_used", pa.float64()),
        ("reason", pa.string()),
        ("selector", pa.string()),
        ("flow_run_id", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)
_MONEY = ("budget", "total_cost", "upper_bound")


def _query() -> Select:
    runs, sets, budgets = AlgorithmRun.__table__, ProjectSet.__table__, Budget.__table__
    return (
        select(runs.c.id, runs.c.project_set_id, runs.c.budget_id, sets.c.family,
               sets.c.n_projects.label("n"), budgets.c.amount.label("budget"),
               runs.c.algorithm_name, runs.c.requested_algorithm,
               runs.c.match_type.label("status"), runs.c.selected_projects, runs.c.total_cost,
               runs.c.upper_bound, runs.c.execution_time, runs.c.memory_used, runs.c.reason,
               runs.c.selector, runs.c.flow_run_id, runs.c.created_at)
        .join(sets, sets.c.id == runs.c.project_set_id)
        .join(budgets, budgets.c.id == runs.c.budget_id)
        .order_by(runs.c.id)
    )


def _exact(value: Any) -> str | None:
    """The stored amount as its exact text, by the one rule (`money_text`: "1650", "1650.75")."""
    if value is None:
        return None
    if not isinstance(value, int | Decimal):  # a driver handing back a float: its stored cents
        value = Decimal(str(value)).quantize(Decimal("0.01"))
    return money_text(value)


def _batch(rows: list[Any], keys: list[str]) -> pa.RecordBatch:
    columns: dict[str, Any] = dict(zip(keys, zip(*rows, strict=True), strict=True))
    for name in _MONEY:
        values = columns[name]
        columns[name] = [None if v is None else float(v) for v in values]
        columns[f"{name}_exact"] = [_exact(v) for v in values]
    return pa.RecordBatch.from_arrays(
        [pa.array(columns[f.name], type=f.type) for f in RUN_SCHEMA], schema=RUN_SCHEMA)


def iter_run_batches(
    *,
    session: Session,
    batch_size: int = 50_000,
    project_set_id: int | None = None,
    since: datetime | None = None,
    where: ColumnElement[bool] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Yield runs (optionally of one set, created at/after `since`, or matching `where`, a
    condition on `algorithm_runs` columns) in id order, as `RUN_SCHEMA` batches."""
    runs = AlgorithmRun.__table__
    stmt = _query()
    if project_set_id is not None:
        stmt = stmt.where(runs.c.project_set_id == project_set_id)
    if since is not None:
        stmt = stmt.where(runs.c.created_at >= since)
    if where is not None:
        stmt = stmt.where(where)
    result = session.execute(stmt, execution_options={"yield_per": batch_size})
    keys = list(result.keys())
    try:
        for rows in result.partitions():
            yield _batch(list(rows), keys)
    finally:
        result.close()


def export_runs_parquet(
    *, session: Session, path: str | Path, batch_size: int = 50_000, **filters: object
) -> int:
    """Write runs to a Parquet file batch by batch; returns the number of rows written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with pq.ParquetWriter(path, RUN_SCHEMA) as writer:
        for batch in iter_run_batches(session=session, batch_size=batch_size, **filters):  # type: ignore[arg-type]
            writer.write_batch(batch)
            written += batch.num_rows
    return written
