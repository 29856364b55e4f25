"""No database password reaches the API's logs or responses, wherever the URL carries it
(`user:secret@host`, `?password=`, `?sslpassword=`), whether the server is up or not."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from api import create_app
from tests.http_api.conftest import settings_for

SECRET = "hunter2"
URLS = [
    f"postgresql+psycopg2://postgres@127.0.0.1:5432/x?password={SECRET}",
    f"postgresql+psycopg2://postgres:{SECRET}@127.0.0.1:5432/x",
    f"postgresql+psycopg2://postgres@127.0.0.1:5432/x?sslmode=disable&password={SECRET}",
    f"postgresql+psycopg2://postgres@127.0.0.1:1/x?password={SECRET}",  # nothing listens there
]


def _all_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


@pytest.mark.parametrize("url", URLS)
def test_startup_and_requests_never_log_the_password(url: str, caplog, capfd) -> None:
    """Lifespan (schema check, champion load, start-up line), /health and a solve with the
    database unreachable: the password is in no log record, output or response."""
    caplog.set_level(logging.DEBUG)
    app = create_app(settings_for(url, db_connect_timeout=1), migrate=True)
    bodies = []
    with TestClient(app, raise_server_exceptions=False) as client:
        bodies.append(client.get("/health").text)
        bodies.append(client.post("/solve/", json={"projects": [1, 2], "budget": 2}).text)
        bodies.append(client.get("/results/1/").text)
    text = _all_text(caplog)
    assert any("API on" in r.getMessage() for r in caplog.records), text
    assert "schema check failed" in text or "database" in text
    out, err = capfd.readouterr()
    for where, content in [("logs", text), ("stdout", out), ("stderr", err),
                           ("responses", "\n".join(bodies))]:
        assert SECRET not in content, f"{SECRET!r} in {where}: {content[:2000]}"


def test_startup_line_names_the_database_masked(caplog) -> None:
    """The start-up line still says which database the API uses, password replaced by ***."""
    caplog.set_level(logging.INFO, logger="api")
    app = create_app(settings_for(URLS[0]), selector=None, migrate=False)
    with TestClient(app):
        pass
    line = next(r.getMessage() for r in caplog.records if "API on" in r.getMessage())
    assert "127.0.0.1:5432/x" in line and SECRET not in line
