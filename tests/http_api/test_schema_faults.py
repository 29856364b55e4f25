"""A database the API cannot serve from is a 503 that says why, never a 500: an option libpq
does not know in DATABASE_URL, a schema revision this code does not know, `budget db
downgrade` under a running API. /health says "degraded" and names the problem. And a backend
kill costs no request at all: the pool's pre-ping reconnects."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from fastapi.testclient import TestClient

from db.engine import get_engine
from db.migrate import current_revision, downgrade, head_revision, upgrade
from tests.http_api.conftest import PORTFOLIO
from tests.http_api.test_faults import _terminate_other_backends

UNKNOWN = "fffffffffff0"


def _data_requests(client: TestClient) -> dict[str, object]:
    """One request to every data endpoint (ids that would exist on a healthy database)."""
    return {
        "POST /solve/": client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000}),
        "POST /datasets/": client.post("/datasets/", json={"projects": [1, 2], "budgets": [2]}),
        "GET /datasets/1/": client.get("/datasets/1/"),
        "POST /datasets/1/solve": client.post("/datasets/1/solve", json={"budget": 3}),
        "GET /results/1/": client.get("/results/1/"),
    }


def _assert_all_503(client: TestClient, *needles: str) -> None:
    for name, response in _data_requests(client).items():
        assert response.status_code == 503, (name, response.status_code, response.text)
        detail = response.json()["detail"]
        assert all(n in detail for n in needles), (name, detail)
        assert "Traceback" not in response.text


def _assert_degraded(client: TestClient, *needles: str) -> None:
    health = client.get("/health")
    assert health.status_code == 503, health.text
    body = health.json()
    assert body["status"] == "degraded" and body["database"]["ok"] is False, body
    assert all(n in body["database"]["detail"] for n in needles), body


def test_unknown_libpq_option_is_503_naming_database_url(make_client, pg_migrated_url,
                                                         caplog) -> None:
    """`?bogus_option=1` in DATABASE_URL: start-up survives, /health is degraded and every data
    endpoint a 503 naming DATABASE_URL and the option (was a 500); no traceback logged."""
    caplog.set_level(logging.INFO)
    url = f"{pg_migrated_url}?bogus_option=1"
    client = make_client(database_url=url, raise_server_exceptions=False)
    _assert_degraded(client, "DATABASE_URL", "bogus_option")
    _assert_all_503(client, "DATABASE_URL", "bogus_option")
    assert not any(r.exc_info for r in caplog.records), "a traceback was logged"


def test_unknown_schema_revision_is_503_naming_it(make_client, pg_migrated_url) -> None:
    """A database stamped with a revision this code does not know: /health degraded naming it,
    every data endpoint a 503 naming it (start-up's upgrade attempt fails and is logged)."""
    admin = sa.create_engine(pg_migrated_url, poolclass=sa.pool.NullPool)
    with admin.begin() as c:
        c.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": UNKNOWN})
    admin.dispose()
    client = make_client(raise_server_exceptions=False)
    _assert_degraded(client, UNKNOWN)
    _assert_all_503(client, UNKNOWN)


def test_downgrade_under_a_running_api_is_503_until_upgraded(make_client,
                                                            pg_migrated_url) -> None:
    """`budget db downgrade` while the API runs: /health turns degraded and every data endpoint
    a 503 naming the revision (was: 500s and /health ok); after the upgrade all is served again."""
    client = make_client(raise_server_exceptions=False)
    first = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000})
    assert first.status_code == 200, first.text
    head = head_revision()
    downgrade(pg_migrated_url, "-1")
    now = current_revision(pg_migrated_url)
    assert now != head
    _assert_degraded(client, "revision")
    for name, response in _data_requests(client).items():
        assert response.status_code == 503, (name, response.status_code, response.text)
        detail = response.json()["detail"]
        assert "revision" in detail and (head in detail or str(now) in detail), (name, detail)
    upgrade(pg_migrated_url, "head")
    assert client.get("/health").status_code == 200
    again = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000})
    assert again.status_code == 200 and again.json()["dataset_id"] == first.json()["dataset_id"]


def test_after_a_backend_kill_the_next_request_succeeds(make_client, pg_migrated_url) -> None:
    """pg_terminate_backend of every pooled connection: the very next requests all succeed
    (pre-ping reconnects), never a 503 once per pooled connection."""
    client = make_client(raise_server_exceptions=False)
    assert client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000}).status_code == 200
    engine = get_engine(pg_migrated_url)  # the API's own engine (one per URL)
    held = [engine.connect() for _ in range(5)]
    for connection in held:
        connection.close()
    assert engine.pool.checkedin() >= 5
    assert _terminate_other_backends(pg_migrated_url) >= 5
    statuses = [client.get("/health").status_code]
    for amount in range(1000, 1007):
        response = client.post("/solve/", json={"projects": PORTFOLIO, "budget": amount})
        statuses.append(response.status_code)
    assert statuses == [200] * len(statuses), statuses
