"""`export-metrics`: one database's runs and snapshots into its own Parquet root
`<data_dir>/exports/<backend>-<hash>/{runs,training_runs,snapshots}` (idempotent; the root is
returned as `export_path` and logged; `tasks.exporting`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import flow

from flows._runtime import current_flow_run_id, refuse_hidden_fields
from flows.names import EXPORT_FLOW
from flows.params import ExportParams
from tasks.data import ensure_database
from tasks.export_files import export_datasets


@flow(name=EXPORT_FLOW, validate_parameters=True)
def export_metrics(params: ExportParams = ExportParams()) -> dict:  # noqa: B008
    """Export runs (and snapshots) of the last `since_hours` (or all) to this database's own
    root under data/exports/ (returned as `export_path`)."""
    refuse_hidden_fields(params)
    since = datetime.now(UTC) - timedelta(hours=params.since_hours) if params.since_hours \
        else None
    ensure_database(params.database_url)
    return export_datasets(since, current_flow_run_id(), params.database_url, params.data_dir,
                           params.include_snapshots)
