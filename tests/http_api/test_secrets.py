"""No database password reaches the API's logs or responses, wherever the URL carries it
(`user:secret@host`, `?password=`, `?sslpassword=`), whether the server is up or not."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
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


def test_budget_api_start_up_output_has_no_password(pg_migrated_url: str, tmp_path) -> None:
    """`budget api` started for real with `?password=` in DATABASE_URL: it serves /health, and
    neither its stdout nor its stderr (start-up line, uvicorn, app logs) shows the password."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"{pg_migrated_url}?password={SECRET}"
    env = {**os.environ, "DATABASE_URL": url, "API_WORKERS": "1", "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "api.log"
    budget = Path(sys.executable).parent / "budget"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(budget), "api", "--host", "127.0.0.1", "--port", str(port),
                                 "--log-level", "debug"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        assert health.status_code == 200, health.text
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=20)
    text = log.read_text()
    assert "budget api: http://127.0.0.1" in text and "***" in text, text
    assert SECRET not in text, text
