"""GET /algorithms/benchmark: bounded synchronous runs, and the background deployment path."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import flows.remote


def test_small_benchmark_runs_synchronously(client: TestClient) -> None:
    """Small parameters run now and report figures for every algorithm asked for."""
    response = client.get("/algorithms/benchmark", params={
        "family": "uniform", "n": 20, "instances": 2, "algorithm": ["dp", "greedy"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["n"] == 20 and body["instances"] == 2
    figures = {r["algorithm"]: r for r in body["results"]}
    assert set(figures) == {"dp", "greedy"}
    assert figures["dp"]["exact"] == 2 and figures["dp"]["mean_gap"] == 0.0
    assert figures["greedy"]["runs"] == 2 and figures["greedy"]["mean_gap"] >= 0


def test_default_benchmark_compares_every_algorithm_but_brute_force(client: TestClient) -> None:
    """Without `algorithm`, every registered algorithm except brute force is compared."""
    body = client.get("/algorithms/benchmark", params={"n": 10, "instances": 1}).json()
    names = {r["algorithm"] for r in body["results"]}
    assert "brute_force" not in names and {"auto", "dp", "hybrid"} <= names


def test_parameters_are_bounded(client: TestClient) -> None:
    """Too many projects, instances or total work, or a bad family, get 422 before any solve."""
    assert client.get("/algorithms/benchmark", params={"n": 201}).status_code == 422
    assert client.get("/algorithms/benchmark", params={"instances": 11}).status_code == 422
    assert client.get("/algorithms/benchmark", params={"family": "nope"}).status_code == 422
    assert client.get("/algorithms/benchmark", params={"algorithm": "nope"}).status_code == 422
    heavy = client.get("/algorithms/benchmark", params={"instances": 10, "time_limit": 1})
    assert heavy.status_code == 422
    assert "over the server cap" in heavy.json()["errors"][0]["msg"]
    todd = client.get("/algorithms/benchmark", params={"family": "todd", "n": 50})
    assert todd.status_code == 422
    assert todd.json()["errors"][0]["field"] == "n"
    assert "at most 40 for family 'todd'" in todd.json()["errors"][0]["msg"]
    background = client.get("/algorithms/benchmark",
                            params={"family": "todd", "n": 41, "background": True})
    assert background.status_code == 422 and background.json()["errors"][0]["field"] == "n"
    assert client.get("/algorithms/benchmark", params={
        "family": "todd", "n": 40, "instances": 1, "algorithm": "greedy"}).status_code == 200


def test_schema_states_the_todd_limit(client: TestClient) -> None:
    """The `n` parameter's schema names the per-family cap the server enforces (todd ≤ 40)."""
    op = client.get("/openapi.json").json()["paths"]["/algorithms/benchmark"]["get"]
    n = next(p for p in op["parameters"] if p["name"] == "n")
    assert n["schema"]["maximum"] == 200 and n["schema"]["x-max-by-family"] == {"todd": 40}
    assert "at most 40 for family=todd" in n["description"]


def test_background_without_a_prefect_api_is_503(client: TestClient, monkeypatch) -> None:
    """background=true with no PREFECT_API_URL explains what is missing (503), never a 500."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    response = client.get("/algorithms/benchmark", params={"background": "true"})
    assert response.status_code == 503
    assert "PREFECT_API_URL" in response.json()["detail"]


def test_background_starts_the_deployment(client: TestClient, monkeypatch) -> None:
    """With a Prefect API configured, the deployment is started and its flow-run id returned."""
    started = {}

    def fake_start(parameters: dict) -> str:
        started.update(parameters)
        return "0b1c2d3e-0000-4000-8000-000000000000"

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    monkeypatch.setattr(flows.remote, "start_benchmark_run", fake_start)
    response = client.get("/algorithms/benchmark", params={
        "background": "true", "n": 150, "algorithm": ["dp"]})
    assert response.status_code == 202
    assert response.json() == {"flow_run_id": "0b1c2d3e-0000-4000-8000-000000000000",
                               "deployment": "benchmark/adhoc"}
    params = started["params"]
    assert params["sizes"] == [150] and params["algorithms"] == ["dp"]
    assert params["families"] == ["uniform"] and params["per_size"] == 3
    assert "database_url" not in params  # never a URL (with its password) in flow parameters


@pytest.mark.parametrize("error", [RuntimeError("boom"), ConnectionError("refused")])
def test_background_start_failure_is_503(client: TestClient, monkeypatch, error) -> None:
    """If Prefect cannot start the run (server down, no deployment), the answer is a clear 503."""

    def failing(parameters: dict) -> str:
        raise error

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:1/api")
    monkeypatch.setattr(flows.remote, "start_benchmark_run", failing)
    response = client.get("/algorithms/benchmark", params={"background": "true"})
    assert response.status_code == 503
    assert "budget serve" in response.json()["detail"]


def test_remote_reports_whether_prefect_is_configured(monkeypatch) -> None:
    """prefect_api_configured follows PREFECT_API_URL."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert flows.remote.prefect_api_configured() is False
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect:4200/api")
    assert flows.remote.prefect_api_configured() is True


def test_background_parameters_the_flow_refuses_are_422(client: TestClient, monkeypatch) -> None:
    """Parameters the benchmark flow would refuse (todd beyond n=40) get 422, not a failed run."""
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:1/api")
    response = client.get("/algorithms/benchmark", params={
        "background": "true", "family": "todd", "n": 100})
    assert response.status_code == 422
    assert "todd" in response.json()["errors"][0]["msg"]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_background_creates_a_real_flow_run(client: TestClient, monkeypatch) -> None:
    """Against a Prefect test server with `benchmark/adhoc` registered, the API creates a flow
    run of that deployment whose parameters Prefect accepted."""
    import uuid

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    from flows.deployments import build_deployments
    from flows.names import BENCHMARK_ADHOC

    adhoc = next(d for d in build_deployments()
                 if f"{d.flow_name}/{d.name}" == BENCHMARK_ADHOC)
    deployment_id = adhoc.apply()
    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
    response = client.get("/algorithms/benchmark", params={
        "background": "true", "family": "pthree", "n": 60, "instances": 2,
        "algorithm": ["dp", "hybrid"]})
    assert response.status_code == 202, response.text
    with get_client(sync_client=True) as prefect:
        run = prefect.read_flow_run(uuid.UUID(response.json()["flow_run_id"]))
    assert run.deployment_id == deployment_id
    assert run.parameters["params"]["sizes"] == [60]
    assert run.parameters["params"]["algorithms"] == ["dp", "hybrid"]
