"""No database password reaches the API's logs or responses, wherever the URL carries it
(`user:secret@host`, `?password=`, `?sslpassword=`, a password with an unencoded '@'), whether
the server is up or not."""

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
AT_URL = "postgresql+psycopg2://u:SE@CRET@127.0.0.1:1/x"
"""A password "SE@CRET" with its '@' not percent-encoded: a URL parser reads "CRET@127.0.0.1"
as the host, so neither the password nor that tail may show anywhere."""
AT_LEAKS = ("SE@CRET", "CRET")


def _all_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


@pytest.mark.parametrize("url,leaks", [*((u, (SECRET,)) for u in URLS), (AT_URL, AT_LEAKS)])
def test_startup_and_requests_never_log_the_password(url: str, leaks: tuple[str, ...], caplog,
                                                     capfd) -> None:
    """Lifespan (schema check, champion load, start-up line), /health and every data endpoint
    with the database unreachable or the URL unusable: the password is in no log record,
    output or response, and no response is a 500."""
    caplog.set_level(logging.DEBUG)
    app = create_app(settings_for(url, db_connect_timeout=1), migrate=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        responses = [client.get("/health"),
                     client.post("/solve/", json={"projects": [1, 2], "budget": 2}),
                     client.post("/datasets/", json={"projects": [1, 2]}),
                     client.get("/datasets/1/"),
                     client.post("/datasets/1/solve", json={"budget": 2}),
                     client.get("/results/1/")]
    assert [r.status_code for r in responses] == [503] * len(responses), \
        [(r.status_code, r.text) for r in responses]
    bodies = [r.text for r in responses]
    text = _all_text(caplog)
    assert any("API on" in r.getMessage() for r in caplog.records), text
    assert "schema check failed" in text or "database" in text
    out, err = capfd.readouterr()
    for where, content in [("logs", text), ("stdout", out), ("stderr", err),
                           ("responses", "\n".join(bodies))]:
        for leak in leaks:
            assert leak not in content, f"{leak!r} in {where}: {content[:2000]}"


def test_unencoded_at_in_the_password_is_named_masked(caplog) -> None:
    """The '@' URL gets a 503 whose detail names DATABASE_URL with the password masked."""
    app = create_app(settings_for(AT_URL), selector=None, migrate=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        detail = client.post("/solve/", json={"projects": [1], "budget": 1}).json()["detail"]
        health = client.get("/health").json()
    assert "DATABASE_URL" in detail and "***" in detail, detail
    assert "DATABASE_URL" in health["database"]["detail"], health
    for leak in AT_LEAKS:
        assert leak not in detail and leak not in str(health)


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


def test_budget_api_log_never_shows_a_password_with_an_unencoded_at(tmp_path) -> None:
    """`budget api` started for real on the '@' URL: whether it serves (503s) or stops at
    start-up, its whole output (uvicorn, app logs, errors) and its answers hold neither the
    password nor its tail, and nothing answers 500."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": AT_URL, "API_WORKERS": "1", "PYTHONUNBUFFERED": "1",
           "DB_CONNECT_TIMEOUT": "1"}
    log = tmp_path / "api.log"
    budget = Path(sys.executable).parent / "budget"
    answers = []
    with open(log, "w") as out:
        proc = subprocess.Popen([str(budget), "api", "--host", "127.0.0.1", "--port", str(port),
                                 "--log-level", "debug"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                answers.append(httpx.get(f"http://127.0.0.1:{port}/health", timeout=5))
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        if answers:
            base = f"http://127.0.0.1:{port}"
            # a well-formed key: API keys are on, so the key lookup meets the database first
            key = {"Authorization": "Bearer bk_" + "A" * 43}
            answers.append(httpx.post(f"{base}/solve/", json={"projects": [1], "budget": 1},
                                      headers=key, timeout=10))
            answers.append(httpx.get(f"{base}/results/1/", headers=key, timeout=10))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=20)
    text = log.read_text() + "\n".join(a.text for a in answers)
    assert answers or proc.returncode not in (None, 0), text
    assert all(a.status_code == 503 for a in answers), text
    assert "Traceback" not in text, text
    for leak in AT_LEAKS:
        assert leak not in text, text
