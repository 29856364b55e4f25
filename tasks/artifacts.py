"""Prefect artifacts: a benchmark's progress, table by n, summary and snapshot; a solve's answer.

`BatchProgress` is called from the flow as each batch finishes; it updates the run's progress
artifact and any in-process listeners (the CLI's progress bar on a terminal).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE

from tasks._io import IO_RETRIES
from tasks.summary import solve_answer, summary_markdown, table_row

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


def log_info(lines: Iterable[str]) -> None:
    """Each line as one INFO record of the current flow or task run's Prefect log (the UI's
    log tab and `prefect flow-run logs`)."""
    logger = get_run_logger()
    for line in lines:
        logger.info(line)


@task(name="publish-artifacts", cache_policy=NO_CACHE, **IO_RETRIES)
def publish_benchmark_artifacts(snapshot: list[dict[str, Any]], summary: dict[str, Any],
                                skipped: list[dict[str, Any]],
                                size_rows: list[dict[str, Any]]) -> None:
    """Three artifacts: the table by n (one row per size and algorithm, each size's winner
    marked), the markdown summary (plot embedded) and the plan's analytics snapshot."""
    if size_rows:
        create_table_artifact([table_row(row) for row in size_rows],
                              key="benchmark-by-size",
                              description="Every run of this benchmark's plan by n and "
                                          "algorithm; `winner` marks each size's best.")
    plot = summary.get("plot_path")
    png = Path(plot).read_bytes() if plot and Path(plot).is_file() else None
    create_markdown_artifact(summary_markdown(summary, skipped, size_rows, png),
                             key="benchmark-summary", description="Benchmark summary")
    if snapshot:
        create_table_artifact([table_row(row) for row in snapshot],
                              key="benchmark-snapshot",
                              description="Analytics snapshot of this benchmark's plan "
                                          "(algorithm × size bucket × family)")


@task(name="publish-answer", cache_policy=NO_CACHE, **IO_RETRIES)
def publish_solve_answer(result: dict[str, Any], projects: list[dict[str, Any]],
                         run_id: int | None) -> str:
    """The solve's answer as a table artifact (`solve-answer`: the chosen projects, with the
    total, budget, status, upper bound and algorithm above the table) and one INFO log line;
    returns the line."""
    answer = solve_answer(result, projects, run_id)
    rows = answer["rows"] or [{"index": "–", "name": "(no project chosen)", "cost": "0"}]
    create_table_artifact(rows, key="solve-answer", description=answer["markdown"])
    get_run_logger().info(answer["line"])
    return answer["line"]
