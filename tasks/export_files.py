"""The export task: one database's runs and snapshots into its own Parquet root (retried on I/O).

`<data_dir>/exports/<backend>-<hash>/{runs,training_runs,snapshots}`; see `tasks.exporting`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from config import get_settings
from db.runs import plan_filter
from tasks import exporting
from tasks._io import IO_RETRIES, db_session


def exports_folder(data_dir: str | None) -> Path:
    """`<data_dir>/exports`: every database's export root lives under it."""
    return Path(data_dir or get_settings().data_dir) / "exports"


@task(name="export-datasets", cache_policy=NO_CACHE, **IO_RETRIES)
def export_datasets(since: datetime | None, flow_run_id: str | None, database_url: str | None,
                    data_dir: str | None, include_snapshots: bool = True,
                    plan_keys: dict[str, list] | None = None,
                    snapshot_flow_run_id: str | None = None) -> dict[str, Any]:
    """Runs created at/after `since` (or, with `plan_keys`, a benchmark plan's runs, the ones
    already recorded included) and snapshots (at/after `since`, or those taken by
    `snapshot_flow_run_id`) into this database's export root; returns the paths and counts."""
    with db_session(database_url) as session:
        root = exporting.database_root(exports_folder(data_dir), session)
        where = plan_filter(**plan_keys) if plan_keys else None
        runs = exporting.export_runs(session=session, root=root, since=since, where=where,
                                     export_flow_run_id=flow_run_id)
        snaps = (exporting.export_snapshots(session=session, root=root, since=since,
                                            flow_run_id=snapshot_flow_run_id,
                                            export_flow_run_id=flow_run_id)
                 if include_snapshots else {"snapshots": 0, "partitions": 0})
    out = {"export_path": str(root), "runs_path": str(root / exporting.RUNS),
           "training_runs_path": str(root / exporting.TRAINING_RUNS),
           "runs": runs["runs"], "runs_partitions": runs["partitions"],
           "rows_written": runs["rows_written"],
           "snapshots_path": str(root / exporting.SNAPSHOTS) if include_snapshots else None,
           "snapshots": snaps["snapshots"]}
    get_run_logger().info("exported %d runs (%d files, %d rows written) and %d snapshot rows "
                          "to %s", out["runs"], out["runs_partitions"], out["rows_written"],
                          out["snapshots"], root)
    return out
