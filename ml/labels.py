"""Costs and labels from a run history (the algorithm-selection literature's PAR10).

For one instance, the **best proven total** is the largest ``total_cost`` any run returned
with status ``exact``. A run *solved* the instance when it returned that total (status exact,
or any status with a total equal to the best proven total) within the cutoff ``time_limit``.
Its cost is then its time; otherwise (wrong, approximate, failed, too slow, or no run proved
an optimum at all) it costs PAR10 = 10 × ``time_limit``. The label is the candidate with the
lowest cost, ties broken by time, then by the order of ``candidates``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["PAR_FACTOR", "best_proven_total", "label", "run_cost", "solved"]

PAR_FACTOR = 10


def _amount(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def best_proven_total(runs: Iterable[Mapping[str, Any]]) -> Decimal | None:
    """Largest total among the runs with status exact (None when no run proved one)."""
    totals = [_amount(r["total_cost"]) for r in runs if r["status"] == "exact"]
    return max((t for t in totals if t is not None), default=None)


def solved(run: Mapping[str, Any], best: Decimal | None, time_limit: float) -> bool:
    """Did ``run`` return the proven optimum ``best`` within ``time_limit`` seconds?"""
    if best is None or run["status"] == "failed":
        return False
    return _amount(run["total_cost"]) == best and float(run["execution_time"]) <= time_limit


def run_cost(run: Mapping[str, Any], best: Decimal | None, time_limit: float) -> float:
    """Time when solved, else PAR10 = 10 × time_limit."""
    if solved(run, best, time_limit):
        return float(run["execution_time"])
    return PAR_FACTOR * time_limit


def label(costs: Mapping[str, float], times: Mapping[str, float], candidates: Sequence[str]
          ) -> str:
    """The candidate with the lowest cost; ties by time, then by position in ``candidates``."""
    order = {name: i for i, name in enumerate(candidates)}
    return min(candidates, key=lambda a: (costs[a], times.get(a, 0.0), order[a]))
