"""Shared fixtures: real databases, never mocks.

PostgreSQL comes from `TEST_DATABASE_URL` (an admin URL; default the local trust-auth server).
Each test gets its own throwaway database, dropped afterwards. When the server is unreachable,
PostgreSQL tests skip with the reason, except under `CI=true`, where they fail.

    sqlite_url / pg_url                   an empty database
    sqlite_migrated_url / pg_migrated_url  a database at Alembic head
    db_url / migrated_db_url              parametrized over both ("sqlite", "postgres")
    session                               an ORM session on `migrated_db_url`
    prefect_harness                       one Prefect test server for the whole session

Tests own their data. Before any project module is imported, this file points every data
setting (`DATABASE_URL`, `DATA_DIR`, and any other setting whose default lies under the
repository's `data/`) and `PREFECT_HOME` at a throwaway folder, drops `PREFECT_API_URL` and the
active Prefect profile, and makes `Settings` ignore the repository's `.env` and any setting in
the environment (`TEST_DATABASE_URL` is not a setting and stays): whatever the user's
environment, `.env` or `data/` hold, no test reads or writes them. The autouse fixture
`own_data` then gives every test its own folder and SQLite file (settings cache cleared, engines
disposed after), and `pytest_sessionfinish` fails the run if anything under the repository's
`data/` changed while the tests ran (`data_snapshot`).

Prefect reads its settings when first imported, so these (and a generous ephemeral-server
startup timeout) are set here, before any test module can import Prefect.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# --- isolation from the user's data: before anything of the project is imported ---------------
SESSION_HOME = Path(tempfile.mkdtemp(prefix="budget-tests-"))
"""The session's throwaway home: its data folder, SQLite default and Prefect home."""
REPO_DATA = Path(__file__).resolve().parent.parent / "data"
"""The repository's (the user's) data folder: never read or written by a test."""
BUNDLED = REPO_DATA / "examples"
"""Bundled example inputs (tracked by git): tests may read them."""

os.environ["PREFECT_HOME"] = str(SESSION_HOME / "prefect-home")
for _name in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH"):
    os.environ.pop(_name, None)  # the user's Prefect server and profile are not the tests'
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_UI_ENABLED", "false")

from config.settings import Settings  # noqa: E402  (after the environment above)

Settings.model_config["env_file"] = None  # the user's .env is not the tests' configuration
_FIELDS = {(f.alias or n).upper() for n, f in Settings.model_fields.items()}
for _name in [k for k in os.environ if k.upper() in _FIELDS]:
    del os.environ[_name]  # nor is the user's environment: the tests start from the defaults


def data_settings(home: Path) -> dict[str, str]:
    """Environment values pointing every data setting at `home/data`: DATABASE_URL (a SQLite
    file there), DATA_DIR, and any other setting whose default lies under the repository's
    data/ (bundled examples excepted), so a setting added later is covered too."""
    data = home / "data"
    out = {"DATABASE_URL": f"sqlite:///{data / 'budget.db'}", "DATA_DIR": str(data)}

    def moved(value: Any) -> Any:
        if isinstance(value, Path):
            inside = value.resolve().is_relative_to(REPO_DATA)
            if inside and not value.resolve().is_relative_to(BUNDLED):
                return data / value.resolve().relative_to(REPO_DATA)
            return value
        if isinstance(value, str) and str(REPO_DATA) in value and str(BUNDLED) not in value:
            return value.replace(str(REPO_DATA), str(data))
        if isinstance(value, list | tuple):
            return [moved(v) for v in value]
        return value

    for name, field in Settings.model_fields.items():
        key = (field.alias or name).upper()
        if key in out or field.is_required():
            continue
        default = field.get_default(call_default_factory=True)
        new = moved(default)
        if new != default:
            out[key] = json.dumps([str(v) for v in new]) if isinstance(new, list) else str(new)
    return out


os.environ.update(data_settings(SESSION_HOME))

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from config import get_settings  # noqa: E402
from db.engine import dispose_engines, get_sessionmaker, mask_url  # noqa: E402
from db.migrate import upgrade  # noqa: E402

DEFAULT_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
_PG_FIXTURES = {"pg_admin_url", "pg_url", "pg_migrated_url", "pg_template"}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def data_snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under `root` (itself included) with its size and mtime in nanoseconds: two
    snapshots differ when anything there was created, removed, written or touched."""
    out: dict[str, tuple[int, int]] = {}
    if not root.exists():
        return out
    for folder, dirs, files in os.walk(root):
        for name in [".", *dirs, *files]:
            path = os.path.join(folder, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:  # removed while walking: the next snapshot shows it
                continue
            out[os.path.normpath(path)] = (st.st_size, st.st_mtime_ns)
    return out


def snapshot_changes(before: dict[str, tuple[int, int]],
                     after: dict[str, tuple[int, int]]) -> list[str]:
    """The paths created, removed or changed between two `data_snapshot`s, sorted."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


_REPO_DATA_BEFORE: dict[str, tuple[int, int]] = {}


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers the pipeline tests use (also listed for --strict-markers), and
    remember the repository's data/ as it was before any test ran."""
    config.addinivalue_line(
        "markers", "e2e: end to end through a real Prefect server, `budget serve` and a browser"
    )
    _REPO_DATA_BEFORE.clear()
    _REPO_DATA_BEFORE.update(data_snapshot(REPO_DATA))


def check_data_unchanged(session: Any, root: Path, before: dict[str, tuple[int, int]]) -> None:
    """Mark `session` failed, with one line naming the paths, if `root` differs from `before`."""
    changed = snapshot_changes(before, data_snapshot(root))
    if not changed:
        return
    shown = ", ".join(changed[:10]) + (f" (+{len(changed) - 10} more)" if len(changed) > 10
                                       else "")
    message = f"ERROR: the tests changed the user's data folder {root}: {shown}"
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(message, red=True, bold=True)
    else:
        print(message)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if anything under the repository's data/ changed while the tests ran."""
    check_data_unchanged(session, REPO_DATA, _REPO_DATA_BEFORE)


@pytest.fixture(autouse=True)
def own_data(tmp_path_factory: pytest.TempPathFactory,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's own home: DATABASE_URL (a SQLite file), DATA_DIR and every other data
    setting point under it; settings are rebuilt before and after; its engine is disposed."""
    home = tmp_path_factory.mktemp("own-data")
    values = data_settings(home)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()
    dispose_engines(values["DATABASE_URL"])


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
