"""What a flow may ask Prefect's runtime: its own run id and scheduled date."""

from __future__ import annotations

from datetime import UTC, date, datetime

from prefect.runtime import flow_run


def current_flow_run_id() -> str | None:
    """This flow run's id as text (None outside a run)."""
    run_id = flow_run.id
    return str(run_id) if run_id else None


def scheduled_date() -> date:
    """The day this run was scheduled for (today when started by hand)."""
    when = flow_run.scheduled_start_time
    return when.date() if when is not None else datetime.now(UTC).date()


def share_api_with_subprocesses(timeout: int = 120) -> str:
    """Make processes started from here (Dask workers) report to this process's Prefect API.

    With `PREFECT_API_URL` set, that is it. Otherwise this process's ephemeral server is started
    now (Prefect keeps one per process, so this process's flows use the same one) and its URL is
    exported, so workers spawned afterwards inherit it instead of each starting a temporary
    server of its own (10-40 s apiece, and their task runs would land on it). Workers of an
    external cluster must be given `PREFECT_API_URL` themselves.
    """
    import os

    url = os.environ.get("PREFECT_API_URL")
    if url:
        return url
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()
        server.start(timeout=timeout)
        url = server.api_url
    os.environ["PREFECT_API_URL"] = url
    return url
