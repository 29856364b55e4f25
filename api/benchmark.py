"""A bounded benchmark on generated data, run synchronously inside one request.

Every algorithm asked for solves the same `instances` generated instances of one family; the
figures are per algorithm. The work is bounded before anything runs: instances × algorithms ×
time_limit may not exceed the server-side solve-time cap.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from api.service import ApiState, LimitError, run_solver
from solvers.instances import generate


def check_bounds(state: ApiState, instances: int, algorithms: Sequence[str],
                 time_limit: float) -> None:
    cap = state.settings.api_solve_time_cap
    worst = instances * len(algorithms) * time_limit
    if worst > cap:
        raise LimitError(["query", "time_limit"],
                         f"instances × algorithms × time_limit = {worst:g} s, over the "
                         f"server cap of {cap:g} s; ask for less or use background=true")


def run(state: ApiState, family: str, n: int, instances: int, seed: int,
        algorithms: Sequence[str], time_limit: float) -> dict[str, Any]:
    """Figures per algorithm: counts by status, mean and max time, mean gap to the best."""
    made = []
    for k in range(instances):
        try:
            made.append(generate(family, n, seed + k))
        except ValueError as exc:  # e.g. todd refuses n > 40; the message names the parameter
            raise LimitError(["query", "n"], str(exc)) from None
    totals: dict[str, list[dict[str, Any]]] = {a: [] for a in algorithms}
    for inst in made:
        projects = inst.projects()
        for algorithm in algorithms:
            totals[algorithm].append(run_solver(state, projects, inst.budget, algorithm,
                                                time_limit, measure_memory=False))
    results = []
    for algorithm, runs in totals.items():
        gaps = []
        for k, inst in enumerate(made):
            best = max(totals[a][k]["total_cost"] for a in algorithms)
            gaps.append((best - runs[k]["total_cost"]) / inst.budget if inst.budget else 0.0)
        times = [r["execution_time"] for r in runs]
        status = [r["status"] for r in runs]
        results.append({
            "algorithm": algorithm, "runs": len(runs),
            "exact": status.count("exact"), "approximate": status.count("approximate"),
            "failed": status.count("failed"),
            "mean_time": statistics.fmean(times), "max_time": max(times),
            "mean_gap": statistics.fmean(gaps),
        })
    return {"family": family, "n": n, "instances": instances, "seed": seed,
            "time_limit": time_limit, "results": results}
