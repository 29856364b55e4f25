"""`benchmark`: families × sizes × algorithms in solver batches, recorded, snapshot, exported.

Recipe: schema → instances → store → plan (skip refusals and pairs already recorded) →
solve batches (`tasks.solving.solve_batches`, the only fan-out: `solve-batch` task runs on
threads by default; under a DaskTaskRunner plain Dask jobs through the runner's client, a few
ms each instead of a Prefect task run's 0.3-0.5 s on a worker) → record each batch as it
finishes: log it and advance the progress artifact, and store what finished (a Prefect task
with retries, all or nothing) at most once a second (`RECORD_EVERY_SECONDS`) → alerts → the
plan's runs → snapshot → Parquet → plot → artifacts. INFO lines name the plan, each batch, the
runs, each size's winner, the skips and the files.

Snapshot, export, plot and the table by n cover the
*whole plan* (the newest run of every planned pair, whichever attempt recorded it), so a rerun
after a crash reports what a clean run would. The default runner runs one solver batch at a
time: concurrent threads would share the GIL and inflate every measured time.
"""

from __future__ import annotations

import time

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from flows._runtime import current_flow_run_id, refuse_hidden_fields, scheduled_date
from flows.names import BENCHMARK_FLOW
from flows.params import BenchmarkParams
from tasks import plan
from tasks.artifacts import BatchProgress, log_info, publish_benchmark_artifacts
from tasks.data import ensure_database, make_instances, store_datasets
from tasks.export_files import export_datasets
from tasks.files import plot_results
from tasks.records import (
    load_plan_runs,
    raise_alerts,
    record_results,
    recorded_pairs,
    take_snapshot,
)
from tasks.solving import plan_benchmark, solve_batches
from tasks.summary import batch_line, by_size, file_lines, plan_lines, result_lines, statuses

RECORD_EVERY_SECONDS = 1.0
"""The first finished batch is stored at once; later ones together, by one `record-runs` task
run (all or nothing), once this long has passed since the last store, and at the end: a task
run and a transaction per batch cost the flow's process CPU that the solver workers need when
they use every core (32 batches on 2 Dask workers: 1.74x the one-worker speed, plain Dask
futures 1.87x). A batch's results wait at most until the next batch finishes; a crash in
between loses only them, and a rerun of the plan solves just the missing pairs."""


@flow(name=BENCHMARK_FLOW, task_runner=ThreadPoolTaskRunner(max_workers=1),
      validate_parameters=True)
def benchmark(params: BenchmarkParams = BenchmarkParams()) -> dict:  # noqa: B008
    """Run the benchmark described by `params`; returns the summary (see `budget benchmark`)."""
    refuse_hidden_fields(params)
    started = time.perf_counter()
    run_id = current_flow_run_id()
    url, data_dir = params.database_url, params.data_dir
    ensure_database(url)
    seed = params.seed if params.seed is not None else plan.derive_seed(scheduled_date())
    instances = make_instances(plan.instance_specs(params.families, params.sizes,
                                                   params.per_size, seed))
    stored = store_datasets(instances, url)
    recorded = [] if params.remeasure else recorded_pairs([s["dataset_id"] for s in stored], url)
    work = plan_benchmark(stored, list(params.algorithms), recorded, params.batches, url,
                          dict(params.time_limits), params.time_limit, workers=params.workers)

    log_info(plan_lines(len(stored), sum(s["created"] for s in stored), work))

    progress = BatchProgress(len(work["batches"]))
    results, solver_seconds, pids = [], 0.0, set()
    spans, job_seconds, via = [], [], None
    unrecorded: list[dict] = []  # results of finished batches not stored yet
    recorded_at = -RECORD_EVERY_SECONDS  # the first finished batch is stored at once
    for out in solve_batches(work["batches"], dict(params.time_limits), params.time_limit,
                             params.measure_memory, work["limits"]):
        unrecorded += out["results"]
        if time.perf_counter() - recorded_at >= RECORD_EVERY_SECONDS:
            record_results(unrecorded, run_id, url, data_dir, params.remeasure)
            unrecorded, recorded_at = [], time.perf_counter()
        results += out["results"]
        solver_seconds += out["solver_seconds"]
        pids.add(out["pid"])
        spans.append((out["pid"], out["started_at"], out["finished_at"]))
        job_seconds += out["job_seconds"]
        via = out["via"]
        progress.advance()
        log_info([batch_line(out, progress.done, len(work["batches"]))])
    if unrecorded:
        record_results(unrecorded, run_id, url, data_dir, params.remeasure)

    alerts = raise_alerts(results, run_id, url, data_dir)
    keys = {"budget_ids": sorted({s["budget_id"] for s in stored}),
            "algorithms": list(params.algorithms)}
    everything = load_plan_runs(keys, url)  # new and already recorded runs of this plan
    snapshot = take_snapshot(keys, run_id, url) if everything else []
    export = (export_datasets(None, run_id, url, data_dir, bool(snapshot and run_id), keys,
                              snapshot_flow_run_id=run_id)
              if params.export and everything else None)
    name = f"benchmark-{(run_id or 'local')[:8]}"
    plot = plot_results(everything, name, data_dir) if params.plot and everything else None
    sizes = by_size(everything)
    summary = {
        "flow_run_id": run_id, "seed": seed, "instances": len(stored),
        "datasets_created": sum(s["created"] for s in stored),
        **plan.summarize(results, wall_seconds=time.perf_counter() - started,
                         solver_seconds=solver_seconds, workers=params.workers),
        "skipped": len(work["skipped"]), "already_recorded": work["already_recorded"],
        "batches": len(work["batches"]), "batch_plan": work["batch_plan"], "dispatch": via,
        "solver_processes": len(pids), **_makespan(spans, job_seconds, params.workers),
        "alerts": len(alerts),
        "plan_runs": len(everything), "plan_statuses": statuses(everything),
        "snapshot_rows": len(snapshot),
        "export_path": export["runs_path"] if export else None,
        "export_root": export["export_path"] if export else None,
        "snapshots_path": export["snapshots_path"] if export else None,
        "export_rows": export["runs"] if export else 0,
        "plot_path": plot, "by_size": sizes, "snapshot": snapshot,
    }
    log_info(result_lines(summary, sizes) + file_lines(summary))
    publish_benchmark_artifacts(snapshot, summary, work["skipped"], sizes)
    return summary


def _makespan(spans: list[tuple[int, float, float]], job_seconds: list[float], workers: int
              ) -> dict[str, float | None]:
    """Wall seconds from the first batch's start to the last one's end, over the lower bound
    of any schedule of the measured jobs on `workers` (`tasks.plan.makespan_lower_bound`), and
    the busiest solver process's seconds inside batches (the rest of the makespan is waiting
    for work: orchestration between batches, or an unbalanced plan), and the mean gap between
    one process's consecutive batches (`batch_gap_seconds`: the orchestration cost per batch
    that the settings' `batch_overhead_seconds` should match)."""
    if not spans:
        return {"makespan_seconds": None, "makespan_lower_bound": None, "makespan_ratio": None,
                "busiest_process_seconds": None, "batch_gap_seconds": None}
    wall = max(end for _, _, end in spans) - min(start for _, start, _ in spans)
    bound = plan.makespan_lower_bound(job_seconds, workers)
    busy: dict[int, float] = {}
    for pid, start, end in spans:
        busy[pid] = busy.get(pid, 0.0) + end - start
    gaps = plan.batch_gaps(spans)
    return {"makespan_seconds": round(wall, 4), "makespan_lower_bound": round(bound, 4),
            "makespan_ratio": round(wall / bound, 3) if bound > 0 else None,
            "busiest_process_seconds": round(max(busy.values()), 4),
            "batch_gap_seconds": round(sum(gaps) / len(gaps), 4) if gaps else None}
