"""PostgreSQL goes away in the middle of a benchmark: the flow fails cleanly, a rerun completes."""

from __future__ import annotations

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
