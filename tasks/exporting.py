"""Pure export helpers: runs and snapshots into one stable, Hive-partitioned Parquet dataset.

Layout (one root per table, the same for every export, so readers never need a run id):

    <data_dir>/exports/runs/date=YYYY-MM-DD/algorithm_name=dp/part-0.parquet
    <data_dir>/exports/snapshots/date=YYYY-MM-DD/part-0.parquet

    pandas.read_parquet("data/exports/runs")
    pyarrow.dataset.dataset("data/exports/runs", partitioning="hive")
    duckdb: select * from read_parquet('data/exports/runs/**/*.parquet', hive_partitioning=true)

**Idempotent appends.** An export finds the partitions its rows fall in and rewrites each of
them *whole* from the database (every run of that day and algorithm, not only the selected
ones) into a file with a fixed name, written to a hidden temporary file and renamed into place.
Exporting the same runs twice, or overlapping windows, leaves each run exactly once; a killed
export leaves the previous file (readers skip hidden files). Partition columns live in the
path only (Hive style), not inside the files.

Columns are those of `db.exports.RUN_SCHEMA` (n, family, budget, `status`, money as float64
plus an exact `*_exact` text column) with lineage: `flow_run_id` (the run that recorded the
row), `export_flow_run_id` (the export that last wrote its partition) and `code_version`.
Runs are streamed with `db.exports.iter_run_batches` (a server-side cursor on PostgreSQL), so
a partition never sits in memory whole.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import and_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.exports import RUN_SCHEMA, iter_run_batches
from db.models import AlgorithmRun, AnalyticsSnapshot

RUN_PARTITIONS = ("date", "algorithm_name")
SNAPSHOT_PARTITIONS = ("date",)
PART_FILE = "part-0.parquet"
LINEAGE = [("export_flow_run_id", pa.string()), ("code_version", pa.string())]
RUN_FILE_SCHEMA = pa.schema([*(f for f in RUN_SCHEMA if f.name not in RUN_PARTITIONS),
                             *LINEAGE])
_SNAPSHOT_COLUMNS = [
    ("id", pa.int64()),
    ("snapshot_at", pa.timestamp("us", tz="UTC")),
    ("algorithm_name", pa.string()),
    ("size_bucket", pa.string()),
    ("family", pa.string()),
    ("run_count", pa.int64()),
    ("exact_rate", pa.float64()),
    ("time_mean", pa.float64()),
    ("time_p50", pa.float64()),
    ("time_p95", pa.float64()),
    ("memory_mean", pa.float64()),
    ("memory_max", pa.float64()),
    ("accuracy_mean", pa.float64()),
    ("flow_run_id", pa.string()),
]
SNAPSHOT_FILE_SCHEMA = pa.schema([*_SNAPSHOT_COLUMNS, *LINEAGE])
_REPO = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=1)
def code_version() -> str:
    """The git commit of the code (short), else the installed package version."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=_REPO,
                             capture_output=True, text=True, timeout=5, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        try:
            return metadata.version("budget-allocation")
        except metadata.PackageNotFoundError:
            return "unknown"


def utc_day(when: datetime) -> date:
    """The UTC date of a timestamp (SQLite hands back naive datetimes, stored as UTC)."""
    return (when if when.tzinfo is None else when.astimezone(UTC)).date()


def _day_range(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, UTC)
    return start, start + timedelta(days=1)


def _lineage(batch: pa.RecordBatch, schema: pa.Schema, export_id: str | None,
             version: str) -> pa.RecordBatch:
    n = batch.num_rows
    columns = [batch.column(f.name) for f in schema if f.name not in dict(LINEAGE)]
    return pa.RecordBatch.from_arrays(
        [*columns, pa.array([export_id] * n, pa.string()), pa.array([version] * n, pa.string())],
        schema=schema)


def _write_file(path: Path, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> int:
    """Write `batches` to `path` atomically (hidden temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    written = 0
    try:
        with pq.ParquetWriter(tmp, schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
                written += batch.num_rows
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return written


def _filtered(stmt, column, since: datetime | None, where: ColumnElement[bool] | None):
    if since is not None:
        stmt = stmt.where(column >= since)
    if where is not None:
        stmt = stmt.where(where)
    return stmt


def run_partitions(*, session: Session, since: datetime | None = None,
                   where: ColumnElement[bool] | None = None,
                   batch_size: int = 50_000) -> tuple[int, set[tuple[date, str]]]:
    """How many runs match, and the (UTC date, algorithm) partitions they fall in."""
    runs = AlgorithmRun.__table__
    stmt = _filtered(select(runs.c.created_at, runs.c.algorithm_name), runs.c.created_at,
                     since, where)
    count, keys = 0, set()
    for created, algorithm in session.execute(stmt, execution_options={"yield_per": batch_size}):
        count += 1
        keys.add((utc_day(created), algorithm))
    return count, keys


def export_runs(
    *,
    session: Session,
    root: str | Path,
    since: datetime | None = None,
    where: ColumnElement[bool] | None = None,
    export_flow_run_id: str | None = None,
    batch_size: int = 50_000,
) -> dict[str, int]:
    """Export the runs matching `since`/`where` (default: all) into the dataset at `root` by
    rewriting every partition they fall in; returns `runs` (matched), `partitions` and
    `rows_written` (every row of the rewritten partitions)."""
    runs = AlgorithmRun.__table__
    count, keys = run_partitions(session=session, since=since, where=where,
                                 batch_size=batch_size)
    version, written = code_version(), 0
    for day, algorithm in sorted(keys):
        start, end = _day_range(day)
        cond = and_(runs.c.algorithm_name == algorithm, runs.c.created_at >= start,
                    runs.c.created_at < end)
        batches = (_lineage(b, RUN_FILE_SCHEMA, export_flow_run_id, version)
                   for b in iter_run_batches(session=session, batch_size=batch_size, where=cond))
        path = Path(root) / f"date={day.isoformat()}" / f"algorithm_name={algorithm}" / PART_FILE
        written += _write_file(path, RUN_FILE_SCHEMA, batches)
    return {"runs": count, "partitions": len(keys), "rows_written": written}


def _snapshot_batches(rows: list[AnalyticsSnapshot], export_id: str | None,
                      version: str) -> Iterator[pa.RecordBatch]:
    names = [name for name, _ in _SNAPSHOT_COLUMNS]
    columns: dict[str, Any] = {name: [getattr(r, name) for r in rows] for name in names}
    columns["export_flow_run_id"] = [export_id] * len(rows)
    columns["code_version"] = [version] * len(rows)
    yield pa.RecordBatch.from_pydict(columns, schema=SNAPSHOT_FILE_SCHEMA)


def export_snapshots(
    *,
    session: Session,
    root: str | Path,
    since: datetime | None = None,
    export_flow_run_id: str | None = None,
) -> dict[str, int]:
    """Export analytics snapshots (all, or taken at/after `since`) into the dataset at `root`,
    rewriting each day they fall in whole; returns `snapshots` (matched) and `partitions`."""
    snap = AnalyticsSnapshot
    stmt = _filtered(select(snap.snapshot_at), snap.snapshot_at, since, None)
    stamps = list(session.scalars(stmt))
    days = sorted({utc_day(s) for s in stamps})
    version = code_version()
    for day in days:
        start, end = _day_range(day)
        rows = list(session.scalars(select(snap).where(snap.snapshot_at >= start,
                                                       snap.snapshot_at < end)
                                    .order_by(snap.id)))
        path = Path(root) / f"date={day.isoformat()}" / PART_FILE
        _write_file(path, SNAPSHOT_FILE_SCHEMA, _snapshot_batches(rows, export_flow_run_id,
                                                                  version))
    return {"snapshots": len(stamps), "partitions": len(days)}
