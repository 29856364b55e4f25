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
