"""Alembic history: up, down, up again on both backends; no drift from the models."""

from __future__ import annotations

import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from config import REPO_ROOT
from db import Base, downgrade, ensure_schema, upgrade
from db.engine import get_engine
from db.migrate import current_revision, head_revision

TABLES = {
    "project_sets",
    "projects",
    "budgets",
    "algorithm_runs",
    "analytics_snapshots",
    "model_versions",
    "model_aliases",
    "alerts",
    "api_keys",
}


def _tables(url: str) -> set[str]:
    return set(inspect(get_engine(url)).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade_round_trip(db_url):
    """head creates every table, base removes them all, head creates them again."""
    upgrade(db_url, "head")
    assert _tables(db_url) == TABLES
    assert current_revision(db_url) == head_revision()
    downgrade(db_url, "base")
    assert _tables(db_url) == set()
    assert current_revision(db_url) is None
    upgrade(db_url, "head")
    assert _tables(db_url) == TABLES


def test_no_drift_between_models_and_migrations(migrated_db_url):
    """Autogenerate finds nothing to change after upgrading to head."""
    with get_engine(migrated_db_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_postgres_uses_jsonb_and_integer_arrays(pg_migrated_url):
    """On PostgreSQL the JSON columns are JSONB and selected_projects is integer[]."""
    columns = {
        c["name"]: c["type"]
        for c in inspect(get_engine(pg_migrated_url)).get_columns("algorithm_runs")
    }
    project_cols = {
        c["name"]: c["type"] for c in inspect(get_engine(pg_migrated_url)).get_columns("projects")
    }
    assert type(columns["selected_projects"]).__name__ == "ARRAY"
    assert type(project_cols["metadata"]).__name__ == "JSONB"


def test_run_indexes_exist(migrated_db_url):
    """Runs are indexed by set, by algorithm + created_at, and by flow run id."""
    indexes = {
        tuple(ix["column_names"])
        for ix in inspect(get_engine(migrated_db_url)).get_indexes("algorithm_runs")
    }
    assert {("project_set_id",), ("algorithm_name", "created_at"), ("flow_run_id",)} <= indexes


def test_ensure_schema_migrates_once_and_is_idempotent(sqlite_url):
    """ensure_schema brings an empty database to head and is a no-op afterwards."""
    ensure_schema(sqlite_url)
    ensure_schema(sqlite_url)
    assert current_revision(sqlite_url) == head_revision()
    assert _tables(sqlite_url) == TABLES


def test_alembic_cli_works_from_another_directory(tmp_path):
    """`alembic -c <repo>/alembic.ini upgrade head` works from any cwd, URL from DATABASE_URL."""
    db_file = tmp_path / "cli.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_file}"}
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(REPO_ROOT / "alembic.ini"), "upgrade", "head"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert _tables(f"sqlite:///{db_file}") == TABLES
