"""File tasks: Parquet exports and the benchmark plot (retried on I/O errors)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from config import get_settings
from db.runs import plan_filter
from tasks import exporting, plotting
from tasks._io import IO_RETRIES, db_session


def data_path(data_dir: str | None, *parts: str) -> Path:
    """`<data_dir>/<parts...>` (default: the settings' data_dir)."""
    return Path(data_dir or get_settings().data_dir).joinpath(*parts)


def exports_root(data_dir: str | None) -> Path:
    """`<data_dir>/exports`: the stable home of the `runs/` and `snapshots/` datasets."""
    return data_path(data_dir, "exports")


@task(name="export-parquet", cache_policy=NO_CACHE, **IO_RETRIES)
def export_parquet(since: datetime | None, flow_run_id: str | None, database_url: str | None,
                   data_dir: str | None, include_snapshots: bool = True,
                   plan_keys: dict[str, list] | None = None) -> dict[str, Any]:
    """Runs created at/after `since` (or, with `plan_keys`, a benchmark plan's runs, the ones
    already recorded included) into the dataset `<data_dir>/exports/runs`, snapshots into
    `<data_dir>/exports/snapshots`; see `tasks.exporting` (idempotent, partitions rewritten
    whole)."""
    out = exports_root(data_dir)
    where = plan_filter(**plan_keys) if plan_keys else None
    with db_session(database_url) as session:
        runs = exporting.export_runs(session=session, root=out / "runs", since=since,
                                     where=where, export_flow_run_id=flow_run_id)
        snaps = (exporting.export_snapshots(session=session, root=out / "snapshots",
                                            since=since, export_flow_run_id=flow_run_id)
                 if include_snapshots else {"snapshots": 0, "partitions": 0})
    return {"export_path": str(out), "runs_path": str(out / "runs"), "runs": runs["runs"],
            "runs_partitions": runs["partitions"], "rows_written": runs["rows_written"],
            "snapshots_path": str(out / "snapshots") if include_snapshots else None,
            "snapshots": snaps["snapshots"]}


@task(name="plot-time-vs-n", cache_policy=NO_CACHE, **IO_RETRIES)
def plot_results(results: list[dict[str, Any]], name: str, data_dir: str | None) -> str:
    """PNG of median time against n per algorithm (log-log) at `<data_dir>/plots/<name>.png`."""
    return str(plotting.plot_time_vs_n(results, data_path(data_dir, "plots", f"{name}.png")))
