"""Database URLs printed by the CLI never show a password (userinfo or query string)."""

from __future__ import annotations

from cli.main import main
from db.engine import dispose_engines


def test_db_current_masks_query_string_password(pg_url, capsys):
    """`budget db upgrade/current` on a `?password=` URL prints `password=***`, never the value."""
    url = f"{pg_url}?password=topsecret&application_name=budget-test"
    try:
        assert main(["db", "upgrade", "--url", url]) == 0
        assert main(["db", "current", "--url", url]) == 0
    finally:
        dispose_engines(url)
    captured = capsys.readouterr()
    assert "topsecret" not in captured.out + captured.err
    lines = captured.out.strip().splitlines()
    assert len(lines) == 2 and all("password=***" in line for line in lines), lines
    assert "application_name=budget-test" in lines[-1] and "at head" in lines[-1]


def test_unreachable_database_error_masks_query_string_password(capsys):
    """An unreachable `?password=` URL: exit 2, one error line with `password=***` only."""
    url = "postgresql+psycopg2://admin@127.0.0.1:1/budget?sslpassword=k3y&password=topsecret"
    assert main(["db", "current", "--url", url]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("error: cannot connect") and len(err.splitlines()) == 1, err
    assert "password=***" in err and "sslpassword=***" in err
    assert "topsecret" not in captured.err + captured.out and "k3y" not in captured.err


def test_malformed_url_error_masks_query_string_password(capsys):
    """A URL with an unknown dialect: the one error line masks the query-string password."""
    assert main(["db", "current", "--url", "nosuchdialect://h/db?password=topsecret"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unusable database URL") and "password=***" in err
    assert "topsecret" not in err


def test_api_banner_masks_query_string_password(tmp_path) -> None:
    """`budget api` with a `?password=` DATABASE_URL: its start-up output shows `password=***`
    and never the password (a real server process, stopped once it has started)."""
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"sqlite:///{tmp_path / 'api.db'}?password=topsecret"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "api.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "api", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1"], cwd=Path(__file__).resolve().parents[2], env=env,
            stdout=sink, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                if b"Uvicorn running" in log.read_bytes() or b"Application startup" in \
                        log.read_bytes():
                    break
                time.sleep(0.2)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = log.read_text(errors="replace")
    assert "budget api: http://127.0.0.1" in text, text
    assert "password=***" in text and "topsecret" not in text, text
