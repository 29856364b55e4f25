"""Start deployments through the Prefect API from outside Prefect (the REST API calls this).

The only place the API reaches Prefect; `api/` imports this module lazily and never Prefect.
"""

from __future__ import annotations

import os
from typing import Any

from flows.names import BENCHMARK_ADHOC

__all__ = ["prefect_api_configured", "start_benchmark_run"]


def prefect_api_configured() -> bool:
    """True when `PREFECT_API_URL` points at a Prefect server (else nothing could be started)."""
    return bool(os.environ.get("PREFECT_API_URL", "").strip())


def start_benchmark_run(parameters: dict[str, Any]) -> str:
    """Create a flow run of the `benchmark/adhoc` deployment and return its id at once.

    `timeout=0` returns as soon as the run is scheduled; a worker (`budget serve`) runs it.
    """
    from prefect.deployments import run_deployment  # heavy import, only when needed

    flow_run = run_deployment(BENCHMARK_ADHOC, parameters=dict(parameters), timeout=0)
    return str(flow_run.id)
