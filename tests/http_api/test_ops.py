"""Health, metrics, the selector, concurrency, CORS, secrets and the no-500 rule."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api import service
from api.app import load_champion
from db import Alert, session_scope
from solvers.instances import generate
from tests.http_api.conftest import PORTFOLIO

DOWN_URL = "postgresql+psycopg2://budget:s3cret-pw@127.0.0.1:1/budget"


def test_health_reports_database_and_model(client: TestClient) -> None:
    """GET /health is 200 with the database reachable and the rules as selector."""
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": {"ok": True, "backend": "postgresql"},
                               "model": {"selector": "rules", "version": None, "source": "none"}}


def test_unreachable_database_is_503_without_the_password(make_client, caplog) -> None:
    """With the database down, /health and /solve/ answer 503; no password in body or logs."""
    caplog.set_level(logging.INFO)
    client = make_client(database_url=DOWN_URL, raise_server_exceptions=False)
    health = client.get("/health")
    assert health.status_code == 503 and health.json()["status"] == "degraded"
    solve = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000})
    assert solve.status_code == 503 and solve.json() == {
        "type": "about:blank", "title": "Service Unavailable", "status": 503,
        "detail": "database unavailable", "instance": "/solve/"}
    for text in (health.text, solve.text, caplog.text):
        assert "s3cret-pw" not in text
    assert "***" in caplog.text  # the start-up log names the URL, masked


def test_health_answers_while_a_solve_runs(make_client) -> None:
    """Solving runs off the event loop: /health answers at once while a 1.5 s solve is running."""
    client = make_client()
    todd = generate("todd", 40, seed=1)
    body = {"projects": todd.projects(), "budget": todd.budget, "algorithm": "backtracking",
            "time_limit": 1.5}
    done: dict = {}

    def slow() -> None:
        done["response"] = client.post("/solve/", json=body)
        done["at"] = time.perf_counter()

    worker = threading.Thread(target=slow)
    worker.start()
    time.sleep(0.3)  # the solve has started
    start = time.perf_counter()
    health = client.get("/health")
    answered = time.perf_counter()
    worker.join()
    assert health.status_code == 200
    assert answered - start < 1.0, answered - start  # ~10 ms unloaded; the solve runs 1.5 s
    assert answered < done["at"], "health should answer before the solve ends"
    assert done["response"].json()["status"] == "approximate"


def test_metrics_cover_requests_solves_fallbacks_model_and_alerts(make_client,
                                                                    pg_migrated_url) -> None:
    """/metrics exposes requests by route and status, latency, runs, solve time, fallbacks,
    the model in use and the alerts raised (here: every solve is 'slow')."""
    client = make_client(alert_time_seconds=1e-9)
    client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000})
    client.post("/solve/", json={"projects": PORTFOLIO * 10, "budget": 9999, "algorithm": "greedy"})
    client.get("/results/424242/")
    text = client.get("/metrics").text
    expected = [
        'budget_api_requests_total{method="POST",route="/solve/",status="200"} 2.0',
        'budget_api_requests_total{method="GET",route="/results/{run_id}/",status="404"} 1.0',
        'budget_api_request_duration_seconds_bucket{le="0.5",method="POST",route="/solve/"}',
        'budget_solver_runs_total{algorithm="meet_in_the_middle",status="exact"} 1.0',
        'budget_solver_runs_total{algorithm="greedy",status="approximate"} 1.0',
        'budget_solve_duration_seconds_count{algorithm="greedy"} 1.0',
        'budget_approximate_fallbacks_total{algorithm="greedy"} 1.0',
        'budget_selector_model_info{selector="rules",version=""} 1.0',
        'budget_alerts_raised_total{kind="slow_solve"} 2.0',
    ]
    for line in expected:
        assert line in text, line
    with session_scope(pg_migrated_url) as s:
        kinds = s.scalars(select(Alert.kind)).all()
    assert kinds == ["slow_solve", "slow_solve"]


def test_unmatched_paths_do_not_explode_metric_labels(client: TestClient) -> None:
    """Unknown paths are counted under one `unmatched` route label, never the raw path."""
    assert client.get("/no/such/path/123").status_code == 404
    text = client.get("/metrics").text
    assert 'route="unmatched"' in text and "/no/such/path" not in text


def test_injected_selector_is_used_and_reported(make_client) -> None:
    """A champion selector chooses for `auto`; runs, /health and /metrics name it."""

    def selector(features) -> str:
        return "dp"

    selector.name = "model:selector@v7"
    selector.version = 7
    client = make_client(selector=selector)
    body = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000}).json()
    assert body["algorithm"] == "dp" and body["selector"] == "model:selector@v7"
    assert client.get(f"/results/{body['run_id']}/").json()["selector"] == "model:selector@v7"
    model = client.get("/health").json()["model"]
    assert model == {"selector": "model:selector@v7", "version": 7, "source": "champion"}
    metrics = client.get("/metrics").text
    assert 'budget_selector_model_info{selector="model:selector@v7",version="7"} 1.0' in metrics


def test_failing_selector_falls_back_to_the_rules(make_client) -> None:
    """A selector that raises never fails the request: the rules choose and the reason says so."""

    def broken(features) -> str:
        raise RuntimeError("model file tampered")

    broken.name = "model:selector@v8"
    body = make_client(selector=broken).post("/solve/", json={"projects": PORTFOLIO,
                                                              "budget": 2000}).json()
    assert body["selector"] == "rules" and "model:selector@v8 failed" in body["reason"]


def test_champion_loader_falls_back_to_rules(pg_migrated_url) -> None:
    """Without a trained champion (or without ml.serving at all) the loader returns None."""
    assert load_champion(pg_migrated_url) is None


def test_unexpected_errors_are_500_without_a_stack_trace(make_client, monkeypatch) -> None:
    """An unexpected exception becomes a bare 500: no traceback, no exception text."""

    def explode(*args, **kwargs):
        raise RuntimeError("boom: password=hunter2")

    monkeypatch.setattr(service, "result", explode)
    client = make_client(raise_server_exceptions=False)
    response = client.get("/results/1/")
    assert response.status_code == 500
    assert response.json() == {"type": "about:blank", "title": "Internal Server Error",
                               "status": 500, "detail": "internal error",
                               "instance": "/results/1/"}
    assert response.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in response.text and "hunter2" not in response.text


def test_cors_is_off_by_default_and_on_when_configured(make_client) -> None:
    """No CORS headers unless API_CORS_ORIGINS lists the origin."""
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    off = make_client().options("/solve/", headers=headers)
    assert "access-control-allow-origin" not in off.headers
    on = make_client(api_cors_origins=["https://app.example"]).options(
        "/solve/", headers={**headers, "Origin": "https://app.example"})
    assert on.headers.get("access-control-allow-origin") == "https://app.example"


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    """The OpenAPI schema lists every endpoint and /docs renders."""
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/solve/", "/datasets/", "/datasets/{set_id}/", "/datasets/{set_id}/solve",
            "/algorithms/benchmark", "/results/{run_id}/", "/health", "/metrics"} <= set(paths)
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("requested,expected", [(None, 2.0), (0.5, 0.5), (4.0, 2.0)])
def test_time_limit_is_clamped_to_the_server_cap(requested, expected) -> None:
    """The solve gets the request's time_limit, never more than API_SOLVE_TIME_CAP."""
    from tests.http_api.conftest import settings_for

    assert service.time_limit_for(requested, settings_for("sqlite://")) == expected
