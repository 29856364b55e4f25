"""A champion in the registry that cannot be loaded: `auto` uses the rules and says so."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api import create_app
from db import model_registry as reg
from db.engine import session_scope
from tests.http_api.conftest import PORTFOLIO, settings_for


def _tampered_champion(url: str, tmp_path: Path) -> None:
    model = tmp_path / "selector.txt"
    model.write_text("tree\nnot the bytes the registry hashed\n")
    with session_scope(url) as s:
        row = reg.register_version(session=s, name="selector", sha256="0" * 64, path=str(model))
        reg.set_alias(session=s, name="selector", alias="champion", version=row.version)


def test_unloadable_champion_is_named_in_each_auto_reason(pg_migrated_url, tmp_path) -> None:
    """sha256 mismatch → rules choose, every `auto` result's reason says the model is not used."""
    _tampered_champion(pg_migrated_url, tmp_path)
    app = create_app(settings_for(pg_migrated_url), migrate=False)  # loads the champion
    with TestClient(app) as client:
        body = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000}).json()
        assert body["selector"] == "rules"
        assert body["reason"] and "selector@v1" in body["reason"]
        assert "rules used" in body["reason"]
        stored = client.get(f"/results/{body['run_id']}/").json()
        assert stored["reason"] == body["reason"]
        chosen = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000,
                                              "algorithm": "dp"}).json()
        assert chosen["reason"] is None  # an explicit algorithm never consults a model
        model = client.get("/health").json()["model"]
        assert model["selector"] == "rules" and model["source"] == "fallback"
        assert "selector@v1" in model["note"]


def test_no_model_yet_leaves_reason_empty_and_health_says_none(pg_migrated_url) -> None:
    """No champion in the registry: rules, reason null, /health model source "none"."""
    app = create_app(settings_for(pg_migrated_url), migrate=False)
    with TestClient(app) as client:
        body = client.post("/solve/", json={"projects": PORTFOLIO, "budget": 2000}).json()
        assert body["selector"] == "rules" and body["reason"] is None
        model = client.get("/health").json()["model"]
        assert model == {"selector": "rules", "version": None, "source": "none"}


def test_unreadable_registry_gives_a_fallback_note(pg_url) -> None:
    """A database without the registry tables: no selector, and a note saying the rules are used."""
    from api.app import load_champion_with_note

    selector, note = load_champion_with_note(pg_url)
    assert selector is None and note and "rules used" in note
