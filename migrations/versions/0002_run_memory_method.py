"""Runs record how their memory was measured (tracemalloc, rss or none).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable ``algorithm_runs.memory_method`` (older rows stay null: not recorded)."""
    with op.batch_alter_table("algorithm_runs") as batch:
        batch.add_column(sa.Column("memory_method", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("algorithm_runs") as batch:
        batch.drop_column("memory_method")
