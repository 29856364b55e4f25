"""Data layer: ORM models, engine and sessions, migrations, and the query functions.

Imports neither `solvers` nor `ml`. Query functions take the session as `session=`.
"""

from db.datasets import ProjectSetHistory, content_hash, create_project_set, get_project_set
from db.engine import (
    check_connection,
    dispose_engines,
    get_engine,
    get_sessionmaker,
    mask_url,
    session_scope,
)
from db.errors import (
    BudgetMismatchError,
    DatabaseError,
    DatabaseUnavailableError,
    DataValidationError,
    NotFoundError,
    SchemaRevisionError,
)
from db.exports import export_runs_parquet, iter_run_batches
from db.migrate import check_revision, downgrade, ensure_schema, upgrade
from db.models import (
    Alert,
    AlgorithmRun,
    AnalyticsSnapshot,
    Base,
    Budget,
    ModelAlias,
    ModelVersion,
    Project,
    ProjectSet,
)
from db.runs import Recorded, get_run, record_run, record_runs, store_run
from db.snapshots import compute_snapshot, size_bucket

__all__ = [
    "Alert",
    "AlgorithmRun",
    "AnalyticsSnapshot",
    "Base",
    "Budget",
    "BudgetMismatchError",
    "DataValidationError",
    "DatabaseError",
    "DatabaseUnavailableError",
    "ModelAlias",
    "ModelVersion",
    "NotFoundError",
    "Project",
    "ProjectSet",
    "ProjectSetHistory",
    "Recorded",
    "SchemaRevisionError",
    "check_connection",
    "check_revision",
    "compute_snapshot",
    "content_hash",
    "create_project_set",
    "dispose_engines",
    "downgrade",
    "ensure_schema",
    "export_runs_parquet",
    "get_engine",
    "get_project_set",
    "get_run",
    "get_sessionmaker",
    "iter_run_batches",
    "mask_url",
    "record_run",
    "record_runs",
    "session_scope",
    "size_bucket",
    "store_run",
    "upgrade",
]
