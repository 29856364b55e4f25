"""The API follows the registry: a promoted (or demoted) champion is served without a restart."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from api import champion, create_app
from db import model_registry as reg
from db.engine import session_scope
from tests.conftest import register_runtime
from tests.http_api.conftest import PORTFOLIO, settings_for

SOLVE = {"projects": PORTFOLIO, "budget": 2000}


@pytest.fixture(scope="module")
def trained_selector(tmp_path_factory: pytest.TempPathFactory):
    """A real LightGBM selector trained once on a small real history (n ≤ 20, 50 ms cutoff)."""
    from ml.history import PORTFOLIO as CANDIDATES
    from ml.history import plan_instances, run_history
    from ml.selection import train_selector

    history = list(run_history(plan_instances(60, seed=5, max_n=20), 0.05, CANDIDATES))
    return train_selector(history, time_limit=0.05, n_splits=3, seeds=(0,),
                          model_dir=tmp_path_factory.mktemp("selector"),
                          candidates="base+hybrid", runtime_model=False)


def _register_and_promote(url: str, out) -> int:
    art = out.artifact
    with session_scope(url) as s:
        row = reg.register_version(session=s, name="selector", sha256=art["sha256"],
                                   path=art["path"], params=art["params"], metrics=out.metrics,
                                   feature_names=art["feature_names"],
                                   class_order=art["class_order"],
                                   library_versions=art["library_versions"])
        reg.promote(session=s, name="selector", version=row.version)
        return row.version


def test_promote_then_demote_is_served_without_a_restart(pg_migrated_url,
                                                         trained_selector) -> None:
    """Rules at start; after a promote, `auto` and /health report the new champion; after a
    demote, the rules again: one running app, no restart."""
    app = create_app(settings_for(pg_migrated_url), migrate=False, champion_check_seconds=0)
    with TestClient(app) as client:
        before = client.post("/solve/", json=SOLVE).json()
        assert before["selector"] == "rules"
        assert client.get("/health").json()["model"]["source"] == "none"

        version = _register_and_promote(pg_migrated_url, trained_selector)
        after = client.post("/solve/", json=SOLVE).json()
        assert after["selector"] == f"model:selector@v{version}", after
        assert after["total_cost_exact"] == "1650.75" and after["reason"] is None
        model = client.get("/health").json()["model"]
        assert model == {"selector": f"model:selector@v{version}", "version": version,
                         "source": "champion"}
        metrics = client.get("/metrics").text
        assert f'version="{version}"' in metrics

        with session_scope(pg_migrated_url) as s:
            reg.demote(session=s, name="selector")
        demoted = client.post(f"/datasets/{after['dataset_id']}/solve",
                              json={"budget_id": after["budget_id"]}).json()
        assert demoted["selector"] == "rules"
        assert client.get("/health").json()["model"] == {"selector": "rules", "version": None,
                                                         "source": "none"}


def test_a_new_runtime_model_brings_forecasts_without_a_restart(pg_migrated_url,
                                                                runtime_artifact) -> None:
    """No runtime model at start (forecast null); once one is registered, solves carry one."""
    app = create_app(settings_for(pg_migrated_url), migrate=False, selector=None,
                     champion_check_seconds=0)
    with TestClient(app) as client:
        first = client.post("/solve/", json=SOLVE).json()
        assert first["forecast"] is None and "no runtime model" in first["forecast_note"]
        version = register_runtime(pg_migrated_url, runtime_artifact)
        second = client.post("/solve/", json=SOLVE).json()
        assert second["forecast"] is not None, second["forecast_note"]
        assert second["forecast"]["runtime_model"] == f"model:runtime@v{version}"


def test_the_registry_is_asked_at_most_once_per_interval(pg_migrated_url, monkeypatch) -> None:
    """Within the interval, requests never query the registry; after it, one query."""
    calls: list[list[str]] = []
    real = champion.alias_state

    def counted(url: str, names: list[str]):
        calls.append(names)
        return real(url, names)

    monkeypatch.setattr(champion, "alias_state", counted)
    app = create_app(settings_for(pg_migrated_url), migrate=False, champion_check_seconds=3600)
    with TestClient(app) as client:
        for _ in range(3):
            assert client.post("/solve/", json=SOLVE).status_code == 200
            assert client.get("/health").status_code == 200
        assert calls == []  # the start-up look-up goes through the app's own import
        app.state.api.champion_watch.every = 0
        client.get("/health")
        assert calls == [["selector", "runtime"]]


def test_a_reload_runs_off_the_event_loop(pg_migrated_url, monkeypatch) -> None:
    """When the alias moved, the model is loaded in a worker thread, never on the loop."""
    import api.app

    where: list[bool] = []

    def loader(url: str):
        try:
            asyncio.get_running_loop()
            where.append(True)
        except RuntimeError:
            where.append(False)
        return None, None

    app = create_app(settings_for(pg_migrated_url), migrate=False, champion_check_seconds=0)
    with TestClient(app) as client:
        monkeypatch.setattr(api.app, "load_champion_with_note", loader)
        app.state.api.champion_watch.seen = {"selector": (-1, -1)}  # as if the alias moved
        assert client.get("/health").status_code == 200
    assert where == [False]


def test_an_unreadable_registry_keeps_the_loaded_models(pg_migrated_url, monkeypatch) -> None:
    """A failed check (database down) neither fails the request nor drops the models."""
    app = create_app(settings_for(pg_migrated_url), migrate=False, champion_check_seconds=0)
    with TestClient(app) as client:
        monkeypatch.setattr(champion, "alias_state", lambda url, names: None)
        body = client.post("/solve/", json=SOLVE)
        assert body.status_code == 200 and body.json()["selector"] == "rules"
