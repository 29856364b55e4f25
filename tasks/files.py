"""File tasks: the benchmark plot (retried on I/O errors); Parquet exports are in
`tasks/export_files.py`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from config import get_settings
from tasks import plotting
from tasks._io import IO_RETRIES


def data_path(data_dir: str | None, *parts: str) -> Path:
    """`<data_dir>/<parts...>` (default: the settings' data_dir)."""
    return Path(data_dir or get_settings().data_dir).joinpath(*parts)


@task(name="plot-time-vs-n", cache_policy=NO_CACHE, **IO_RETRIES)
def plot_results(results: list[dict[str, Any]], name: str, data_dir: str | None) -> str:
    """PNG of median time against n per algorithm (log-log) at `<data_dir>/plots/<name>.png`."""
    return str(plotting.plot_time_vs_n(results, data_path(data_dir, "plots", f"{name}.png")))
