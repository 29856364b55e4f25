"""POST /solve/ and GET /results/{run_id}/ on real PostgreSQL: happy paths and every error path."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from db import AlgorithmRun, ProjectSet, session_scope
from tests.http_api.conftest import PORTFOLIO


def _field_errors(response) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return [(item["field"], item["msg"]) for item in response.json()["errors"]]


def test_solve_money_with_cents_returns_the_optimum_and_records_the_run(client: TestClient,
                                                                        pg_migrated_url) -> None:
    """Money with cents is solved exactly; the answer names the projects and the run is stored."""
    response = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["selected_indices"] == [0, 2]
    assert body["selected_projects"] == [
        {"index": 0, "name": "A", "cost": 1200.5, "cost_exact": "1200.50", "metadata": {}},
        {"index": 2, "name": "C", "cost": 450.25, "cost_exact": "450.25",
         "metadata": {"team": "ops"}}]
    assert body["total_cost"] == 1650.75 and body["status"] == "exact"
    assert body["total_cost_exact"] == "1650.75" and body["budget_exact"] == "2000"
    assert body["upper_bound"] == 1650.75 and body["budget"] == 2000
    assert body["selector"] == "rules" and body["requested_algorithm"] == "auto"
    assert body["stats"]["execution_time"] >= 0 and body["stats"]["n"] == 3
    with session_scope(pg_migrated_url) as s:
        run = s.get(AlgorithmRun, body["run_id"])
        assert run is not None and run.selected_projects == [0, 2]
        assert str(run.total_cost) == "1650.75"


def test_result_returns_the_stored_run(client: TestClient) -> None:
    """GET /results/{id}/ returns what POST /solve/ answered, from the database."""
    posted = client.post("/solve/", json={"projects": PORTFOLIO, "budget": "2000.00",
                                          "algorithm": "dp"}).json()
    got = client.get(f"/results/{posted['run_id']}/")
    assert got.status_code == 200
    body = got.json()
    for key in ("run_id", "dataset_id", "budget_id", "selected_indices", "selected_projects",
                "total_cost", "status", "upper_bound", "algorithm", "selector"):
        assert body[key] == posted[key], key
    assert body["algorithm"] == "dp" and body["requested_algorithm"] == "dp"
    assert body["selector"] is None  # a named algorithm: nobody chose


def test_same_projects_are_stored_once(client: TestClient, pg_migrated_url) -> None:
    """Two solves of the same projects share one stored project set."""
    first = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000}).json()
    second = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 1000}).json()
    assert first["dataset_id"] == second["dataset_id"]
    assert first["budget_id"] != second["budget_id"]
    with session_scope(pg_migrated_url) as s:
        assert s.scalar(select(func.count()).select_from(ProjectSet)) == 1


def test_bad_costs_get_422_with_the_field_path(client: TestClient) -> None:
    """A negative cost, a third decimal, a boolean, a word, an empty or exponent string are
    each named by field path, with solvers.money's reason and the value."""
    digits = "digits with at most two decimals"
    for cost, reason in [(-3, "non-negative; got -3"), ("1.005", "more decimal places than cents"),
                         (1.005, "more decimal places than cents"), (True, "not a boolean"),
                         ("abc", digits), ("", digits), ("1e3", "; got '1e3'"), (" 5", digits),
                         ("-1", "non-negative"), (1e30, "too large")]:
        projects = [{"name": "a", "cost": 1}, {"name": "b", "cost": cost}]
        errors = _field_errors(client.post("/solve/", json={"projects": projects, "budget": 5}))
        assert errors[0][0] == "projects[1].cost", errors
        assert reason in errors[0][1], errors


def test_malformed_requests_get_422(client: TestClient) -> None:
    """Missing budget, empty list, unknown field, unknown algorithm, bad JSON: all 422."""
    cases = [
        ({"projects": PORTFOLIO}, "budget"),
        ({"projects": [], "budget": 1}, "projects"),
        ({"projects": PORTFOLIO, "budget": 1, "colour": "red"}, "colour"),
        ({"projects": PORTFOLIO, "budget": 1, "algorithm": "quantum"}, "algorithm"),
        ({"projects": PORTFOLIO, "budget": 1, "time_limit": 0}, "time_limit"),
        ({"projects": [{"name": "", "cost": 1}], "budget": 1}, "projects[0].name"),
        ({"projects": "many", "budget": 1}, "projects"),
    ]
    for body, field in cases:
        errors = _field_errors(client.post("/solve/", json=body))
        assert errors[0][0] == field, (body, errors)
    broken = client.post("/solve/", content=b'{"projects": [', headers={
        "content-type": "application/json"})
    assert broken.status_code == 422
    assert client.post("/solve/", content=b"[1, 2]",
                       headers={"content-type": "application/json"}).status_code == 422


def test_unknown_algorithm_lists_the_valid_names(client: TestClient) -> None:
    """The 422 for an unknown algorithm says which names are valid."""
    errors = _field_errors(client.post("/solve/", json={"projects": PORTFOLIO, "budget": 1,
                                                         "algorithm": "quantum"}))
    assert "'dp'" in errors[0][1] and "'auto'" in errors[0][1]


def test_too_many_projects_is_422(client: TestClient) -> None:
    """More projects than API_MAX_PROJECTS is rejected before solving, naming `projects`."""
    projects = [{"cost": i + 1} for i in range(301)]
    errors = _field_errors(client.post("/solve/", json={"projects": projects, "budget": 10}))
    assert errors == [("projects",
                       "at most 300 projects per request (API_MAX_PROJECTS), got 301")]


def test_time_limit_above_the_maximum_is_422(client: TestClient) -> None:
    """A time_limit above API_MAX_TIME_LIMIT is rejected, naming the limit."""
    errors = _field_errors(client.post("/solve/", json={"projects": PORTFOLIO, "budget": 1,
                                                         "time_limit": 6}))
    assert errors == [("time_limit", "must be at most 5.0 seconds, got 6.0")]


def test_server_cap_bounds_a_long_solve(make_client) -> None:
    """A solve that would run to its time_limit stops at the server-side cap instead."""
    from solvers.instances import generate

    client = make_client(api_solve_time_cap=0.3)
    todd = generate("todd", 40, seed=1)
    response = client.post("/solve/", json={"projects": todd.projects(), "budget": todd.budget,
                                            "algorithm": "backtracking", "time_limit": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "approximate"
    assert body["stats"]["execution_time"] < 1.0


def test_body_over_the_limit_is_413_before_parsing(client: TestClient) -> None:
    """A body over API_MAX_BODY_BYTES gets 413, whether announced by Content-Length or streamed."""
    big = json.dumps({"projects": [{"name": "x" * 150, "cost": 1}] * 2000, "budget": 1})
    assert len(big) > 200_000
    response = client.post("/solve/", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "200000 bytes" in response.json()["detail"]

    def chunks():
        for i in range(0, len(big), 10_000):
            yield big[i:i + 10_000].encode()

    streamed = client.post("/solve/", content=chunks(),
                           headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_unknown_run_is_404_and_bad_ids_are_422(client: TestClient) -> None:
    """Unknown run ids get 404; ids that are not positive 64-bit integers get 422."""
    missing = client.get("/results/999999/")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json() == {"type": "about:blank", "title": "Not Found", "status": 404,
                              "detail": "algorithm run 999999 does not exist",
                              "instance": "/results/999999/"}
    for bad in ("abc", "0", "-1", str(2**63)):
        assert client.get(f"/results/{bad}/").status_code == 422, bad


def test_nul_characters_are_422_not_a_database_error(client: TestClient) -> None:
    """NUL characters (which PostgreSQL text refuses) in names or metadata get 422."""
    for project in ({"name": "a\x00b", "cost": 1}, {"cost": 1, "metadata": {"k\x00": 1}},
                    {"cost": 1, "metadata": {"k": ["x\x00"]}}):
        response = client.post("/solve/", json={"projects": [project], "budget": 1})
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"].startswith("projects[0]")


def test_memory_is_measured_only_on_request(client: TestClient) -> None:
    """Peak memory costs a second, traced pass: null by default, measured with measure_memory."""
    plain = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000}).json()
    assert plain["stats"]["memory_used"] is None
    traced = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000,
                                          "measure_memory": True}).json()
    assert traced["stats"]["memory_used"] > 0 and traced["stats"]["memory_method"] == "tracemalloc"
    stored = client.get(f"/results/{traced['run_id']}/").json()
    assert stored["stats"]["memory_used"] == traced["stats"]["memory_used"]
