"""`export-metrics`: runs and snapshots out to Hive-partitioned Parquet (streamed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import flow

from flows._runtime import current_flow_run_id
from flows.names import EXPORT_FLOW
from flows.params import ExportParams
from tasks.data import ensure_database
from tasks.files import export_parquet


@flow(name=EXPORT_FLOW, validate_parameters=True)
def export_metrics(params: ExportParams = ExportParams()) -> dict:  # noqa: B008
    """Export runs (and snapshots) of the last `since_hours` (or all) to data/exports/."""
    now = datetime.now(UTC)
    run_id = current_flow_run_id()
    since = now - timedelta(hours=params.since_hours) if params.since_hours else None
    ensure_database(params.database_url)
    name = f"metrics-{now:%Y%m%dT%H%M%S}-{(run_id or 'local')[:8]}"
    return export_parquet(name, since, run_id, params.database_url, params.data_dir,
                          params.include_snapshots)
