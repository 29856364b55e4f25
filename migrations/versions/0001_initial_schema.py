"""Initial schema: datasets, budgets, runs, analytics snapshots, model registry, alerts.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 04:08:05.219104
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Column types frozen as of this revision (kept here, not imported from db.base, so later model
# changes cannot silently rewrite history).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
INT_LIST = sa.JSON().with_variant(postgresql.ARRAY(sa.Integer()), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MONEY = sa.Numeric(precision=20, scale=2)


def upgrade() -> None:
    """Create every table, constraint and index of the first schema."""
    op.create_table(
        "alerts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("context", JSON_DOC, nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'error', 'critical')", name=op.f("ck_alerts_severity")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_kind_created", ["kind", "created_at"], unique=False)

    op.create_table(
        "analytics_snapshots",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("snapshot_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("algorithm_name", sa.String(length=64), nullable=False),
        sa.Column("size_bucket", sa.String(length=16), nullable=False),
        sa.Column("family", sa.String(length=50), nullable=False),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.Column("exact_rate", sa.Float(), nullable=False),
        sa.Column("time_mean", sa.Float(), nullable=False),
        sa.Column("time_p50", sa.Float(), nullable=False),
        sa.Column("time_p95", sa.Float(), nullable=False),
        sa.Column("memory_mean", sa.Float(), nullable=True),
        sa.Column("memory_max", sa.Float(), nullable=True),
        sa.Column("accuracy_mean", sa.Float(), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "size_bucket IN ('small', 'medium', 'large', 'xlarge')",
            name=op.f("ck_analytics_snapshots_size_bucket"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_snapshots")),
        sa.UniqueConstraint(
            "snapshot_at",
            "algorithm_name",
            "size_bucket",
            "family",
            name="uq_analytics_snapshots_key",
        ),
    )
    with op.batch_alter_table("analytics_snapshots", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_snapshots_snapshot_at", ["snapshot_at"], unique=False)

    op.create_table(
        "model_versions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("params", JSON_DOC, nullable=True),
        sa.Column("metrics", JSON_DOC, nullable=True),
        sa.Column("feature_names", JSON_DOC, nullable=True),
        sa.Column("class_order", JSON_DOC, nullable=True),
        sa.Column("library_versions", JSON_DOC, nullable=True),
        sa.Column("training_window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("training_window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_model_versions_name_version")),
    )
    op.create_table(
        "project_sets",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("owner_id", sa.String(length=100), nullable=True),
        sa.Column("family", sa.String(length=50), server_default="custom", nullable=False),
        sa.Column("n_projects", sa.Integer(), nullable=False),
        sa.Column("generator_params", JSON_DOC, nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_sets")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_project_sets_content_hash")),
    )
    with op.batch_alter_table("project_sets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_sets_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "budgets",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("project_set_id", BIG_ID, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_set_id"],
            ["project_sets.id"],
            name=op.f("fk_budgets_project_set_id_project_sets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
        sa.UniqueConstraint(
            "project_set_id", "amount", name=op.f("uq_budgets_project_set_id_amount")
        ),
    )
    with op.batch_alter_table("budgets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_budgets_project_set_id"), ["project_set_id"], unique=False
        )

    op.create_table(
        "model_aliases",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("alias", sa.String(length=50), nullable=False),
        sa.Column("model_version_id", BIG_ID, nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_aliases_model_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_aliases")),
        sa.UniqueConstraint("model_name", "alias", name=op.f("uq_model_aliases_model_name_alias")),
    )
    with op.batch_alter_table("model_aliases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_aliases_model_version_id"), ["model_version_id"], unique=False
        )

    op.create_table(
        "projects",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("project_set_id", BIG_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("cost", MONEY, nullable=False),
        sa.Column("metadata", JSON_DOC, nullable=True),
        sa.ForeignKeyConstraint(
            ["project_set_id"],
            ["project_sets.id"],
            name=op.f("fk_projects_project_set_id_project_sets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint(
            "project_set_id", "position", name=op.f("uq_projects_project_set_id_position")
        ),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_projects_project_set_id"), ["project_set_id"], unique=False
        )

    op.create_table(
        "algorithm_runs",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("project_set_id", BIG_ID, nullable=False),
        sa.Column("budget_id", BIG_ID, nullable=False),
        sa.Column("algorithm_name", sa.String(length=64), nullable=False),
        sa.Column("requested_algorithm", sa.String(length=64), nullable=True),
        sa.Column("selected_projects", INT_LIST, nullable=False),
        sa.Column("total_cost", MONEY, nullable=False),
        sa.Column("execution_time", sa.Float(), nullable=False),
        sa.Column("memory_used", sa.Float(), nullable=True),
        sa.Column("match_type", sa.String(length=16), nullable=False),
        sa.Column("upper_bound", MONEY, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("selector", sa.String(length=64), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "match_type IN ('exact', 'approximate', 'failed')",
            name=op.f("ck_algorithm_runs_match_type"),
        ),
        sa.ForeignKeyConstraint(
            ["budget_id"],
            ["budgets.id"],
            name=op.f("fk_algorithm_runs_budget_id_budgets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_set_id"],
            ["project_sets.id"],
            name=op.f("fk_algorithm_runs_project_set_id_project_sets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_algorithm_runs")),
    )
    with op.batch_alter_table("algorithm_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_algorithm_runs_algorithm_created", ["algorithm_name", "created_at"], unique=False
        )
        batch_op.create_index("ix_algorithm_runs_budget_id", ["budget_id"], unique=False)
        batch_op.create_index("ix_algorithm_runs_flow_run_id", ["flow_run_id"], unique=False)
        batch_op.create_index("ix_algorithm_runs_project_set_id", ["project_set_id"], unique=False)


def downgrade() -> None:
    """Drop every table (children first); their indexes go with them."""
    op.drop_table("algorithm_runs")
    op.drop_table("projects")
    op.drop_table("model_aliases")
    op.drop_table("budgets")
    op.drop_table("project_sets")
    op.drop_table("model_versions")
    op.drop_table("analytics_snapshots")
    op.drop_table("alerts")
