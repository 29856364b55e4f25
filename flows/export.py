"""`export-metrics`: runs and snapshots into the stable Hive-partitioned Parquet datasets
`<data_dir>/exports/runs` and `<data_dir>/exports/snapshots` (idempotent; `tasks.exporting`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import flow

from flows._runtime import current_flow_run_id, refuse_hidden_fields
from flows.names import EXPORT_FLOW
from flows.params import ExportParams
from tasks.data import ensure_database
from tasks.files import export_parquet


@flow(name=EXPORT_FLOW, validate_parameters=True)
def export_metrics(params: ExportParams = ExportParams()) -> dict:  # noqa: B008
    """Export runs (and snapshots) of the last `since_hours` (or all) to data/exports/."""
    refuse_hidden_fields(params)
    since = datetime.now(UTC) - timedelta(hours=params.since_hours) if params.since_hours \
        else None
    ensure_database(params.database_url)
    return export_parquet(since, current_flow_run_id(), params.database_url, params.data_dir,
                          params.include_snapshots)
