"""Database tasks: what is recorded already, record runs, alerts and snapshots (retried)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from config import get_settings
from db.alerts import record_alerts
from db.exports import iter_run_batches
from db.models import BENCHMARK_RUN_KINDS, AlgorithmRun
from db.runs import plan_filter, record_runs
from db.snapshots import compute_snapshot
from tasks import jsonlog, plan
from tasks._io import IO_RETRIES, db_session


def log_path(data_dir: str | None) -> Path:
    """The JSON-lines log file: `<data_dir>/logs/pipeline.jsonl`."""
    return Path(data_dir or get_settings().data_dir) / "logs" / "pipeline.jsonl"


@task(name="recorded-pairs", cache_policy=NO_CACHE, **IO_RETRIES)
def recorded_pairs(dataset_ids: list[int], database_url: str | None) -> list[tuple]:
    """(dataset, budget, requested algorithm) already recorded by a benchmark for these datasets
    (a user solve or a replay of the same pair does not count: the benchmark still runs it)."""
    if not dataset_ids:
        return []
    runs = AlgorithmRun.__table__.c
    stmt = select(runs.project_set_id, runs.budget_id, runs.requested_algorithm).where(
        runs.project_set_id.in_(sorted(set(dataset_ids))),
        runs.kind.in_(BENCHMARK_RUN_KINDS)).distinct()
    with db_session(database_url) as session:
        return [tuple(row) for row in session.execute(stmt)]


def _not_yet_recorded(session: Any, results: list[dict[str, Any]],
                      flow_run_id: str | None) -> list[dict[str, Any]]:
    """The results this flow run has not stored yet: a retried task (its first attempt may have
    committed before failing, or before the acknowledgement was lost) stores nothing twice."""
    if flow_run_id is None or not results:
        return results
    runs = AlgorithmRun.__table__.c
    stored = set(session.execute(
        select(runs.budget_id, runs.requested_algorithm)
        .where(runs.flow_run_id == flow_run_id,
               runs.budget_id.in_(sorted({r["budget_id"] for r in results})))).all())
    return [r for r in results if (r["budget_id"], r["requested_algorithm"]) not in stored]


@task(name="record-runs", cache_policy=NO_CACHE, **IO_RETRIES)
def record_results(results: list[dict[str, Any]], flow_run_id: str | None,
                   database_url: str | None, data_dir: str | None,
                   remeasure: bool = False) -> int:
    """Store results in one transaction (all or nothing), then log one JSON line per run.

    The log file is opened first, so an unwritable data folder fails before anything is
    stored; results this flow run already stored (a retry) are not stored again. Benchmark
    runs are unique per pair in the database: a pair another flow recorded meanwhile (two
    benchmarks at once) is skipped and counted; ``remeasure`` records them on purpose."""
    logger = jsonlog.pipeline_logger(log_path(data_dir))
    with db_session(database_url) as session:
        todo = _not_yet_recorded(session, results, flow_run_id)
        count = record_runs(session=session, runs=plan.run_rows(todo, flow_run_id),
                            kind="remeasure" if remeasure else "benchmark")
    jsonlog.log_runs(logger, todo, flow_run_id)
    skipped = getattr(count, "skipped", 0)
    if skipped:
        get_run_logger().info("%d of %d runs were already recorded by another run of the same "
                              "plan and were not stored again", skipped, len(todo))
    return int(count)


@task(name="raise-alerts", cache_policy=NO_CACHE, **IO_RETRIES)
def raise_alerts(results: list[dict[str, Any]], flow_run_id: str | None,
                 database_url: str | None, data_dir: str | None) -> list[dict[str, Any]]:
    """Alerts for these results (thresholds from settings): stored, and logged as WARNING."""
    s = get_settings()
    alerts = plan.alerts_for(results, time_seconds=s.alert_time_seconds,
                             memory_mb=s.alert_memory_mb, fallback_count=s.alert_fallback_count,
                             flow_run_id=flow_run_id)
    if alerts:
        log = jsonlog.pipeline_logger(log_path(data_dir))  # before storing (see record_results)
        with db_session(database_url) as session:
            record_alerts(session=session, alerts=alerts)
        logger = get_run_logger()
        for a in alerts:
            logger.warning("alert %s: %s", a["kind"], a["message"])
        jsonlog.log_alerts(log, alerts)
    return alerts


_SNAPSHOT_FIELDS = ("algorithm_name", "size_bucket", "family", "run_count", "exact_rate",
                    "time_mean", "time_p50", "time_p95", "memory_mean", "memory_max",
                    "accuracy_mean")


@task(name="take-snapshot", cache_policy=NO_CACHE, **IO_RETRIES)
def take_snapshot(plan_keys: dict[str, list], flow_run_id: str | None,
                  database_url: str | None) -> list[dict[str, Any]]:
    """Aggregate the plan's runs (`plan_keys`: its `budget_ids` and `algorithms`; the newest
    run of each planned pair, however many attempts it took to record them) into one snapshot
    (one transaction). Runs of other benchmarks are not in it."""
    with db_session(database_url) as session:
        rows = compute_snapshot(session=session, flow_run_id=flow_run_id,
                                where=plan_filter(**plan_keys))
        return [{k: getattr(r, k) for k in _SNAPSHOT_FIELDS} for r in rows]


@task(name="load-plan-runs", cache_policy=NO_CACHE, **IO_RETRIES)
def load_plan_runs(plan_keys: dict[str, list], database_url: str | None) -> list[dict[str, Any]]:
    """The plan's recorded runs (new and already recorded) as result-shaped dicts: dataset_id,
    budget_id, family, n, requested_algorithm, algorithm, status, times, totals."""
    with db_session(database_url) as session:
        rows = [r for b in iter_run_batches(session=session, where=plan_filter(**plan_keys))
                for r in b.to_pylist()]
    return [{**r, "dataset_id": r["project_set_id"], "algorithm": r["algorithm_name"],
             "requested_algorithm": r["requested_algorithm"] or r["algorithm_name"]}
            for r in rows]


@task(name="record-solve", cache_policy=NO_CACHE, **IO_RETRIES)
def record_solve(result: dict[str, Any], dataset: dict[str, Any], flow_run_id: str | None,
                 database_url: str | None, data_dir: str | None) -> int:
    """Store one solve's result (its dataset already stored); returns the run id. A retry
    finds the run its first attempt stored in this flow run and stores nothing again."""
    from db.runs import record_run

    logger = jsonlog.pipeline_logger(log_path(data_dir))  # before storing (see record_results)
    runs = AlgorithmRun.__table__.c
    with db_session(database_url) as session:
        run_id = None if flow_run_id is None else session.scalar(
            select(runs.id).where(runs.flow_run_id == flow_run_id,
                                  runs.budget_id == dataset["budget_id"]).limit(1))
        if run_id is None:
            run_id = record_run(session=session, project_set_id=dataset["dataset_id"],
                                budget_id=dataset["budget_id"], result=result,
                                flow_run_id=flow_run_id,
                                requested_algorithm=result.get("requested_algorithm")).id
    row = {**result, "dataset_id": dataset["dataset_id"], "n": dataset.get("n")}
    jsonlog.log_runs(logger, [row], flow_run_id)
    return run_id
