"""The database dropping the API's connections mid-request: a 503 in the usual shape, one log
line, nothing half-stored, and the next request served on a fresh connection."""

from __future__ import annotations

import logging

import psycopg2
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from api import service
from db import AlgorithmRun, Budget, ProjectSet, session_scope
from tests.http_api.conftest import PORTFOLIO


def _terminate_other_backends(url: str) -> int:
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as c:
            return len(c.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :d AND pid <> pg_backend_pid()"),
                {"d": make_url(url).database}).all())
    finally:
        admin.dispose()


def test_connections_killed_mid_solve_give_503_then_recover(make_client, pg_migrated_url,
                                                           monkeypatch, caplog) -> None:
    """pg_terminate_backend between storing a new set and its run: 503, no traceback logged,
    nothing of that request stored (set, budget, run); the next request succeeds."""
    client = make_client(raise_server_exceptions=False)
    assert client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000}).status_code == 200
    real = service.q.budget_for_amount
    killed = []

    def kill_then_continue(**kwargs):
        killed.append(_terminate_other_backends(pg_migrated_url))
        return real(**kwargs)

    monkeypatch.setattr(service.q, "budget_for_amount", kill_then_continue)
    caplog.set_level(logging.INFO, logger="api")
    response = client.post("/solve/", json={"projects": [700, 800, 900], "budget": 1000})
    assert killed and killed[0] >= 1
    assert response.status_code == 503 and response.json()["detail"] == "database unavailable"
    assert not any(r.exc_info for r in caplog.records), "a traceback was logged"
    monkeypatch.setattr(service.q, "budget_for_amount", real)
    with session_scope(pg_migrated_url) as s:
        assert s.scalar(select(func.count()).select_from(AlgorithmRun)) == 1
        assert s.scalar(select(func.count()).select_from(ProjectSet)) == 1
        assert s.scalar(select(func.count()).select_from(Budget).where(Budget.amount == 1000)) == 0
    again = client.post("/solve/", json={"projects": [700, 800, 900], "budget": 1000})
    assert again.status_code == 200 and again.json()["total_cost_exact"] == "900"


def test_a_closed_connection_is_503_not_500(make_client, monkeypatch) -> None:
    """psycopg2's InterfaceError ("connection already closed") is a 503 like a lost server."""
    client = make_client(raise_server_exceptions=False)

    def closed(*args, **kwargs):
        raise sa.exc.InterfaceError("ROLLBACK TO SAVEPOINT sa_savepoint_1", None,
                                    psycopg2.InterfaceError("connection already closed"))

    monkeypatch.setattr(service, "session_scope", closed)
    response = client.post("/solve/", json={"projects": [1, 2], "budget": 2})
    assert response.status_code == 503 and response.json()["detail"] == "database unavailable"
