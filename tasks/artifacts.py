"""Prefect artifacts of a benchmark: progress as batches finish, the snapshot table, a summary.

`BatchProgress` is called from the flow as each batch finishes; it updates the run's progress
artifact and any in-process listeners (the CLI's progress bar on a terminal).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE

from tasks._io import IO_RETRIES

Listener = Callable[[int, int], None]
_listeners: list[Listener] = []
_lock = threading.Lock()


def add_progress_listener(listener: Listener) -> None:
    """Call `listener(done, total)` whenever a batch of any flow in this process finishes."""
    with _lock:
        _listeners.append(listener)


def remove_progress_listener(listener: Listener) -> None:
    """Stop calling `listener`."""
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


class BatchProgress:
    """A progress artifact (0-100 %) advanced one batch at a time."""

    def __init__(self, total: int, key: str = "benchmark-progress") -> None:
        self.total, self.done = max(total, 1), 0
        self.artifact_id = create_progress_artifact(
            0.0, key=key, description=f"solver batches finished (of {total})")
        self._notify()

    def advance(self, batches: int = 1) -> None:
        """Count `batches` more as finished."""
        self.done += batches
        update_progress_artifact(self.artifact_id, 100.0 * self.done / self.total)
        self._notify()

    def _notify(self) -> None:
        with _lock:
            listeners = list(_listeners)
        for listener in listeners:
            listener(self.done, self.total)


def _fmt(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def summary_markdown(summary: dict[str, Any], skipped: list[dict[str, Any]]) -> str:
    """The benchmark's summary as markdown, linking the Parquet export and the plot."""
    lines = ["# Benchmark summary", "",
             "| metric | value |", "|---|---|"]
    for key in ("flow_run_id", "instances", "runs", "skipped", "already_recorded",
                "wall_seconds", "solver_seconds", "orchestration_overhead", "snapshot_rows"):
        lines.append(f"| {key} | {summary.get(key)} |")
    lines.append(f"| statuses | {summary.get('statuses')} |")
    if summary.get("export_path"):
        uri = Path(summary["export_path"]).resolve().as_uri()
        lines += ["", f"Parquet export: [{summary['export_path']}]({uri})"]
    if summary.get("plot_path"):
        uri = Path(summary["plot_path"]).resolve().as_uri()
        lines += ["", f"Plot (time against n, log scale): [{summary['plot_path']}]({uri})"]
    if skipped:
        lines += ["", f"Skipped pairs ({len(skipped)}), e.g. {skipped[0]['reason']}"]
    return "\n".join(lines)


@task(name="publish-artifacts", cache_policy=NO_CACHE, **IO_RETRIES)
def publish_benchmark_artifacts(snapshot: list[dict[str, Any]], summary: dict[str, Any],
                                skipped: list[dict[str, Any]]) -> None:
    """A table artifact of the snapshot and a markdown summary of the run."""
    if snapshot:
        create_table_artifact([{k: _fmt(v) for k, v in row.items()} for row in snapshot],
                              key="benchmark-snapshot",
                              description="Analytics snapshot of this benchmark")
    create_markdown_artifact(summary_markdown(summary, skipped), key="benchmark-summary",
                             description="Benchmark summary")
