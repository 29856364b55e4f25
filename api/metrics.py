"""Prometheus metrics of one app (its own registry, so test apps never collide).

With several uvicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory: values are
then written per process and `/metrics` aggregates them (prometheus-client multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
SOLVE_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60)


class ApiMetrics:
    """Every metric `/metrics` exposes."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "budget_api_requests", "HTTP requests by route template, method and status.",
            ["route", "method", "status"], registry=r)
        self.latency = Histogram(
            "budget_api_request_duration_seconds", "HTTP request latency by route and method.",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=r)
        self.solver_runs = Counter(
            "budget_solver_runs", "Solver runs by the algorithm that ran and the result status.",
            ["algorithm", "status"], registry=r)
        self.solve_time = Histogram(
            "budget_solve_duration_seconds", "Solver execution time (untimed pass excluded).",
            ["algorithm"], buckets=SOLVE_BUCKETS, registry=r)
        self.fallbacks = Counter(
            "budget_approximate_fallbacks",
            "Solves that returned an approximate answer (time limit reached, no proof).",
            ["algorithm"], registry=r)
        self.model = Gauge(
            "budget_selector_model_info", "The selector `auto` uses (1 for the one in use).",
            ["selector", "version"], registry=r, multiprocess_mode="livemax")
        self.alerts = Counter(
            "budget_alerts_raised", "Alerts raised by the API (slow or memory-hungry solves).",
            ["kind"], registry=r)

    def set_model(self, name: str, version: Any) -> None:
        """The selector in use (the previous one's series is dropped when it changes)."""
        self.model.clear()
        self.model.labels(selector=name, version="" if version is None else str(version)).set(1)

    def observe_solve(self, result: Mapping[str, Any]) -> None:
        algorithm = str(result.get("algorithm", "unknown"))
        status = str(result.get("status", "unknown"))
        self.solver_runs.labels(algorithm=algorithm, status=status).inc()
        self.solve_time.labels(algorithm=algorithm).observe(float(result["execution_time"]))
        if status == "approximate":
            self.fallbacks.labels(algorithm=algorithm).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The text format and its content type."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
