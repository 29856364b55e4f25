"""`budget api` and the deployment files (compose is checked only where a docker client runs)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import uvicorn
import uvicorn.supervisors

from cli.main import main
from config.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]


def test_budget_api_starts_uvicorn_with_the_settings(monkeypatch) -> None:
    """`budget api` serves the app factory on API_HOST and API_PORT; flags override settings."""
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append((a, kw)))
    monkeypatch.setenv("API_HOST", "127.0.0.1")
    monkeypatch.setenv("API_PORT", "8123")
    monkeypatch.setenv("API_WORKERS", "1")
    get_settings.cache_clear()
    try:
        assert main(["api"]) == 0
        assert main(["api", "--port", "9000", "--host", "0.0.0.0"]) == 0
    finally:
        get_settings.cache_clear()
    (args, kw), (_, kw2) = calls
    assert args == ("api.app:create_app",) and kw["factory"] is True
    assert (kw["host"], kw["port"], kw["workers"]) == ("127.0.0.1", 8123, 1)
    assert (kw2["host"], kw2["port"]) == ("0.0.0.0", 9000)


def test_several_workers_share_a_tcp_nodelay_listener(monkeypatch) -> None:
    """With API_WORKERS > 1 the workers share a listener with proto TCP (so TCP_NODELAY holds)."""
    seen = {}

    class FakeMultiprocess:
        def __init__(self, config, sockets):
            seen["config"], seen["sockets"] = config, sockets

        def run(self):
            for sock in seen["sockets"]:
                seen["proto"] = sock.proto
                sock.close()

    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", FakeMultiprocess)
    monkeypatch.setenv("API_WORKERS", "3")
    get_settings.cache_clear()
    try:
        assert main(["api", "--host", "127.0.0.1", "--port", "0"]) == 0
    finally:
        get_settings.cache_clear()
    assert seen["config"].workers == 3 and seen["config"].factory is True
    assert seen["proto"] == socket.IPPROTO_TCP


def test_env_example_documents_every_api_setting() -> None:
    """.env.example names each API setting and holds no real secret."""
    text = (ROOT / ".env.example").read_text()
    for name in ("DATABASE_URL", "API_HOST", "API_PORT", "API_WORKERS", "API_MAX_PROJECTS",
                 "API_MAX_BODY_BYTES", "API_MAX_TIME_LIMIT", "API_SOLVE_TIME_CAP",
                 "API_CORS_ORIGINS", "PREFECT_API_URL", "POSTGRES_PASSWORD_SECRET"):
        assert name in text, name
    assert "change-me" in text


def test_compose_file_declares_the_whole_system() -> None:
    """compose.yaml parses and has every service, volumes for both databases, and secrets."""
    import yaml

    spec = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = spec["services"]
    assert {"db", "prefect-db", "prefect-server", "migrate", "serve", "api", "dask-scheduler",
            "dask-worker"} <= set(services)
    assert services["dask-worker"]["profiles"] == ["dask"]
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    assert "prefectdb:/var/lib/postgresql/data" in services["prefect-db"]["volumes"]
    assert set(spec["secrets"]) == {"postgres_password", "prefect_db_password", "prefect_auth"}
    assert "PASSWORD:" not in (ROOT / "compose.yaml").read_text().replace("_FILE:", "")


def test_compose_binds_localhost_and_guards_prefect_and_the_api() -> None:
    """Every published port is bound to 127.0.0.1 unless configured; the Prefect server gets
    PREFECT_SERVER_API_AUTH_STRING and the app containers PREFECT_API_AUTH_STRING, both from
    the `prefect_auth` secret; the API runs with API_AUTH on unless configured."""
    import yaml

    spec = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = spec["services"]
    published = {name: svc["ports"] for name, svc in services.items() if "ports" in svc}
    assert set(published) == {"prefect-server", "api", "dask-scheduler"}
    for name, ports in published.items():
        for port in ports:
            assert port.startswith("${") and ":-127.0.0.1}:" in port, (name, port)
    server = services["prefect-server"]
    assert "PREFECT_SERVER_API_AUTH_STRING=\"$$(cat /run/secrets/prefect_auth)\"" in \
        server["command"][0]
    assert "prefect_auth" in server["secrets"]
    for name in ("serve", "api", "dask-worker", "dask-scheduler", "migrate"):
        entrypoint = " ".join(services[name]["entrypoint"])
        assert 'PREFECT_API_AUTH_STRING="$$(cat /run/secrets/prefect_auth)"' in entrypoint, name
        assert "exec budget-entrypoint" in entrypoint
        assert "prefect_auth" in services[name]["secrets"]
    assert services["api"]["environment"]["API_AUTH"] == "${API_AUTH:-on}"


def _compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.skipif(not _compose_available(), reason="no docker client with the compose plugin")
def test_compose_file_is_valid(tmp_path) -> None:
    """`docker compose config` accepts compose.yaml (with the example env and secrets)."""
    for name in ("postgres_password", "prefect_db_password", "prefect_auth"):
        (tmp_path / f"{name}.txt").write_text("example-only\n")
    env = tmp_path / ".env"
    env.write_text((ROOT / ".env.example").read_text()
                   + f"POSTGRES_PASSWORD_SECRET={tmp_path / 'postgres_password.txt'}\n"
                   + f"PREFECT_DB_PASSWORD_SECRET={tmp_path / 'prefect_db_password.txt'}\n"
                   + f"PREFECT_AUTH_SECRET={tmp_path / 'prefect_auth.txt'}\n")
    result = subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "compose.yaml"), "--env-file", str(env),
         "--profile", "dask", "config", "--quiet"],
        capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
