"""POST /solve/ carries the runtime model's forecast (loaded once at start-up), or null and why."""

from __future__ import annotations

from tests.conftest import register_runtime
from tests.http_api.conftest import PORTFOLIO


def test_solve_without_a_runtime_model_says_why_there_is_no_forecast(client) -> None:
    """No runtime model registered: `forecast` is null and `forecast_note` gives the reason."""
    body = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000}).json()
    assert body["status"] == "exact"
    assert body["forecast"] is None
    assert body["forecast_note"].startswith("no runtime model registered")


def test_solve_and_dataset_solve_carry_the_forecast(make_client, pg_migrated_url,
                                                    runtime_artifact) -> None:
    """With a registered runtime model, both solve endpoints report the predicted time, the
    algorithm auto will run and whether it is expected proven within the request's limit; a
    stored run (GET /results) has no forecast."""
    version = register_runtime(pg_migrated_url, runtime_artifact)
    client = make_client()
    body = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000,
                                        "time_limit": 1.5}).json()
    fc = body["forecast"]
    assert body["forecast_note"] is None and fc["runtime_model"] == f"model:runtime@v{version}"
    assert fc["predicted_algorithm"] == body["algorithm"] and fc["time_limit"] == 1.5
    assert fc["proven_answer"] in ("yes", "unsure") and 0 < fc["predicted_seconds"] < 1.5
    assert fc["expected_proven"] is (fc["proven_answer"] == "yes")
    greedy = client.post(f"/datasets/{body['dataset_id']}/solve",
                         json={"budget_id": body["budget_id"], "algorithm": "greedy"}).json()
    assert greedy["forecast"]["predicted_algorithm"] == "greedy"
    assert greedy["forecast"]["time_limit"] == 2.0  # the server's API_SOLVE_TIME_CAP
    stored = client.get(f"/results/{body['run_id']}/").json()
    assert stored["forecast"] is None
