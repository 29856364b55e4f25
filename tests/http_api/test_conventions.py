"""API conventions: one error shape (RFC 9457), paginated collections with filters, readable
operation ids, metadata wherever projects are, one name for the chosen projects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from db import record_run, session_scope
from tests.http_api.conftest import PORTFOLIO

PROBLEM = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert set(body) >= PROBLEM_KEYS and body["status"] == status
    assert isinstance(body["detail"], str) and body["type"] == "about:blank"
    return body


def test_every_error_is_a_problem_with_a_string_detail(make_client) -> None:
    """404 (path and id), 405, 413 and 422 all answer problem+json; 422 lists its fields."""
    client = make_client(raise_server_exceptions=False)
    assert _is_problem(client.get("/nowhere"), 404)["instance"] == "/nowhere"
    assert "987" in _is_problem(client.get("/datasets/987/"), 404)["detail"]
    wrong = client.delete("/solve/")
    assert _is_problem(wrong, 405)["title"] == "Method Not Allowed"
    assert "POST" in wrong.headers["allow"]
    big = {"projects": [1], "budget": 1, "name": "x" * 250_000}  # over the 200,000 bytes
    assert "bytes" in _is_problem(client.post("/solve/", json=big), 413)["detail"]
    bad = _is_problem(client.post("/solve/", json={"projects": [1, "1e3"], "budget": 1}), 422)
    assert bad["errors"][0]["field"] == "projects[1].cost"
    assert bad["errors"][0]["loc"] == ["body", "projects", 1, "cost"]
    assert bad["detail"].startswith("projects[1].cost: must be digits")
    limit = _is_problem(client.get("/results/", params={"limit": 0}), 422)
    assert limit["errors"][0]["field"] == "limit"


def test_schema_documents_problems_and_readable_operation_ids(client: TestClient) -> None:
    """Every 4xx/5xx response is a Problem as problem+json; operation ids are plain names."""
    schema = client.get("/openapi.json").json()
    ids = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert ids == {"solve", "create_dataset", "get_dataset", "list_datasets", "solve_dataset",
                   "get_result", "list_results", "benchmark_algorithms", "health", "metrics"}
    for path, operations in schema["paths"].items():
        for op in operations.values():
            assert "500" in op["responses"], (path, op["operationId"])
            for status, response in op["responses"].items():
                if int(status) >= 400 and not (path == "/health" and status == "503"):
                    assert list(response["content"]) == [PROBLEM], (path, status)
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_list_datasets_pages_newest_first_with_a_next_link(client: TestClient) -> None:
    """GET /datasets/ pages the sets newest first; total counts all; next keeps the query."""
    ids = [client.post("/datasets/", json={"name": f"s{i}", "projects": [i + 1, 7]}).json()["id"]
           for i in range(3)]
    first = client.get("/datasets/", params={"limit": 2, "family": "custom"}).json()
    assert [d["id"] for d in first["items"]] == ids[::-1][:2] and first["total"] == 3
    assert "projects" not in first["items"][0]
    assert first["next"].startswith("/datasets/?") and "family=custom" in first["next"]
    second = client.get(first["next"]).json()
    assert [d["id"] for d in second["items"]] == [ids[0]] and second["next"] is None
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert client.get("/datasets/", params={"since": future}).json()["total"] == 0
    assert client.get("/datasets", params={"family": "todd"}).json()["items"] == []


def test_list_results_filters_and_leaves_out_other_kinds(client: TestClient,
                                                         pg_migrated_url) -> None:
    """GET /results/ filters by set, algorithm (ran or requested), status and time, and never
    lists benchmark runs."""
    a = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000}).json()
    b = client.post("/solve/", json={"projects": [5, 7, 9], "budget": 12,
                                     "algorithm": "greedy"}).json()
    with session_scope(pg_migrated_url) as s:
        record_run(session=s, project_set_id=a["dataset_id"], budget_id=a["budget_id"],
                   kind="benchmark", requested_algorithm="dp",
                   result={"selected_indices": [0], "total_cost": 1200.5, "status": "exact",
                           "algorithm": "dp", "execution_time": 0.001})
    everything = client.get("/results/").json()
    assert [r["run_id"] for r in everything["items"]] == [b["run_id"], a["run_id"]]
    assert everything["total"] == 2 and everything["next"] is None
    item = everything["items"][1]
    assert item["budget_exact"] == "2000" and item["selected_indices"] == a["selected_indices"]
    by_set = client.get("/results/", params={"dataset_id": a["dataset_id"]}).json()
    assert [r["run_id"] for r in by_set["items"]] == [a["run_id"]]
    assert [r["run_id"] for r in client.get(
        "/results/", params={"algorithm": "auto"}).json()["items"]] == [a["run_id"]]
    assert [r["run_id"] for r in client.get(
        "/results/", params={"algorithm": "greedy"}).json()["items"]] == [b["run_id"]]
    assert client.get("/results/", params={"status": "failed"}).json()["total"] == 0
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert client.get("/results/", params={"since": past}).json()["total"] == 2
    paged = client.get("/results/", params={"limit": 1}).json()
    assert paged["next"] == "/results/?limit=1&offset=1"


@pytest.mark.parametrize("params", [{"limit": 501}, {"offset": -1}, {"status": "done"},
                                    {"algorithm": "magic"}, {"since": "yesterday"}])
def test_list_parameters_out_of_bounds_are_422(client: TestClient, params) -> None:
    """Page bounds and filter values are checked: a 422 naming the parameter."""
    response = client.get("/results/", params=params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == next(iter(params))


def test_metadata_comes_back_wherever_projects_are(client: TestClient) -> None:
    """Metadata sent with projects is in the solve answer, the stored run and the set's page
    of projects; projects without any show {} (as in budget solve --json)."""
    posted = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000}).json()
    chosen = {p["name"]: p["metadata"] for p in posted["selected_projects"]}
    assert chosen == {"A": {}, "C": {"team": "ops"}}
    stored = client.get(f"/results/{posted['run_id']}/").json()
    assert stored["selected_projects"] == posted["selected_projects"]
    again = client.post(f"/datasets/{posted['dataset_id']}/solve",
                        json={"budget_id": posted["budget_id"], "algorithm": "dp"}).json()
    assert again["selected_projects"] == posted["selected_projects"]
    page = client.get(f"/datasets/{posted['dataset_id']}/",
                      params={"projects_limit": 2, "projects_offset": 1}).json()["projects"]
    assert [(p["index"], p["name"], p["metadata"]) for p in page["items"]] == [
        (1, "B", {}), (2, "C", {"team": "ops"})]
    assert page["total"] == 3 and page["limit"] == 2 and page["next"] is None
    first = client.get(f"/datasets/{posted['dataset_id']}/",
                       params={"projects_limit": 1}).json()["projects"]
    assert first["next"].endswith("projects_limit=1&projects_offset=1")
    assert "selected" not in posted  # one name: selected_projects
