"""Owners and keys: every route isolates owners (404, never 403), keys are hashed, 401s.

Apps here run with API keys ON (the default); the other API tests turn them off explicitly.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api import create_app
from cli import key_commands
from cli.main import _run
from config.settings import Settings
from db import Base, create_project_set, session_scope
from db.engine import get_engine
from db.keys import create_key, revoke_key
from tests.http_api.conftest import PORTFOLIO, settings_for

OTHER = [{"name": "X", "cost": 70}, {"name": "Y", "cost": 30, "metadata": {"k": "v"}}]


@dataclass
class World:
    client: TestClient
    url: str
    a: dict[str, str]
    b: dict[str, str]
    admin: dict[str, str]


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _keys(url: str) -> tuple[str, str, str]:
    with session_scope(url) as session:
        _, a = create_key(session=session, owner_id="alice")
        _, b = create_key(session=session, owner_id="bob", name="bob's laptop")
        _, admin = create_key(session=session, owner_id="ops", admin=True)
    return a, b, admin


@pytest.fixture
def world(pg_migrated_url: str) -> Iterator[World]:
    """The API with keys on, and keys for alice, bob and an admin."""
    a, b, admin = _keys(pg_migrated_url)
    app = create_app(settings_for(pg_migrated_url, api_auth="on"), selector=None, migrate=False)
    with TestClient(app) as client:
        yield World(client, pg_migrated_url, _bearer(a), _bearer(b), _bearer(admin))


def _alice_data(w: World) -> dict[str, Any]:
    """Alice's set from POST /solve/, her set from POST /datasets/, runs on both."""
    c = w.client
    solved = c.post("/solve/", json={"projects": PORTFOLIO, "budget": "2000"}, headers=w.a)
    assert solved.status_code == 200, solved.text
    created = c.post("/datasets/", json={"name": "alice-set", "projects": OTHER,
                                         "budgets": [50]}, headers=w.a)
    assert created.status_code == 201, created.text
    set_id = created.json()["id"]
    budget_id = created.json()["budgets"][0]["id"]
    again = c.post(f"/datasets/{set_id}/solve", json={"budget_id": budget_id}, headers=w.a)
    assert again.status_code == 200, again.text
    return {"sets": [solved.json()["dataset_id"], set_id],
            "runs": [solved.json()["run_id"], again.json()["run_id"]], "budget_id": budget_id}


def _is_404_like_missing(response: Any, what: str) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == what  # the same words as for an id that never existed


def test_every_id_of_one_owner_is_404_for_another(world: World) -> None:
    """Each of alice's sets and runs, probed with bob's key through every route that takes an
    id (read, solve with her budget or a new one, results), is the same 404 as a missing id,
    and nothing was written for bob."""
    w, c = world, world.client
    mine = _alice_data(w)
    for set_id in mine["sets"]:
        missing = f"project set {set_id} does not exist"
        _is_404_like_missing(c.get(f"/datasets/{set_id}/", headers=w.b), missing)
        _is_404_like_missing(c.get(f"/datasets/{set_id}", headers=w.b), missing)
        _is_404_like_missing(c.post(f"/datasets/{set_id}/solve", json={"budget": 40},
                                    headers=w.b), missing)
        _is_404_like_missing(c.post(f"/datasets/{set_id}/solve",
                                    json={"budget_id": mine["budget_id"]}, headers=w.b), missing)
        assert c.get(f"/datasets/{set_id}/", headers=w.a).status_code == 200
        assert c.get(f"/datasets/{set_id}/", headers=w.admin).status_code == 200
    for run_id in mine["runs"]:
        _is_404_like_missing(c.get(f"/results/{run_id}/", headers=w.b),
                             f"algorithm run {run_id} does not exist")
        assert c.get(f"/results/{run_id}/", headers=w.a).json()["run_id"] == run_id
        assert c.get(f"/results/{run_id}/", headers=w.admin).status_code == 200
    bob_results = c.get("/results/", params={"dataset_id": mine["sets"][1]}, headers=w.b).json()
    assert bob_results["items"] == [] and bob_results["total"] == 0
    alice_results = c.get("/results/", params={"dataset_id": mine["sets"][1]}, headers=w.a)
    assert [r["run_id"] for r in alice_results.json()["items"]] == [mine["runs"][1]]
    assert c.get("/datasets/", headers=w.b).json()["total"] == 0
    assert c.get("/results/", headers=w.b).json()["total"] == 0


def test_lists_show_only_the_callers_rows_and_admin_sees_all(world: World) -> None:
    """GET /datasets/ and GET /results/ list only the caller's sets and runs; an admin key
    lists everyone's."""
    w, c = world, world.client
    mine = _alice_data(w)
    bob = c.post("/solve/", json={"projects": [5, 6, 7], "budget": 11}, headers=w.b).json()
    sets = {k: {i["id"] for i in c.get("/datasets/", headers=h).json()["items"]}
            for k, h in (("a", w.a), ("b", w.b), ("admin", w.admin))}
    runs = {k: {i["run_id"] for i in c.get("/results/", headers=h).json()["items"]}
            for k, h in (("a", w.a), ("b", w.b), ("admin", w.admin))}
    assert sets["a"] == set(mine["sets"]) and sets["b"] == {bob["dataset_id"]}
    assert sets["admin"] == sets["a"] | sets["b"]
    assert runs["a"] == set(mine["runs"]) and runs["b"] == {bob["run_id"]}
    assert runs["admin"] == runs["a"] | runs["b"]


def test_the_same_projects_from_two_owners_are_two_sets(world: World) -> None:
    """Bob sending alice's exact projects gets his own new set (201), never hers (a 200 with
    her id would tell him it exists); each owner's second send is their own 200."""
    w, c = world, world.client
    body = {"name": "same", "projects": PORTFOLIO, "budgets": [100]}
    first = c.post("/datasets/", json=body, headers=w.a)
    second = c.post("/datasets/", json=body, headers=w.b)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    again = c.post("/datasets/", json=body, headers=w.b)
    assert again.status_code == 200 and again.json()["id"] == second.json()["id"]
    solved = c.post("/solve/", json={"projects": PORTFOLIO, "budget": 100}, headers=w.b)
    assert solved.json()["dataset_id"] == second.json()["id"]


def test_rows_without_an_owner_are_for_admin_keys_only(world: World) -> None:
    """A set stored without an owner (CLI, flows, rows from before keys) is a 404 for an
    owner's key and visible to an admin key."""
    w, c = world, world.client
    with session_scope(w.url) as session:
        legacy, _ = create_project_set(session=session, name="legacy", projects=[1, 2, 3],
                                       budgets=[4])
        legacy_id = legacy.id
    assert c.get(f"/datasets/{legacy_id}/", headers=w.a).status_code == 404
    assert c.post(f"/datasets/{legacy_id}/solve", json={"budget": 3},
                  headers=w.a).status_code == 404
    assert legacy_id not in {i["id"] for i in c.get("/datasets/", headers=w.a).json()["items"]}
    assert c.get(f"/datasets/{legacy_id}/", headers=w.admin).json()["name"] == "legacy"


def _assert_401(response: Any, error: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge)
    assert response.json()["status"] == 401 and response.json()["title"] == "Unauthorized"


def test_every_route_but_health_needs_a_key(world: World) -> None:
    """Each operation of the OpenAPI schema but /health answers 401 (problem+json,
    `WWW-Authenticate: Bearer`) without a key, and so does an unknown path; /health and
    /openapi.json answer without one."""
    c = world.client
    schema = c.get("/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    checked = 0
    for path, operations in schema.json()["paths"].items():
        concrete = path.replace("{set_id}", "1").replace("{run_id}", "1")
        for method in operations:
            response = c.request(method.upper(), concrete, json={})
            if path == "/health":
                assert response.status_code == 200
                continue
            _assert_401(response)
            checked += 1
    assert checked >= 8
    _assert_401(c.get("/no-such-route"))


def test_bad_revoked_and_malformed_keys_are_401(world: World) -> None:
    """A wrong scheme, a malformed key, an unknown well-formed key and a revoked key are all
    401 with `WWW-Authenticate: Bearer`; a revoked key stops working at once."""
    w, c = world, world.client
    _assert_401(c.get("/datasets/", headers={"Authorization": "Basic YWxpY2U6cHc="}))
    _assert_401(c.get("/datasets/", headers={"Authorization": "Bearer"}))
    _assert_401(c.get("/datasets/", headers=_bearer("not-a-key")), "invalid_token")
    _assert_401(c.get("/datasets/", headers=_bearer("bk_" + "A" * 43)), "invalid_token")
    assert c.get("/datasets/", headers=w.b).status_code == 200
    with session_scope(w.url) as session:
        revoke_key(session=session, key=w.b["Authorization"].split()[1][:11])
    _assert_401(c.get("/datasets/", headers=w.b), "invalid_token")
    assert c.get("/datasets/", headers=w.a).status_code == 200


def test_an_anonymous_body_is_refused_before_it_is_parsed(world: World) -> None:
    """Without a key a malformed or invalid body is a 401, never a 422: nothing is parsed."""
    c = world.client
    _assert_401(c.post("/solve/", content=b"{not json", headers={"content-type":
                                                                   "application/json"}))
    _assert_401(c.post("/solve/", json={"projects": [], "budget": "1e3"}))


def test_benchmarks_and_metrics_need_an_admin_key_health_needs_none(world: World) -> None:
    """GET /algorithms/benchmark (background too) and GET /metrics: 403 for an owner's key,
    200 for an admin key; GET /health: 200 without a key."""
    w, c = world, world.client
    params = {"n": 5, "instances": 1, "algorithm": "greedy", "time_limit": 0.1}
    assert c.get("/algorithms/benchmark", params=params, headers=w.a).status_code == 403
    assert c.get("/algorithms/benchmark", params={**params, "background": "true"},
                 headers=w.a).status_code == 403
    ran = c.get("/algorithms/benchmark", params=params, headers=w.admin)
    assert ran.status_code == 200, ran.text
    assert c.get("/metrics", headers=w.a).status_code == 403
    assert c.get("/metrics", headers=w.admin).status_code == 200
    assert c.get("/health").status_code == 200


def test_keys_are_stored_hashed_never_in_clear(world: World) -> None:
    """The api_keys row holds the key's SHA-256 and an 11-character prefix; no table of the
    database holds the key itself."""
    w = world
    keys = [h["Authorization"].split()[1] for h in (w.a, w.b, w.admin)]
    engine = get_engine(w.url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT key_hash, prefix FROM api_keys ORDER BY id")).all()
        assert [r.key_hash for r in rows] == [hashlib.sha256(k.encode()).hexdigest()
                                              for k in keys]
        assert [r.prefix for r in rows] == [k[:11] for k in keys]
        for table in Base.metadata.tables:
            rows = conn.execute(text(f"SELECT t::text FROM {table} t")).all()
            dump = "\n".join(str(r[0]) for r in rows)
            for key in keys:
                assert key not in dump and key[11:] not in dump, table


def _keys_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="budget")
    key_commands.register(parser.add_subparsers(dest="command", required=True))
    return _run(parser.parse_args(argv))


def test_budget_keys_create_prints_a_working_key_on_its_last_line(
        pg_migrated_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`budget keys create carol` prints the key alone on its last line and it works at once;
    `budget keys list` shows owner and prefix but never the key; `budget keys revoke PREFIX`
    ends it (401)."""
    assert _keys_cli(["keys", "create", "carol", "--name", "ci", "--url", pg_migrated_url]) == 0
    out, err = capsys.readouterr()
    key = out.strip().splitlines()[-1]
    assert key.startswith("bk_") and len(key) == 46 and " " not in key
    assert key not in err
    app = create_app(settings_for(pg_migrated_url, api_auth="on"), selector=None, migrate=False)
    with TestClient(app) as client:
        made = client.post("/solve/", json={"projects": [3, 4], "budget": 5},
                           headers=_bearer(key))
        assert made.status_code == 200, made.text
        assert _keys_cli(["keys", "list", "--url", pg_migrated_url]) == 0
        listed = capsys.readouterr().out
        assert "carol" in listed and key[:11] in listed and key not in listed
        assert hashlib.sha256(key.encode()).hexdigest() not in listed
        assert _keys_cli(["keys", "revoke", key[:11], "--url", pg_migrated_url]) == 0
        _assert_401(client.get("/results/", headers=_bearer(key)), "invalid_token")
    assert _keys_cli(["keys", "create", "no spaces", "--url", pg_migrated_url]) == 2
    assert "owner must be" in capsys.readouterr().err


def test_keys_are_on_by_default(pg_migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings without API_AUTH have keys on: the API refuses a keyless request (401)."""
    monkeypatch.delenv("API_AUTH", raising=False)
    settings = Settings(_env_file=None, database_url=pg_migrated_url)
    assert settings.api_auth == "on"
    with TestClient(create_app(settings, selector=None, migrate=False)) as client:
        _assert_401(client.get("/datasets/"))
        assert client.get("/health").status_code == 200


def test_auth_off_warns_at_start_and_opens_everything(
        pg_migrated_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """API_AUTH=off logs a WARNING at start and serves keyless requests, with every owner's
    sets visible."""
    with session_scope(pg_migrated_url) as session:
        _, key = create_key(session=session, owner_id="dave")
    on = create_app(settings_for(pg_migrated_url, api_auth="on"), selector=None, migrate=False)
    with TestClient(on) as client:
        dave_set = client.post("/solve/", json={"projects": [1, 2], "budget": 2},
                               headers=_bearer(key)).json()["dataset_id"]
    caplog.set_level(logging.WARNING, logger="api")
    off = create_app(settings_for(pg_migrated_url, api_auth="off"), selector=None, migrate=False)
    with TestClient(off) as client:
        assert client.get(f"/datasets/{dave_set}/").status_code == 200
    assert any(r.levelno == logging.WARNING and "API_AUTH=off" in r.getMessage()
               for r in caplog.records)
