"""API keys: each bound to an owner, stored as a SHA-256 of the key, never the key itself.

Adds `api_keys` (id, owner_id, name, key_hash, prefix, admin, created_at, revoked_at). Project
sets already have their optional `owner_id` (revision 0001); it stays NULL on every row stored
before this revision, so those sets, their budgets and runs are seen by admin keys only (and
by everyone when `API_AUTH=off`). Nothing is rewritten: `project_sets` is not altered, so no
SQLite batch copy of a table other tables refer to is needed.

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-15 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create `api_keys` and its indexes."""
    op.create_table(
        "api_keys",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("owner_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.create_index(batch.f("ix_api_keys_owner_id"), ["owner_id"], unique=False)
        batch.create_index(batch.f("ix_api_keys_prefix"), ["prefix"], unique=False)


def downgrade() -> None:
    """Drop `api_keys` (every key with it; project sets keep their owners)."""
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index(batch.f("ix_api_keys_prefix"))
        batch.drop_index(batch.f("ix_api_keys_owner_id"))
    op.drop_table("api_keys")
