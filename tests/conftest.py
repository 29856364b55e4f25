"""Shared fixtures: real databases, never mocks.

PostgreSQL comes from `TEST_DATABASE_URL` (an admin URL; default the local trust-auth server).
Each test gets its own throwaway database, dropped afterwards. When the server is unreachable,
PostgreSQL tests skip with the reason, except under `CI=true`, where they fail.

    sqlite_url / pg_url                   an empty database
    sqlite_migrated_url / pg_migrated_url  a database at Alembic head
    db_url / migrated_db_url              parametrized over both ("sqlite", "postgres")
    session                               an ORM session on `migrated_db_url`
    prefect_harness                       one Prefect test server for the whole session

Prefect reads its settings when first imported, so `PREFECT_HOME` (a throwaway folder, never
the user's home) and a generous ephemeral-server startup timeout are set here, before any test
module can import Prefect.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="budget-prefect-home-"))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_UI_ENABLED", "false")

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from db.engine import dispose_engines, get_sessionmaker, mask_url
from db.migrate import upgrade

DEFAULT_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
_PG_FIXTURES = {"pg_admin_url", "pg_url", "pg_migrated_url", "pg_template"}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers the pipeline tests use (also listed for --strict-markers)."""
    config.addinivalue_line(
        "markers", "e2e: end to end through a real Prefect server, `budget serve` and a browser"
    )


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test server (its own temporary database) for every test that asks for it."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use a PostgreSQL fixture directly carry the `postgres` marker."""
    for item in items:
        if _PG_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


def _admin_engine(url: str):
    return create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


def _create_database(admin_url: str, template: str | None = None) -> str:
    name = f"budget_test_{uuid.uuid4().hex[:12]}"
    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as conn:
            suffix = f" TEMPLATE {template}" if template else ""
            conn.execute(text(f"CREATE DATABASE {name}{suffix}"))
    finally:
        engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(admin_url: str, url: str) -> None:
    dispose_engines(url)
    name = make_url(url).database
    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """Admin URL of a reachable PostgreSQL server (skip, or fail under CI=true, if none)."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_ADMIN_URL)
    engine = _admin_engine(url)
    try:
        with engine.connect():
            pass
    except Exception as exc:  # any failure to connect means "no server for the tests"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        reason = f"PostgreSQL unreachable at {mask_url(url)} (set TEST_DATABASE_URL): {first}"
        if _in_ci():
            pytest.fail(f"{reason} [CI=true: failing instead of skipping]", pytrace=False)
        pytest.skip(reason)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> Iterator[str]:
    """Name of a database migrated to head once per session, cloned by `pg_migrated_url`."""
    url = _create_database(pg_admin_url)
    upgrade(url, "head")
    dispose_engines(url)  # CREATE DATABASE ... TEMPLATE needs it to have no connections
    yield str(make_url(url).database)
    _drop_database(pg_admin_url, url)


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    url = _create_database(pg_admin_url)
    yield url
    _drop_database(pg_admin_url, url)


@pytest.fixture
def pg_migrated_url(pg_admin_url: str, pg_template: str) -> Iterator[str]:
    """URL of a fresh PostgreSQL database already at Alembic head, dropped after the test."""
    url = _create_database(pg_admin_url, template=pg_template)
    yield url
    _drop_database(pg_admin_url, url)


@pytest.fixture
def sqlite_url(tmp_path) -> Iterator[str]:
    """URL of a fresh, empty SQLite file."""
    url = f"sqlite:///{tmp_path / 'test.db'}"
    yield url
    dispose_engines(url)


@pytest.fixture
def sqlite_migrated_url(sqlite_url: str) -> str:
    """URL of a fresh SQLite file at Alembic head."""
    upgrade(sqlite_url, "head")
    return sqlite_url


_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=_BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database, once per backend."""
    return request.getfixturevalue("pg_url" if request.param == "postgres" else "sqlite_url")


@pytest.fixture(params=_BACKENDS)
def migrated_db_url(request: pytest.FixtureRequest) -> str:
    """A database at Alembic head, once per backend."""
    name = "pg_migrated_url" if request.param == "postgres" else "sqlite_migrated_url"
    return request.getfixturevalue(name)


@pytest.fixture
def session(migrated_db_url: str) -> Iterator[Session]:
    """An ORM session on a migrated database (either backend); rolled back and closed after."""
    with get_sessionmaker(migrated_db_url)() as session:
        yield session
        session.rollback()


@pytest.fixture(scope="session")
def runtime_artifact(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A real runtime model (``ml.runtime.train_runtime``) trained once per session on a small
    history (30 instances, n ≤ 30, 50 ms cutoff; about 2 s): the registry record's fields."""
    from ml.history import plan_instances, run_history
    from ml.runtime import train_runtime

    history = list(run_history(plan_instances(30, seed=11, max_n=30), 0.05))
    art = train_runtime(history, 0.05, tmp_path_factory.mktemp("runtime-model"), rounds=40,
                        evaluate=False)
    assert art is not None
    return art


def register_runtime(url: str, art: dict) -> int:
    """Register ``art`` as the runtime model at ``url`` (its champion); returns the version."""
    from db import model_registry as reg
    from db.engine import session_scope
    from ml import RUNTIME_MODEL_NAME

    with session_scope(url) as s:
        row = reg.register_version(session=s, name=RUNTIME_MODEL_NAME, sha256=art["sha256"],
                                   path=art["path"], params=art["params"],
                                   metrics=art["metrics"], feature_names=art["feature_names"],
                                   class_order=art["class_order"])
        reg.promote(session=s, name=RUNTIME_MODEL_NAME, version=row.version)
        return row.version
