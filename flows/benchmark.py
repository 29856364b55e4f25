"""`benchmark`: families × sizes × algorithms in solver batches, recorded, snapshot, exported.

Recipe: schema → instances → store → plan (skip refusals and pairs already recorded) →
solve batches (`.map`, the only fan-out; threads by default, Dask when the CLI says so) →
record each batch as it finishes (all or nothing per batch) → alerts → snapshot → Parquet →
plot → artifacts. The default runner runs one solver batch at a time: concurrent threads would
share the GIL and inflate every measured time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from prefect import flow, unmapped
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from flows._runtime import current_flow_run_id, scheduled_date
from flows.names import BENCHMARK_FLOW
from flows.params import BenchmarkParams
from tasks import plan
from tasks.artifacts import BatchProgress, publish_benchmark_artifacts
from tasks.data import ensure_database, make_instances, store_datasets
from tasks.files import export_parquet, plot_results
from tasks.records import raise_alerts, record_results, recorded_pairs, take_snapshot
from tasks.solving import plan_benchmark, solve_batch


@flow(name=BENCHMARK_FLOW, task_runner=ThreadPoolTaskRunner(max_workers=1),
      validate_parameters=True)
def benchmark(params: BenchmarkParams = BenchmarkParams()) -> dict:  # noqa: B008
    """Run the benchmark described by `params`; returns the summary (see `budget benchmark`)."""
    started, since = time.perf_counter(), datetime.now(UTC)
    run_id = current_flow_run_id()
    url, data_dir = params.database_url, params.data_dir
    ensure_database(url)
    seed = params.seed if params.seed is not None else plan.derive_seed(scheduled_date())
    instances = make_instances(plan.instance_specs(params.families, params.sizes,
                                                   params.per_size, seed))
    stored = store_datasets(instances, url)
    recorded = [] if params.remeasure else recorded_pairs([s["dataset_id"] for s in stored], url)
    work = plan_benchmark(stored, list(params.algorithms), recorded,
                          params.batches or max(4, 4 * params.workers))

    progress = BatchProgress(len(work["batches"]))
    futures = solve_batch.map(work["batches"], unmapped(dict(params.time_limits)),
                              params.time_limit, params.measure_memory,
                              unmapped(work["limits"]))
    results, solver_seconds, pids = [], 0.0, set()
    for future in as_completed(futures):
        out = future.result()
        record_results(out["results"], run_id, url, data_dir)
        results += out["results"]
        solver_seconds += out["solver_seconds"]
        pids.add(out["pid"])
        progress.advance()

    alerts = raise_alerts(results, run_id, url, data_dir)
    snapshot = take_snapshot(since, run_id, url) if results else []
    name = f"benchmark-{(run_id or 'local')[:8]}"
    export = (export_parquet(name, since, run_id, url, data_dir, False)
              if params.export and results else None)
    plot = plot_results(results, name, data_dir) if params.plot and results else None
    summary = {
        "flow_run_id": run_id, "seed": seed, "instances": len(stored),
        "datasets_created": sum(s["created"] for s in stored),
        **plan.summarize(results, wall_seconds=time.perf_counter() - started,
                         solver_seconds=solver_seconds, workers=params.workers),
        "skipped": len(work["skipped"]), "already_recorded": work["already_recorded"],
        "batches": len(work["batches"]), "solver_processes": len(pids), "alerts": len(alerts),
        "snapshot_rows": len(snapshot),
        "export_path": export["runs_path"] if export else None,
        "plot_path": plot, "snapshot": snapshot,
    }
    publish_benchmark_artifacts(snapshot, summary, work["skipped"])
    return summary
