"""POST /datasets/, GET /datasets/{id}/, POST /datasets/{id}/solve on real PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.http_api.conftest import PORTFOLIO


def _create(client: TestClient, **extra) -> dict:
    response = client.post("/datasets/", json={"name": "portfolio", "projects": PORTFOLIO,
                                               "budgets": [2000, "1000.50"], **extra})
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_create_is_idempotent_by_content(client: TestClient) -> None:
    """The first POST creates (201); the same projects again return the same id (200)."""
    first = client.post("/datasets/", json={"projects": PORTFOLIO, "budgets": [2000]})
    assert first.status_code == 201 and first.json()["created"] is True
    again = client.post("/datasets/", json={"projects": PORTFOLIO, "budgets": [2000, 900]})
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["id"] == first.json()["id"]
    assert [b["amount"] for b in again.json()["budgets"]] == [2000, 900]
    other = client.post("/datasets/", json={"projects": PORTFOLIO[:2]})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


def test_get_returns_projects_budgets_and_paginated_runs(client: TestClient) -> None:
    """GET /datasets/{id}/ lists projects, budgets and runs newest first, limit/offset paged."""
    ds = _create(client)
    budget_id = ds["budgets"][0]["id"]
    runs = [client.post(f"/datasets/{ds['id']}/solve",
                        json={"budget_id": budget_id, "algorithm": a}).json()["run_id"]
            for a in ("dp", "greedy", "hybrid")]
    body = client.get(f"/datasets/{ds['id']}/", params={"limit": 2}).json()
    assert [p["name"] for p in body["projects"]["items"]] == ["A", "B", "C"]
    assert [b["amount"] for b in body["budgets"]] == [2000, 1000.5]
    assert body["runs"]["total"] == 3 and body["runs"]["limit"] == 2
    assert [r["run_id"] for r in body["runs"]["items"]] == runs[::-1][:2]
    page2 = client.get(f"/datasets/{ds['id']}/", params={"limit": 2, "offset": 2}).json()
    assert [r["run_id"] for r in page2["runs"]["items"]] == [runs[0]]


def test_solve_against_a_stored_budget_or_a_new_one(client: TestClient) -> None:
    """A stored budget is used by id; a new amount is solved and then stored with the set."""
    ds = _create(client)
    stored = client.post(f"/datasets/{ds['id']}/solve", json={"budget_id": ds["budgets"][0]["id"]})
    assert stored.status_code == 200
    assert stored.json()["total_cost"] == 1650.75 and stored.json()["budget"] == 2000
    fresh = client.post(f"/datasets/{ds['id']}/solve", json={"budget": "1250.25"})
    assert fresh.status_code == 200
    assert fresh.json()["total_cost"] == 1250.25 and fresh.json()["selected_indices"] == [1, 2]
    amounts = [b["amount"] for b in client.get(f"/datasets/{ds['id']}/").json()["budgets"]]
    assert 1250.25 in amounts


def test_unknown_set_or_foreign_budget_is_404(client: TestClient) -> None:
    """An unknown set id, or a budget id of another set, gets 404 with a message."""
    ds = _create(client)
    other = client.post("/datasets/", json={"projects": [{"cost": 1}], "budgets": [1]}).json()
    assert client.get("/datasets/987654/").status_code == 404
    missing = client.post("/datasets/987654/solve", json={"budget": 5})
    assert missing.status_code == 404 and "987654" in missing.json()["detail"]
    foreign = client.post(f"/datasets/{ds['id']}/solve",
                          json={"budget_id": other["budgets"][0]["id"]})
    assert foreign.status_code == 404 and "has no budget" in foreign.json()["detail"]


def test_bad_dataset_requests_are_422(client: TestClient) -> None:
    """Bad projects, both or neither budget, bad ids and bad paging all get 422 naming the field."""
    bad = client.post("/datasets/", json={"projects": [{"cost": "-1"}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "projects[0].cost"
    meta = client.post("/datasets/", json={"projects": [{"cost": 1, "metadata": [1]}]})
    assert meta.status_code == 422
    too_many = client.post("/datasets/", json={"projects": [{"cost": 1}] * 301})
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "projects"
    ds = _create(client)
    for body in ({}, {"budget": 1, "budget_id": ds["budgets"][0]["id"]}):
        response = client.post(f"/datasets/{ds['id']}/solve", json=body)
        assert response.status_code == 422
        assert "exactly one of budget_id and budget" in response.json()["errors"][0]["msg"]
    assert client.get("/datasets/0/").status_code == 422
    assert client.get("/datasets/x/").status_code == 422
    assert client.get(f"/datasets/{ds['id']}/", params={"limit": 0}).status_code == 422
    assert client.get(f"/datasets/{ds['id']}/", params={"offset": -1}).status_code == 422
    slow = client.post(f"/datasets/{ds['id']}/solve", json={"budget": 1, "time_limit": 60})
    assert slow.status_code == 422 and slow.json()["errors"][0]["field"] == "time_limit"


def test_concurrent_solves_with_the_same_new_budget_all_succeed(client: TestClient) -> None:
    """Six concurrent POST /datasets/{id}/solve with one new amount: all 200, one budget row."""
    import threading

    ds = _create(client)
    for round_no in range(4):
        barrier = threading.Barrier(6)
        codes: list[int] = []

        def post(amount: int = 1500 + round_no, barrier: threading.Barrier = barrier,
                 codes: list[int] = codes) -> None:
            barrier.wait()
            codes.append(client.post(f"/datasets/{ds['id']}/solve",
                                     json={"budget": amount, "algorithm": "greedy"}).status_code)

        threads = [threading.Thread(target=post) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert codes == [200] * 6, codes
    amounts = [b["amount"] for b in client.get(f"/datasets/{ds['id']}/").json()["budgets"]]
    assert amounts == [2000, 1000.5, 1500, 1501, 1502, 1503]
