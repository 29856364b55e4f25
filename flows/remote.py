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
    The run goes to the server `PREFECT_API_URL` names now (the same variable
    `prefect_api_configured` checks), not to whatever Prefect's settings held when first
    imported: in a worker thread there may be no settings context, and the root settings
    would otherwise fall back to an ephemeral in-process server.
    """
    from prefect.deployments import run_deployment  # heavy imports, only when needed
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: os.environ["PREFECT_API_URL"].strip()}):
        flow_run = run_deployment(BENCHMARK_ADHOC, parameters=dict(parameters), timeout=0,
                                  as_subflow=False)
    return str(flow_run.id)
