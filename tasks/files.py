"""File tasks: Parquet exports and the benchmark plot (retried on I/O errors)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from config import get_settings
from db.engine import session_scope
from tasks import exporting, plotting
from tasks._io import IO_RETRIES


def data_path(data_dir: str | None, *parts: str) -> Path:
    """`<data_dir>/<parts...>` (default: the settings' data_dir)."""
    return Path(data_dir or get_settings().data_dir).joinpath(*parts)


@task(name="export-parquet", cache_policy=NO_CACHE, **IO_RETRIES)
def export_parquet(name: str, since: datetime | None, flow_run_id: str | None,
                   database_url: str | None, data_dir: str | None,
                   include_snapshots: bool = True) -> dict[str, Any]:
    """Runs (and snapshots) created at/after `since` into `<data_dir>/exports/<name>/runs` and
    `.../snapshots`."""
    out = data_path(data_dir, "exports", name)
    with session_scope(database_url) as session:
        runs = exporting.export_runs(session=session, out_dir=out / "runs", since=since,
                                     export_flow_run_id=flow_run_id)
        snaps = (exporting.export_snapshots(session=session, out_dir=out / "snapshots",
                                            since=since, export_flow_run_id=flow_run_id)
                 if include_snapshots else 0)
    return {"export_path": str(out), "runs_path": str(out / "runs"), "runs": runs,
            "snapshots_path": str(out / "snapshots") if include_snapshots else None,
            "snapshots": snaps}


@task(name="plot-time-vs-n", cache_policy=NO_CACHE, **IO_RETRIES)
def plot_results(results: list[dict[str, Any]], name: str, data_dir: str | None) -> str:
    """PNG of median time against n per algorithm (log-log) at `<data_dir>/plots/<name>.png`."""
    return str(plotting.plot_time_vs_n(results, data_path(data_dir, "plots", f"{name}.png")))
