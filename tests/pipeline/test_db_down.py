"""PostgreSQL goes away in the middle of a benchmark: the flow fails cleanly, a rerun completes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from db.engine import dispose_engines, session_scope
from db.errors import DatabaseUnavailableError
from db.models import AlgorithmRun
from flows.benchmark import benchmark
from flows.params import BenchmarkParams
from tasks.artifacts import add_progress_listener, remove_progress_listener

pytestmark = pytest.mark.usefixtures("prefect_harness")
PARAMS = {"sizes": [8, 30], "per_size": 1, "families": ["uniform", "portfolio"],
          "algorithms": ["brute_force", "dp", "greedy", "hybrid", "auto"], "time_limit": 2.0,
          "measure_memory": False, "batches": 4, "export": False, "plot": False}
PLANNED = 4 * 5 - 2  # brute force skipped at n = 30


def _set_connections(admin_url: str, name: str, allow: bool) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {str(allow).lower()}"))
        if not allow:
            c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
    engine.dispose()


def _pairs(url: str) -> list[tuple]:
    with session_scope(url) as s:
        return list(s.execute(select(AlgorithmRun.project_set_id, AlgorithmRun.budget_id,
                                     AlgorithmRun.requested_algorithm, func.count())
                              .group_by(AlgorithmRun.project_set_id, AlgorithmRun.budget_id,
                                        AlgorithmRun.requested_algorithm)))


def test_database_down_mid_flow_keeps_whole_batches_and_rerun_completes(
        pg_admin_url, pg_migrated_url, tmp_path) -> None:
    """After the first batch is recorded the database refuses connections: the flow fails with
    DatabaseUnavailableError after its retries, only whole batches are stored, and a rerun adds
    exactly the missing pairs (no duplicates)."""
    name = make_url(pg_migrated_url).database
    params = BenchmarkParams(database_url=pg_migrated_url, data_dir=str(tmp_path), **PARAMS)

    def cut(done: int, total: int) -> None:
        if done == 1:
            _set_connections(pg_admin_url, name, allow=False)

    add_progress_listener(cut)
    try:
        with pytest.raises(DatabaseUnavailableError):
            benchmark(params)
    finally:
        remove_progress_listener(cut)
        _set_connections(pg_admin_url, name, allow=True)
        dispose_engines(pg_migrated_url)
    partial = _pairs(pg_migrated_url)
    assert 0 < len(partial) < PLANNED
    rerun = benchmark(params)
    assert rerun["already_recorded"] == len(partial)
    assert rerun["runs"] == PLANNED - len(partial)
    full = _pairs(pg_migrated_url)
    assert len(full) == PLANNED and all(count == 1 for *_, count in full)


class _Killer:
    """Terminates the backend of the connection that is about to look up budgets inside
    `record_runs`' SAVEPOINT: the statement fails, and so does the ROLLBACK TO SAVEPOINT after
    it (`InterfaceError: connection already closed`), as when an operator kills connections."""

    def __init__(self, admin_url: str, times: int) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.left, self.killed = times, 0

    def __call__(self, conn, _cursor, statement, *_args) -> None:
        if self.left <= 0 or not conn.in_nested_transaction():
            return
        if not statement.lstrip().startswith("SELECT budgets.id, budgets.project_set_id"):
            return
        self.left -= 1
        self.killed += 1
        pid = conn.connection.dbapi_connection.get_backend_pid()
        with self.admin.connect() as c:
            c.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})


@pytest.fixture
def killer(pg_admin_url, pg_migrated_url):
    """Install a `_Killer` on the test database's engine (call it with how many kills)."""
    from sqlalchemy import event

    from db.engine import get_engine

    installed = []

    def install(times: int) -> _Killer:
        k = _Killer(pg_admin_url, times)
        engine = get_engine(pg_migrated_url)
        event.listen(engine, "before_cursor_execute", k)
        installed.append((engine, k))
        return k

    yield install
    for engine, k in installed:  # the engine it was installed on (the CLI disposes its own)
        if event.contains(engine, "before_cursor_execute", k):
            event.remove(engine, "before_cursor_execute", k)
        k.admin.dispose()
    dispose_engines(pg_migrated_url)


def test_connection_killed_mid_batch_is_retried_and_the_benchmark_completes(
        pg_migrated_url, tmp_path, killer) -> None:
    """One connection killed inside a batch's transaction: the batch's task retries (the
    InterfaceError of the failed ROLLBACK counts as the database being unavailable), the
    benchmark completes, and every pair is stored exactly once."""
    k = killer(1)
    out = benchmark(BenchmarkParams(database_url=pg_migrated_url, data_dir=str(tmp_path),
                                    **PARAMS))
    assert k.killed == 1
    assert out["runs"] == out["plan_runs"] == PLANNED
    full = _pairs(pg_migrated_url)
    assert len(full) == PLANNED and all(count == 1 for *_, count in full)


def test_connections_killed_on_every_attempt_end_the_cli_with_one_error(
        pg_migrated_url, tmp_path, killer, monkeypatch, capsys) -> None:
    """Every attempt to record a batch loses its connection: after the retries `budget
    benchmark --json` exits 2 with one `error:` line naming DatabaseUnavailableError's
    message (masked URL) on stderr and one JSON error object on stdout."""
    from cli.main import main
    from config import get_settings

    monkeypatch.setenv("DATABASE_URL", pg_migrated_url)
    get_settings.cache_clear()
    k = killer(1000)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["benchmark", "--sizes", "8", "--per-size", "1", "--families", "uniform",
                  "--algorithms", "dp,greedy", "--no-memory", "--no-export",
                  "--data-dir", str(tmp_path), "--json"])
    finally:
        get_settings.cache_clear()
    assert exit_info.value.code == 2 and k.killed == 3  # the first attempt and two retries
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["error"]["type"] == "DatabaseUnavailableError"
    assert "lost the connection" in doc["error"]["message"]
    assert err.strip().splitlines()[-1] == f"error: {doc['error']['message']}"


def test_cli_benchmark_under_connection_kills_never_prints_a_traceback(
        pg_admin_url, pg_migrated_url, tmp_path) -> None:
    """`budget benchmark` in a subprocess while every connection to its database is killed
    again and again: it either completes (exit 0, one JSON object) or ends with exit 2, one
    `error:` line and a JSON error object; never exit 1 and never a traceback."""
    import os
    import subprocess
    import sys
    import threading
    import time

    from prefect.settings import PREFECT_API_URL

    name = make_url(pg_migrated_url).database
    env = {**os.environ, "DATABASE_URL": pg_migrated_url, "DATA_DIR": str(tmp_path),
           "PREFECT_HOME": str(tmp_path / "prefect")}
    if PREFECT_API_URL.value():
        env["PREFECT_API_URL"] = PREFECT_API_URL.value()
    stop = threading.Event()

    def kill_loop() -> None:
        admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
        try:
            while not stop.is_set():
                with admin.connect() as c:
                    c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
                time.sleep(0.05)
        finally:
            admin.dispose()

    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "benchmark", "--sizes", "8,20", "--per-size", "2",
         "--families", "uniform,portfolio", "--algorithms", "dp,greedy,hybrid", "--no-memory",
         "--batches", "6", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    thread = threading.Thread(target=kill_loop, daemon=True)
    thread.start()
    try:
        out, err = proc.communicate(timeout=300)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert proc.returncode in (0, 2), err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    doc = json.loads(out)
    if proc.returncode == 2:
        assert doc["error"]["type"] == "DatabaseUnavailableError"
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1
    else:
        assert doc["runs"] + doc["already_recorded"] == doc["plan_runs"]


def test_connection_loss_errors_are_classified_and_masked() -> None:
    """InterfaceError, OperationalError and invalidated DBAPI errors count as the database
    being unavailable (one line, password masked); SQL errors like IntegrityError do not."""
    from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

    from tasks._io import is_connection_loss, unavailable_on_connection_loss

    url = "postgresql+psycopg2://bob:s3cret@db.example:6543/budget"
    closed = InterfaceError("ROLLBACK TO SAVEPOINT sa_savepoint_1", {},
                            Exception("connection already closed"))
    with pytest.raises(DatabaseUnavailableError) as info, unavailable_on_connection_loss(url):
        raise closed
    message = str(info.value)
    assert message == ("lost the connection to the database postgresql+psycopg2://bob:***@"
                       "db.example:6543/budget: Exception: connection already closed")
    assert "\n" not in message and "s3cret" not in message
    assert is_connection_loss(OperationalError("SELECT 1", {}, Exception("s3cret gone")))
    assert is_connection_loss(DBAPIError("SELECT 1", {}, Exception("x"),
                                         connection_invalidated=True))
    duplicate = IntegrityError("INSERT", {}, Exception("duplicate key"))
    assert not is_connection_loss(duplicate)
    with pytest.raises(IntegrityError), unavailable_on_connection_loss(url):
        raise duplicate
