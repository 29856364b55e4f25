"""Runs say what recorded them (`kind`); a benchmark's pair is recorded once, by the database.

Adds `algorithm_runs.kind` (benchmark | remeasure | user | replay | training), classifies the
rows already stored, relabels the later runs of a repeated benchmark pair as `remeasure` (the
oldest run of each pair stays `benchmark`; nothing is deleted), and adds the partial unique
index `uq_algorithm_runs_pair` on (kind, budget_id, requested_algorithm) for the kinds
recorded once per pair (benchmark, replay).

Classification of existing rows (nothing recorded the kind before):

- `training`: runs on a set the selector's training history generated (its generator params
  carry `time_limit`; only `db.model_registry.store_training_history` writes that key);
- `benchmark`: runs on a generated set (family other than `custom`) with a requested algorithm
  and a flow run id (the benchmark flow records both);
- `user`: everything else (API solves have no flow run id; solve-flow sets are `custom`).

No run is removed: runs recorded with `--remeasure` before this revision cannot be told from
accidental duplicates (two benchmarks at once), so both become `remeasure`, which is what they
are: a second measurement of the same pair, and the newest run of a pair is what snapshots
use.

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen as of this revision (not imported from db.models).
KINDS = "kind IN ('benchmark', 'remeasure', 'user', 'replay', 'training')"
UNIQUE_WHERE = "kind IN ('benchmark', 'replay')"


def _has_time_limit(dialect: str) -> str:
    if dialect == "postgresql":
        return "(generator_params -> 'time_limit') IS NOT NULL"
    return "json_type(generator_params, '$.time_limit') IS NOT NULL"


def upgrade() -> None:
    """Add and fill `kind`, relabel repeated benchmark pairs, then enforce one run per pair."""
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("algorithm_runs") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), server_default="user",
                                   nullable=False))
    op.execute(
        "UPDATE algorithm_runs SET kind = 'training' WHERE project_set_id IN "
        "(SELECT id FROM project_sets WHERE family <> 'custom' AND "
        f"{_has_time_limit(dialect)})")
    op.execute(
        "UPDATE algorithm_runs SET kind = 'benchmark' WHERE kind = 'user' "
        "AND requested_algorithm IS NOT NULL AND flow_run_id IS NOT NULL AND project_set_id IN "
        "(SELECT id FROM project_sets WHERE family <> 'custom')")
    # The oldest (lowest id) benchmark run of each pair stays; later ones are remeasurements.
    op.execute(
        "UPDATE algorithm_runs SET kind = 'remeasure' WHERE kind = 'benchmark' AND EXISTS ("
        "SELECT 1 FROM algorithm_runs AS older WHERE older.kind = 'benchmark' "
        "AND older.budget_id = algorithm_runs.budget_id "
        "AND older.requested_algorithm = algorithm_runs.requested_algorithm "
        "AND older.id < algorithm_runs.id)")
    with op.batch_alter_table("algorithm_runs") as batch:
        batch.create_check_constraint(op.f("ck_algorithm_runs_kind"), KINDS)
        batch.create_check_constraint(
            op.f("ck_algorithm_runs_pair_requested"),
            f"NOT ({UNIQUE_WHERE}) OR requested_algorithm IS NOT NULL")
    op.create_index("uq_algorithm_runs_pair", "algorithm_runs",
                    ["kind", "budget_id", "requested_algorithm"], unique=True,
                    postgresql_where=sa.text(UNIQUE_WHERE), sqlite_where=sa.text(UNIQUE_WHERE))


def downgrade() -> None:
    """Drop the index, the checks and `kind` (every run stays)."""
    op.drop_index("uq_algorithm_runs_pair", table_name="algorithm_runs")
    with op.batch_alter_table("algorithm_runs") as batch:
        batch.drop_constraint(op.f("ck_algorithm_runs_pair_requested"), type_="check")
        batch.drop_constraint(op.f("ck_algorithm_runs_kind"), type_="check")
        batch.drop_column("kind")
