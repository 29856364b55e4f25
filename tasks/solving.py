"""Solver tasks: CPU work, never retried (a solver is deterministic; a retry repeats a bug).

`solve_batches` is the benchmark's one fan-out. Under the default thread runner each batch is
a `solve-batch` task run. Under a `prefect_dask.DaskTaskRunner` each batch is a plain function
(`tasks.plan.solve_batch`) submitted through the runner's own Dask client
(`DaskTaskRunner.client`) and collected with `distributed.as_completed`: a Prefect task run on
a Dask worker costs 0.26-0.52 s (Prefect rebuilds its settings context and API clients per
task run), a plain Dask job a few milliseconds (docs/benchmarks/pipeline.md). The flow keeps
what the UI shows per batch: it logs each batch as it finishes, records it (a Prefect task
with retries, its own transaction) and advances the progress artifact.

The solvers' guard rails (MAX_PROJECTS, DP_MEMORY_CAP_MB, DEFAULT_TIME_LIMIT) are read from
settings here, at the task edge, and handed to the pure helpers of `tasks.plan` as a
`solvers.Limits`: the benchmark plans with them and passes the same limits to every batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

from prefect import task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.futures import as_completed

import solvers
from config import get_settings
from db.errors import DatabaseError
from ml import RUNTIME_MODEL_NAME
from tasks import plan
from tasks._io import db_session


def solver_limits() -> solvers.Limits:
    """The solvers' limits from this process's settings."""
    return get_settings().solver_limits()


@task(name="solve-batch", cache_policy=NO_CACHE, retries=0)
def solve_batch(batch: list[dict[str, Any]], time_limits: dict[str, float],
                default_time_limit: float, measure_memory: bool = True,
                limits: solvers.Limits | None = None) -> dict[str, Any]:
    """Solve one batch of (instance, algorithms) within `limits` (default: from settings); see
    `tasks.plan.solve_batch`."""
    return plan.solve_batch(batch, time_limits, default_time_limit, measure_memory,
                            limits=limits or solver_limits())


def dask_client() -> Any | None:
    """The running flow's Dask client (`DaskTaskRunner.client`: the runner's own connection,
    already open), or None under any other task runner or without prefect-dask."""
    context = FlowRunContext.get()
    runner = getattr(context, "task_runner", None)
    if runner is None or type(runner).__module__.split(".")[0] != "prefect_dask":
        return None  # prefect_dask is imported only when its runner is in use
    from prefect_dask import DaskTaskRunner

    return runner.client if isinstance(runner, DaskTaskRunner) else None


def solve_batches(batches: list[list[dict[str, Any]]], time_limits: dict[str, float],
                  default_time_limit: float, measure_memory: bool,
                  limits: solvers.Limits) -> Iterator[dict[str, Any]]:
    """Each batch's `tasks.plan.solve_batch` output as the batch finishes (any order), with
    `batch` (its index in `batches`) and `via` ("dask client" or "prefect tasks").

    Dask (the flow's runner is a `DaskTaskRunner`): one plain Dask job per batch through the
    runner's client (`pure=False`: equal batches are still two jobs), collected with
    `distributed.as_completed`. Otherwise: `solve_batch.map`, one task run per batch. A batch
    that raises stops the iteration with its error (solvers are never retried)."""
    client = dask_client()
    if client is None:
        futures = solve_batch.map(batches, unmapped(time_limits), default_time_limit,
                                  measure_memory, unmapped(limits))
        index = {f.task_run_id: i for i, f in enumerate(futures)}
        for future in as_completed(futures):
            yield {**future.result(), "batch": index[future.task_run_id],
                   "via": "prefect tasks"}
        return
    for i, out in dask_jobs(client, plan.solve_batch, batches, time_limits,
                            default_time_limit, measure_memory, limits=limits):
        yield {**out, "batch": i, "via": "dask client"}


def dask_jobs(client: Any, fn: Callable[..., Any], items: list[Any], *args: Any,
              **kwargs: Any) -> Iterator[tuple[int, Any]]:
    """``(i, fn(items[i], *args, **kwargs))`` as each item's Dask job finishes: one plain job
    per item through `client` (`pure=False`: equal items are still two jobs), collected with
    `distributed.as_completed`. A job that raises stops the iteration with its error; jobs not
    yet done are then cancelled."""
    from distributed import as_completed as dask_as_completed

    tag = uuid.uuid4().hex[:8]
    name = getattr(fn, "__name__", "job").replace("_", "-")
    futures = [client.submit(fn, item, *args, pure=False, key=f"{name}-{tag}-{i}", **kwargs)
               for i, item in enumerate(items)]
    index = {f.key: i for i, f in enumerate(futures)}
    try:
        for future in dask_as_completed(futures, loop=client.loop):
            yield index[future.key], future.result()
    finally:
        client.cancel([f for f in futures if not f.done()])


@task(name="solve-instance", cache_policy=NO_CACHE, retries=0)
def solve_instance(projects: list[Any], budget: Any, algorithm: str,
                   time_limit: float, selector: Any = None,
                   selector_note: str | None = None) -> dict[str, Any]:
    """`solvers.solve` on one instance (time and memory in separate passes) within the limits
    from settings; `selector` (a trained model, for `auto` only) picks the algorithm, else the
    rules do, and `selector_note` (why a model was not usable) joins the result's reason."""
    options = {"selector": selector} if algorithm == "auto" and selector is not None else {}
    result = solvers.solve(projects, budget, algorithm=algorithm, time_limit=time_limit,
                           limits=solver_limits(), measure_memory=True, **options)
    if algorithm == "auto" and selector_note:
        reason = result["reason"]
        result["reason"] = selector_note if reason is None else f"{selector_note}; {reason}"
    return result


@task(name="forecast-solve", cache_policy=NO_CACHE, retries=0)
def forecast_solve(projects: list[Any], budget: Any, algorithm: str, time_limit: float,
                   selector: Any = None, database_url: str | None = None) -> dict[str, Any]:
    """`{"forecast": ..., "forecast_note": ...}` of the registered runtime model for this solve
    (`ml.serving.forecast`: predicted seconds, the algorithm that will run, expected proven
    within the limit), or no forecast and why. The registry is asked first: without a runtime
    model the ML stack is not loaded. Never fails the flow for want of a model."""
    from ml.serving import forecast_fields, runtime_model_with_note

    model, note = runtime_model_with_note(database_url)
    return forecast_fields(model, note, projects, budget, algorithm, time_limit, selector,
                           solver_limits())


RUNTIME_MODEL = RUNTIME_MODEL_NAME  # from ml/__init__.py: no LightGBM import


def runtime_predictor(database_url: str | None) -> Callable[..., float] | None:
    """`predict_seconds` of the registered runtime model, or None (no model, or an unusable
    one: the size proxy plans). The registry is asked first, so without a model nothing of
    the ML stack is imported (about 1.3 s)."""
    from db.model_registry import get_champion

    try:
        with db_session(database_url) as session:
            if get_champion(session=session, name=RUNTIME_MODEL) is None:
                return None
    except DatabaseError:  # planning never fails for want of a model
        return None
    from ml.serving import runtime_model

    model = runtime_model(database_url)
    return model.predict_seconds if model is not None else None


@task(name="plan-benchmark", cache_policy=NO_CACHE)
def plan_benchmark(datasets: list[dict[str, Any]], algorithms: list[str],
                   recorded: list[tuple], n_batches: int | None, database_url: str | None = None,
                   time_limits: dict[str, float] | None = None,
                   default_time_limit: float | None = None,
                   use_runtime_model: bool = True, workers: int = 1) -> dict[str, Any]:
    """Jobs in balanced batches, the pairs skipped (and why), the pairs already recorded and the
    solver limits (from settings) they were planned with, for the batches to solve within.

    Batches are balanced by the runtime model's predicted seconds when one is registered
    (`batch_plan`: "runtime model"), else by the size proxy ("size proxy"); see
    `tasks.plan.make_batches`. `n_batches` None: up to `plan.BATCHES_PER_WORKER` per worker
    (at least 4; one job a batch when there are fewer jobs), and with a model as many as weigh the
    settings' `batch_overhead_seconds` per batch against balance (`tasks.plan.batch_count`); a
    number is used as given."""
    limits = solver_limits()
    jobs, skipped, already = plan.plan_jobs(datasets, algorithms,
                                            [tuple(r) for r in recorded], limits=limits)
    predict = runtime_predictor(database_url) if use_runtime_model and jobs else None
    most = n_batches or max(4, plan.BATCHES_PER_WORKER * workers)
    batches = plan.make_batches(jobs, most, predict, time_limits, default_time_limit, limits=limits,
                                workers=workers if n_batches is None else None,
                                overhead_seconds=get_settings().batch_overhead_seconds)
    by_model = predict is not None and all("estimated_seconds" in j for b in batches for j in b)
    return {"batches": batches, "skipped": skipped, "already_recorded": already,
            "limits": limits, "batch_plan": "runtime model" if by_model else "size proxy"}
