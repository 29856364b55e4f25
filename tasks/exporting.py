"""Pure export helpers: runs and snapshots to Hive-partitioned Parquet, streamed.

Layout under one export directory (readable by pandas, pyarrow and DuckDB):

    <export>/runs/date=YYYY-MM-DD/algorithm_name=dp/part-<id>-0.parquet
    <export>/snapshots/date=YYYY-MM-DD/part-<id>-0.parquet

Runs are read with `db.exports.iter_run_batches` (a server-side cursor on PostgreSQL) and
written batch by batch, so the table never sits in memory whole. Lineage columns:
`flow_run_id` (the run that produced the row), `export_flow_run_id` and `code_version`.
"""

from __future__ import annotations

import subprocess
from datetime import datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.exports import RUN_SCHEMA, iter_run_batches
from db.models import AnalyticsSnapshot

LINEAGE = [("export_flow_run_id", pa.string()), ("code_version", pa.string())]
RUN_EXPORT_SCHEMA = pa.schema([*RUN_SCHEMA, ("date", pa.date32()), *LINEAGE])
SNAPSHOT_SCHEMA = pa.schema(
    [
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
        ("date", pa.date32()),
        *LINEAGE,
    ]
)
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


def _with_lineage(batch: pa.RecordBatch, export_id: str | None, version: str) -> pa.RecordBatch:
    n = batch.num_rows
    day = pc.cast(batch.column("created_at"), pa.date32())
    return pa.RecordBatch.from_arrays(
        [*batch.columns, day, pa.array([export_id] * n, pa.string()),
         pa.array([version] * n, pa.string())],
        schema=RUN_EXPORT_SCHEMA,
    )


def _write(data, schema: pa.Schema, root: Path, partition: list[str], token: str) -> None:
    ds.write_dataset(
        data,
        root,
        schema=schema,
        format="parquet",
        partitioning=ds.partitioning(
            pa.schema([schema.field(p) for p in partition]), flavor="hive"
        ),
        basename_template=f"part-{token}-{{i}}.parquet",
        existing_data_behavior="delete_matching",
    )


def export_runs(
    *,
    session: Session,
    out_dir: str | Path,
    since: datetime | None = None,
    export_flow_run_id: str | None = None,
    batch_size: int = 50_000,
) -> int:
    """Stream runs (all, or created at/after `since`) into `out_dir`; returns rows written."""
    version = code_version()
    count = 0

    def batches():
        nonlocal count
        for batch in iter_run_batches(session=session, batch_size=batch_size, since=since):
            count += batch.num_rows
            yield _with_lineage(batch, export_flow_run_id, version)

    _write(batches(), RUN_EXPORT_SCHEMA, Path(out_dir), ["date", "algorithm_name"],
           (export_flow_run_id or "manual")[:12])
    return count


def export_snapshots(
    *,
    session: Session,
    out_dir: str | Path,
    since: datetime | None = None,
    export_flow_run_id: str | None = None,
) -> int:
    """Write analytics snapshots (all, or taken at/after `since`) into `out_dir`."""
    stmt = select(AnalyticsSnapshot).order_by(AnalyticsSnapshot.id)
    if since is not None:
        stmt = stmt.where(AnalyticsSnapshot.snapshot_at >= since)
    rows = list(session.scalars(stmt))
    version = code_version()
    names = [f.name for f in SNAPSHOT_SCHEMA][:14]
    columns = {name: [getattr(r, name) for r in rows] for name in names}
    columns["date"] = [r.snapshot_at.date() for r in rows]
    columns["export_flow_run_id"] = [export_flow_run_id] * len(rows)
    columns["code_version"] = [version] * len(rows)
    table = pa.Table.from_pydict(columns, schema=SNAPSHOT_SCHEMA)
    _write(table, SNAPSHOT_SCHEMA, Path(out_dir), ["date"], (export_flow_run_id or "manual")[:12])
    return len(rows)
