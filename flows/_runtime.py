"""What a flow may ask Prefect's runtime: its own run id, scheduled date and deployment."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from prefect.runtime import deployment, flow_run

HIDDEN_FIELDS = ("database_url", "data_dir")
"""Parameter fields only Python callers (the local user) may set: never a deployment run's."""


def current_flow_run_id() -> str | None:
    """This flow run's id as text (None outside a run)."""
    run_id = flow_run.id
    return str(run_id) if run_id else None


def scheduled_date() -> date:
    """The day this run was scheduled for (today when started by hand)."""
    when = flow_run.scheduled_start_time
    return when.date() if when is not None else datetime.now(UTC).date()


def refuse_hidden_fields(params: Any) -> None:
    """Refuse a deployment run (started from the UI or the API) whose parameters carry a
    database URL or a data folder: those come from the settings of the serving process. The
    fields are not in the deployment's schema, so the server already refuses them; this holds
    even if a deployment was registered without schema enforcement."""
    if deployment.id is None:
        return
    given = [name for name in HIDDEN_FIELDS if getattr(params, name, None) is not None]
    if given:
        raise ValueError(f"{', '.join(given)}: not a parameter of a deployment run; the "
                         "serving process's settings (DATABASE_URL, DATA_DIR) decide")


def share_api_with_subprocesses() -> str:
    """The Prefect API that processes started from here (Dask workers) must report to.

    `PREFECT_API_URL` (a running server: `budget server start`, or any Prefect server). Without
    one this raises: each worker would otherwise start a temporary server of its own (10-40 s
    apiece) and its task runs would land there. Only public Prefect settings are read; the
    `budget` CLI starts a server of its own for a Dask run when none is running. Workers of an
    external cluster must be given `PREFECT_API_URL` themselves.
    """
    import os

    url = os.environ.get("PREFECT_API_URL")
    if url:
        return url
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise RuntimeError(
            "Dask workers need a Prefect server to report to: set PREFECT_API_URL, or run "
            "`budget server start` first (the `budget benchmark --dask-workers` command starts "
            "one of its own when none is running)")
    os.environ["PREFECT_API_URL"] = url
    return url
