"""Stream runs out as Arrow record batches; the table never sits in memory whole.

The query runs with `yield_per` (a server-side cursor on PostgreSQL), and each partition of
`batch_size` rows becomes one `pyarrow.RecordBatch` with a fixed schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AlgorithmRun

RUN_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("project_set_id", pa.int64()),
        ("budget_id", pa.int64()),
        ("algorithm_name", pa.string()),
        ("requested_algorithm", pa.string()),
        ("selected_projects", pa.list_(pa.int32())),
        ("total_cost", pa.decimal128(20, 2)),
        ("execution_time", pa.float64()),
        ("memory_used", pa.float64()),
        ("match_type", pa.string()),
        ("upper_bound", pa.decimal128(20, 2)),
        ("reason", pa.string()),
        ("selector", pa.string()),
        ("flow_run_id", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)


def iter_run_batches(
    *,
    session: Session,
    batch_size: int = 50_000,
    project_set_id: int | None = None,
    since: datetime | None = None,
) -> Iterator[pa.RecordBatch]:
    """Yield runs (optionally of one set, or created at/after `since`) in id order."""
    table = AlgorithmRun.__table__
    stmt = select(*[table.c[name] for name in RUN_SCHEMA.names]).order_by(table.c.id)
    if project_set_id is not None:
        stmt = stmt.where(table.c.project_set_id == project_set_id)
    if since is not None:
        stmt = stmt.where(table.c.created_at >= since)
    result = session.execute(stmt, execution_options={"yield_per": batch_size})
    try:
        for rows in result.partitions():
            columns = list(zip(*rows, strict=True))
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(col, type=field.type)
                    for col, field in zip(columns, RUN_SCHEMA, strict=True)
                ],
                schema=RUN_SCHEMA,
            )
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
