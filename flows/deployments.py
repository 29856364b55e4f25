"""The deployments `budget serve` registers and serves with `prefect.serve`.

    benchmark/nightly   cron, seed derived from the scheduled date (new instances each night)
    export-metrics/daily  cron, the last 24 hours
    replay/nightly      cron (00:30, before the benchmark), user instances of the last 30 days
                        re-run across the candidate set within a 30-minute budget
    solve/adhoc, generate-datasets/adhoc, benchmark/adhoc   no schedule: started from the UI/API
    train-selector/weekly  only when `flows.train_selector` (the ML issue) is importable

Served this way, flow runs execute in subprocesses of the `budget serve` process. Stopping it
pauses the schedules unless `pause_on_shutdown=False` (`budget serve --keep-schedules`).
"""

from __future__ import annotations

import importlib
from typing import Any

from prefect import serve
from prefect.deployments.runner import EntrypointType, RunnerDeployment

from flows import names
from flows.benchmark import benchmark
from flows.export import export_metrics
from flows.generate import generate_datasets
from flows.replay import replay
from flows.solve import solve

NIGHTLY_CRON = "0 2 * * *"
DAILY_CRON = "30 3 * * *"
WEEKLY_CRON = "0 4 * * 0"
REPLAY_CRON = "30 0 * * *"
_MODULE = EntrypointType.MODULE_PATH


def _name(qualified: str) -> str:
    return qualified.split("/", 1)[1]


def train_flow() -> Any | None:
    """The `train_selector` flow, or None when its module cannot be imported (no ML extras)."""
    try:
        module = importlib.import_module("flows.train_selector")
    except ImportError:
        return None
    return getattr(module, "train_selector", None)


def build_deployments(
    *,
    nightly_cron: str = NIGHTLY_CRON,
    daily_cron: str = DAILY_CRON,
    weekly_cron: str = WEEKLY_CRON,
    replay_cron: str = REPLAY_CRON,
    tags: list[str] | None = None,
) -> list[RunnerDeployment]:
    """Every deployment, ready for `prefect.serve`."""
    tags = tags or ["budget"]
    out = [
        benchmark.to_deployment(_name(names.BENCHMARK_NIGHTLY), cron=nightly_cron, tags=tags,
                                parameters={"params": {"seed": None}},
                                description="Nightly benchmark on instances drawn for the date.",
                                entrypoint_type=_MODULE),
        export_metrics.to_deployment(_name(names.EXPORT_DAILY), cron=daily_cron, tags=tags,
                                     parameters={"params": {"since_hours": 24}},
                                     description="Daily Parquet export of the last 24 hours.",
                                     entrypoint_type=_MODULE),
        solve.to_deployment(_name(names.SOLVE_ADHOC), tags=tags, entrypoint_type=_MODULE,
                            enforce_parameter_schema=True,  # a wrong source: refused, no run
                            description="Solve one instance: the bundled example (Quick run), a "
                                        "file, CSV text, a stored dataset or projects."),
        generate_datasets.to_deployment(_name(names.GENERATE_ADHOC), tags=tags,
                                        entrypoint_type=_MODULE,
                                        description="Generate and store seeded datasets."),
        benchmark.to_deployment(_name(names.BENCHMARK_ADHOC), tags=tags, entrypoint_type=_MODULE,
                                description="Benchmark on demand (the API starts this one)."),
        replay.to_deployment(_name(names.REPLAY_NIGHTLY), cron=replay_cron, tags=tags,
                             entrypoint_type=_MODULE,
                             description="Nightly replay of recently solved user instances "
                                         "across the candidate set (recorded as replay runs, "
                                         "never as user runs), within a time budget."),
    ]
    train = train_flow()
    if train is not None:
        out.append(train.to_deployment(_name(names.TRAIN_WEEKLY), cron=weekly_cron, tags=tags,
                                       entrypoint_type=_MODULE,
                                       description="Weekly retraining of the selector."))
    return out


def serve_all(deployments: list[RunnerDeployment], *, keep_schedules: bool = False,
              limit: int | None = None) -> None:
    """Register and serve until interrupted (blocks)."""
    serve(*deployments, pause_on_shutdown=not keep_schedules, limit=limit,
          print_starting_message=True)
