"""What a client can rely on: bare amounts as projects, both slash forms, stored runs that say
what the POST said (n, memory_method), exact money, and types as strict as the schema says."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from db import AlgorithmRun, session_scope
from tests.http_api.conftest import PORTFOLIO


def test_projects_may_be_bare_amounts(client: TestClient) -> None:
    """`"projects": [1, 2, 3]` (as the CLI and solvers.solve take it) solves like objects."""
    bare = client.post("/solve/", json={"projects": [1, 2, 3], "budget": 4})
    assert bare.status_code == 200, bare.text
    body = bare.json()
    assert body["total_cost"] == 4 and body["status"] == "exact"
    assert [p["name"] for p in body["selected_projects"]] == [f"project-{i}"
                                                     for i in body["selected_indices"]]
    mixed = client.post("/solve/", json={"projects": ["1200.50", {"name": "B", "cost": 800},
                                                      450.25], "budget": 2000}).json()
    assert mixed["selected_indices"] == [0, 2] and mixed["total_cost_exact"] == "1650.75"
    stored = client.post("/datasets/", json={"projects": [5, 7], "budgets": [7]})
    assert stored.status_code == 201 and stored.json()["n_projects"] == 2


@pytest.mark.parametrize("item,field", [
    (-1, "projects[1].cost"), ("1e3", "projects[1].cost"), ("", "projects[1].cost"),
    (True, "projects[1]"), (None, "projects[1]"), ([3], "projects[1]"),
])
def test_bad_bare_amounts_name_the_item(client: TestClient, item, field: str) -> None:
    """A bad bare amount is a 422 naming its position, like a bad object's cost."""
    response = client.post("/solve/", json={"projects": [1, item], "budget": 4})
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == field, response.json()
    if field.endswith(".cost") and isinstance(item, str):
        assert error["msg"] == (f'must be digits with at most two decimals, e.g. "1200.50"; '
                                f"got {item!r}")


def test_schema_documents_bare_amounts(client: TestClient) -> None:
    """The request schema lets a project item be a project object or an amount."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    items = schemas["SolveRequest"]["properties"]["projects"]["items"]
    refs = [branch.get("$ref") for branch in items["anyOf"]]
    assert "#/components/schemas/ProjectIn" in refs
    amount = next(b for b in items["anyOf"] if "anyOf" in b)
    assert {b["type"] for b in amount["anyOf"]} == {"number", "string"}


@pytest.mark.parametrize("method,path,body", [
    ("post", "/solve", {"projects": [1, 2, 3], "budget": 4}),
    ("post", "/datasets", {"projects": [1, 2], "budgets": [2]}),
    ("get", "/health/", None),
    ("get", "/algorithms/benchmark/?n=5&instances=1&algorithm=greedy", None),
])
def test_both_slash_forms_answer_without_a_redirect(client: TestClient, method: str, path: str,
                                                    body) -> None:
    """The form without (or with) the trailing slash gets the same answer, never a 307."""
    kwargs = {"json": body} if body is not None else {}
    response = client.request(method.upper(), path, follow_redirects=False, **kwargs)
    assert response.status_code in (200, 201), (response.status_code, response.text)
    documented = path.rstrip("/") + "/" if path.endswith(("/solve", "/datasets")) else path
    assert "location" not in response.headers, documented


def test_stored_run_paths_answer_in_both_forms(client: TestClient) -> None:
    """GET /results/{id} and /datasets/{id} work without the slash; /datasets/{id}/solve/ with."""
    posted = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000}).json()
    got = client.get(f"/results/{posted['run_id']}", follow_redirects=False)
    assert got.status_code == 200 and got.json()["run_id"] == posted["run_id"]
    dataset = client.get(f"/datasets/{posted['dataset_id']}", follow_redirects=False)
    assert dataset.status_code == 200 and dataset.json()["id"] == posted["dataset_id"]
    again = client.post(f"/datasets/{posted['dataset_id']}/solve/", follow_redirects=False,
                        json={"budget_id": posted["budget_id"]})
    assert again.status_code == 200 and again.json()["total_cost"] == posted["total_cost"]
    assert client.get("/nowhere", follow_redirects=False).status_code == 404
    assert client.get("/solve", follow_redirects=False).status_code == 405


def test_the_schema_lists_each_path_once(client: TestClient) -> None:
    """The other slash forms are routed but not documented twice."""
    paths = client.get("/openapi.json").json()["paths"]
    assert "/solve/" in paths and "/solve" not in paths
    assert "/results/{run_id}/" in paths and "/results/{run_id}" not in paths


@pytest.mark.parametrize("measure", [False, True])
def test_result_carries_n_and_memory_method_like_the_post(client: TestClient,
                                                          measure: bool) -> None:
    """GET /results/{id}/ reports the n and memory method the POST reported, not nulls."""
    posted = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000,
                                          "measure_memory": measure}).json()
    assert posted["stats"]["n"] == 3
    got = client.get(f"/results/{posted['run_id']}/").json()
    assert got["stats"]["n"] == 3
    if measure:
        assert posted["stats"]["memory_method"] in ("tracemalloc", "rss")
        assert got["stats"]["memory_used"] == posted["stats"]["memory_used"]
    else:
        assert posted["stats"]["memory_method"] == got["stats"]["memory_method"] == "none"
        assert got["stats"]["memory_used"] is None


def test_dataset_solve_carries_n(client: TestClient) -> None:
    """POST /datasets/{id}/solve reports n, and so does the stored run read back."""
    made = client.post("/datasets/", json={"projects": PORTFOLIO, "budgets": [2000]}).json()
    solved = client.post(f"/datasets/{made['id']}/solve", json={"budget": 1000}).json()
    assert solved["stats"]["n"] == 3
    assert client.get(f"/results/{solved['run_id']}/").json()["stats"]["n"] == 3


HUGE = [{"name": "big", "cost": "12345678901234567.89"}, {"name": "small", "cost": "0.01"}]


def test_huge_amounts_come_back_with_their_cents(client: TestClient, pg_migrated_url) -> None:
    """17 digits and cents survive the solve, the stored row and every response exactly."""
    posted = client.post("/solve/", json={"projects": HUGE, "budget": "12345678901234567.90",
                                          "algorithm": "dp"})
    assert posted.status_code == 200, posted.text
    body = posted.json()
    assert body["total_cost_exact"] == "12345678901234567.90"
    assert body["budget_exact"] == "12345678901234567.90"
    assert body["upper_bound_exact"] == "12345678901234567.90"
    assert body["selected_projects"][0]["cost_exact"] == "12345678901234567.89"
    with session_scope(pg_migrated_url) as s:
        run = s.get(AlgorithmRun, body["run_id"])
        assert run.total_cost == Decimal("12345678901234567.90")
    got = client.get(f"/results/{body['run_id']}/").json()
    for key in ("total_cost_exact", "budget_exact", "upper_bound_exact"):
        assert got[key] == body[key], key
    assert got["selected_projects"][0]["cost_exact"] == "12345678901234567.89"
    again = client.post(f"/datasets/{body['dataset_id']}/solve",
                        json={"budget": "12345678901234567.89"}).json()
    assert again["total_cost_exact"] == "12345678901234567.89"
    dataset = client.get(f"/datasets/{body['dataset_id']}/").json()
    assert "12345678901234567.89" in {b["amount_exact"] for b in dataset["budgets"]}
    assert {r["total_cost_exact"] for r in dataset["runs"]["items"]} == {
        "12345678901234567.90", "12345678901234567.89"}


def test_exact_strings_are_whole_or_two_decimals(client: TestClient) -> None:
    """Whole amounts read "2000" (not "2000.00"); others always two decimals ("0.50")."""
    body = client.post("/solve/", json={"projects": ["0.5", 3], "budget": 2000}).json()
    assert body["budget_exact"] == "2000" and body["total_cost_exact"] == "3.50"
    assert [p["cost_exact"] for p in body["selected_projects"]] == ["0.50", "3"]


def test_negative_zero_is_zero(client: TestClient) -> None:
    """A cost or budget of -0.0 is accepted as 0 and shown as "0", never "-0" (was a 500)."""
    response = client.post("/solve/", content=b'{"projects": [-0.0, 1], "budget": -0}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["budget_exact"] == "0" and body["total_cost_exact"] == "0"
    assert all(p["cost_exact"] == "0" for p in body["selected_projects"])


@pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
def test_measure_memory_must_be_a_json_boolean(client: TestClient, value) -> None:
    """`"measure_memory": 0` (or 1, "true") is a 422 naming the field, not a boolean."""
    response = client.post("/solve/", json={"projects": [1], "budget": 1,
                                            "measure_memory": value})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "measure_memory"


def test_budget_id_must_be_a_json_integer(client: TestClient) -> None:
    """`budget_id` true, "1" or 1.5 is refused (the schema says integer); 1.0 is an integer."""
    made = client.post("/datasets/", json={"projects": [1, 2], "budgets": [2]}).json()
    budget_id = made["budgets"][0]["id"]
    ok = client.post(f"/datasets/{made['id']}/solve", json={"budget_id": float(budget_id)})
    assert ok.status_code == 200 and ok.json()["budget_id"] == budget_id, ok.text
    for value in (True, str(budget_id), budget_id + 0.5):
        response = client.post(f"/datasets/{made['id']}/solve", json={"budget_id": value})
        assert response.status_code == 422, (value, response.text)
        assert response.json()["errors"][0]["field"] == "budget_id"


def test_schema_states_exactly_one_budget(client: TestClient) -> None:
    """DatasetSolveRequest's schema says oneOf budget_id / budget, null counting as absent."""
    import jsonschema

    schema = client.get("/openapi.json").json()["components"]["schemas"]["DatasetSolveRequest"]
    one_of = schema["oneOf"]
    assert [b["required"] for b in one_of] == [["budget_id"], ["budget"]]
    check = schema
    valid = [{"budget_id": 1}, {"budget": 5}, {"budget": 5, "budget_id": None}]
    invalid = [{}, {"budget_id": 1, "budget": 5}, {"budget": None}, {"budget_id": None}]
    for body in valid:
        jsonschema.validate(body, check)
    for body in invalid:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(body, check)


def test_money_schema_forbids_what_the_server_refuses(client: TestClient) -> None:
    """Money strings have a pattern (no "", no exponent) and numbers a 0.01 step."""
    import jsonschema

    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    money = schemas["SolveRequest"]["properties"]["budget"]
    for good in (0, 12.5, "12", "12345678901234567.89", "0.5"):
        jsonschema.validate(good, money)
    for bad in ("", "1e3", " 5", "-1", "1.005", 0.001, -1, True):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, money)
    measure = schemas["SolveRequest"]["properties"]["measure_memory"]
    assert measure["type"] == "boolean"


def test_project_cap_defaults_to_the_solvers_scale() -> None:
    """API_MAX_PROJECTS defaults to 200,000 within MAX_PROJECTS (2,000,000, the solvers' own
    limit that the CLI passes on), and the default body limit holds that many 41-byte
    project objects."""
    import solvers
    from config.settings import Settings

    settings = Settings(_env_file=None)
    assert settings.api_max_projects == settings.api_projects_cap == 200_000
    assert settings.max_projects == solvers.DEFAULT_LIMITS.max_n == 2_000_000
    assert settings.api_max_body_bytes >= 200_000 * 41
    assert Settings(_env_file=None, api_max_projects=10**6, max_projects=1000).api_projects_cap \
        == 1000


def test_a_request_at_the_old_5000_cap_is_solved(make_client) -> None:
    """6,000 bare amounts (over the old 5,000 cap) are solved with the default limits."""
    client = make_client(api_max_projects=200_000, api_max_body_bytes=16_000_000)
    projects = [i % 997 + 1 for i in range(6_000)]
    response = client.post("/solve/", json={"projects": projects, "budget": 12_345})
    assert response.status_code == 200, response.text[:300]
    assert response.json()["stats"]["n"] == 6_000 and response.json()["total_cost"] == 12_345


def test_schema_states_this_servers_limits(make_client) -> None:
    """`projects.maxItems` and `time_limit`'s maximum are the server's settings."""
    client = make_client(api_max_projects=1234, api_max_time_limit=7.5)
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("SolveRequest", "DatasetRequest"):
        assert schemas[name]["properties"]["projects"]["maxItems"] == 1234
    for name in ("SolveRequest", "DatasetSolveRequest"):
        numbers = [b for b in schemas[name]["properties"]["time_limit"]["anyOf"]
                   if b.get("type") == "number"]
        assert numbers[0]["maximum"] == 7.5
    over = client.post("/solve/", json={"projects": [1] * 1235, "budget": 1})
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "projects"
