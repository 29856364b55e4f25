"""Solver tasks: CPU work, never retried (a solver is deterministic; a retry repeats a bug).

The solvers' guard rails (MAX_PROJECTS, DP_MEMORY_CAP_MB, DEFAULT_TIME_LIMIT) are read from
settings here, at the task edge, and handed to the pure helpers of `tasks.plan` as a
`solvers.Limits`: the benchmark plans with them and passes the same limits to every batch.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

import solvers
from config import get_settings
from tasks import plan


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


@task(name="solve-instance", cache_policy=NO_CACHE, retries=0)
def solve_instance(projects: list[Any], budget: Any, algorithm: str,
                   time_limit: float, selector: Any = None,
                   selector_note: str | None = None) -> dict[str, Any]:
    """`solvers.solve` on one instance (time and memory in separate passes) within the limits
    from settings; `selector` (a trained model, for `auto` only) picks the algorithm, else the
    rules do, and `selector_note` (why a model was not usable) joins the result's reason."""
    options = {"selector": selector} if algorithm == "auto" and selector is not None else {}
    result = solvers.solve(projects, budget, algorithm=algorithm, time_limit=time_limit,
                           limits=solver_limits(), **options)
    if algorithm == "auto" and selector_note:
        reason = result["reason"]
        result["reason"] = selector_note if reason is None else f"{selector_note}; {reason}"
    return result


@task(name="plan-benchmark", cache_policy=NO_CACHE)
def plan_benchmark(datasets: list[dict[str, Any]], algorithms: list[str],
                   recorded: list[tuple], n_batches: int) -> dict[str, Any]:
    """Jobs in balanced batches, the pairs skipped (and why), the pairs already recorded and the
    solver limits (from settings) they were planned with, for the batches to solve within."""
    limits = solver_limits()
    jobs, skipped, already = plan.plan_jobs(datasets, algorithms,
                                            [tuple(r) for r in recorded], limits=limits)
    return {"batches": plan.make_batches(jobs, n_batches), "skipped": skipped,
            "already_recorded": already, "limits": limits}
