"""Database faults at the CLI: an unusable DATABASE_URL or an unknown schema revision is one
line (one JSON error object under --json), exit 2, never a traceback; no output path shows a
password, even one holding an unencoded '@'; every command leaves SQLite's WAL folded into
the database file."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from cli.main import main
from config import get_settings
from db.engine import dispose_engines, get_engine
from db.migrate import current_revision

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "data" / "examples" / "portfolio.csv"
UNKNOWN_OPTION = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres?foo=bar"
AT_PASSWORD = "postgresql+psycopg2://u:SE@CRET@127.0.0.1:1/x"  # password "SE@CRET", unencoded
ENCODED_PASSWORD = "postgresql+psycopg2://u:SE%40CRET@127.0.0.1:1/x"  # valid, unreachable
SECRETS = ("SE@CRET", "CRET", "SE%40CRET")

SMALL_BENCHMARK = ["benchmark", "--sizes", "5", "--per-size", "1", "--families", "uniform",
                   "--algorithms", "greedy", "--no-memory", "--no-export"]
COMMANDS = {
    "db current": ["db", "current"],
    "db upgrade": ["db", "upgrade"],
    "models list --json": ["models", "list", "--json"],
    "train --json": ["train", "--json", "--min-instances", "1"],
    "export --json": ["export", "--json"],
    "benchmark --json": [*SMALL_BENCHMARK, "--json"],
    "generate --json": ["generate", "--sizes", "5", "--per-size", "1", "--json"],
    "demo --json": ["demo", "--json", "--sizes", "5", "--per-size", "1"],
}


@pytest.fixture
def database_url(monkeypatch):
    """Set DATABASE_URL for this process (settings rebuilt before and after)."""

    def set_url(url: str) -> None:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()

    yield set_url
    get_settings.cache_clear()


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # the pipeline commands end a failed flow with SystemExit(2)
        code = int(exc.code)
    out, err = capsys.readouterr()
    return code, out, err


def one_fault(code: int, out: str, err: str, argv: list[str]) -> str:
    """The checks every database fault passes; returns the error line."""
    assert code == 2, (code, out, err)
    assert "Traceback" not in err + out, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    if "--json" in argv:
        doc = json.loads(out)
        assert set(doc) == {"error"} and doc["error"]["message"] == lines[0][len("error: "):]
    else:
        assert out == ""
    return lines[0]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_unknown_libpq_option_is_one_line_naming_database_url(command, capsys,
                                                              database_url) -> None:
    """`?foo=bar` (an option libpq does not know) in DATABASE_URL: every command that uses the
    database prints one line naming DATABASE_URL (masked) and the option, exit 2, before any
    Prefect server is started."""
    database_url(UNKNOWN_OPTION)
    argv = COMMANDS[command]
    line = one_fault(*run(capsys, argv), argv)
    assert "DATABASE_URL" in line and "postgres@127.0.0.1:5432/postgres" in line
    assert "foo" in line


@pytest.fixture
def unknown_revision(sqlite_migrated_url, database_url) -> str:
    """DATABASE_URL at a SQLite database whose alembic_version names a revision this code's
    history does not have (as if newer code had migrated it)."""
    with get_engine(sqlite_migrated_url).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffffdeadbeef'"))
    dispose_engines(sqlite_migrated_url)
    database_url(sqlite_migrated_url)
    return sqlite_migrated_url


@pytest.mark.parametrize("command", list(COMMANDS))
def test_unknown_schema_revision_is_one_line_naming_it(command, capsys,
                                                       unknown_revision) -> None:
    """A database at revision 'ffffdeadbeef': each command prints one line naming that
    revision (and the database), exit 2, and leaves the database as it was."""
    argv = COMMANDS[command]
    line = one_fault(*run(capsys, argv), argv)
    assert "ffffdeadbeef" in line and unknown_revision.rsplit("/", 1)[-1] in line
    assert current_revision(unknown_revision) == "ffffdeadbeef"


def test_solve_records_nothing_and_still_answers_with_a_bad_url(capsys, database_url) -> None:
    """`budget solve` stores nothing; with an unusable DATABASE_URL it still answers (exit 0),
    and the forecast note says the registry could not be read."""
    database_url(UNKNOWN_OPTION)
    code, out, err = run(capsys, ["solve", str(EXAMPLE), "--budget", "100000", "--json"])
    doc = json.loads(out)
    assert code == 0 and doc["status"] == "exact" and doc["forecast"] is None
    assert "registry unreadable" in doc["forecast_note"]
    assert "Traceback" not in err


# --- secrets ---------------------------------------------------------------------------------

def _no_secret(*texts: str) -> None:
    for t in texts:
        for secret in SECRETS:
            assert secret not in t, (secret, t)


# An unreachable URL with a valid (encoded) password lets the flows start: the subprocess test
# below covers those; the unencoded '@' is refused before any flow.
_SECRET_CASES = [(AT_PASSWORD, c) for c in COMMANDS] + [
    (ENCODED_PASSWORD, c) for c in ("db current", "db upgrade", "models list --json",
                                    "train --json")]


@pytest.mark.parametrize(("url", "command"), _SECRET_CASES)
def test_password_never_printed_by_any_command(url, command, capsys, database_url,
                                               own_data) -> None:
    """DATABASE_URL's password 'SE@CRET' (unencoded '@', or percent-encoded on an unreachable
    server) appears in no stderr, no --json stdout and no pipeline log; the URL's host and port
    are still named."""
    database_url(url)
    argv = COMMANDS[command]
    code, out, err = run(capsys, argv)
    assert code == 2 and "127.0.0.1" in err
    _no_secret(out, err)
    log = own_data / "data" / "logs" / "pipeline.jsonl"
    if log.exists():
        _no_secret(log.read_text())


@pytest.mark.parametrize("url", [AT_PASSWORD, ENCODED_PASSWORD])
def test_password_never_printed_with_url_option_or_by_solve(url, capsys, database_url) -> None:
    """`--url` with the password, and `budget solve`'s forecast look-up on it, print no part of
    the password."""
    code, out, err = run(capsys, ["db", "current", "--url", url])
    assert code == 2
    _no_secret(out, err)
    code, out, err = run(capsys, ["models", "list", "--json", "--url", url])
    assert code == 2
    _no_secret(out, err)
    database_url(url)
    code, out, err = run(capsys, ["solve", str(EXAMPLE), "--budget", "100000", "--json"])
    assert code == 0
    _no_secret(out, err)


def _prefect_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"),
           "PREFECT_HOME": str(tmp_path / "prefect"), **extra}
    if PREFECT_API_URL.value():  # the test harness's server: no ephemeral server to start
        env["PREFECT_API_URL"] = PREFECT_API_URL.value()
    return env


@pytest.mark.usefixtures("prefect_harness")
def test_password_absent_from_prefect_logs_of_a_failed_flow(tmp_path) -> None:
    """`budget benchmark --json` in a subprocess on an unreachable server whose password is
    'SE@CRET' (percent-encoded): the flow runs, its tasks retry and fail; Prefect's log lines,
    the error line, the JSON error and any pipeline log carry no part of the password."""
    env = _prefect_env(tmp_path, DATABASE_URL=ENCODED_PASSWORD)
    proc = subprocess.run([sys.executable, "-m", "cli", *SMALL_BENCHMARK, "--json"], env=env,
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["error"]["type"] == "DatabaseUnavailableError"
    _no_secret(proc.stdout, proc.stderr)
    for log in (tmp_path / "data").rglob("*.jsonl"):
        _no_secret(log.read_text())


# --- clean close -----------------------------------------------------------------------------

@pytest.mark.usefixtures("prefect_harness")
def test_sqlite_file_alone_holds_every_row_after_a_command(tmp_path) -> None:
    """After `budget generate` (a subprocess, as from the shell) on a SQLite file, no write-ahead
    log is left behind: a copy of the .db file alone holds every stored project set."""
    db = tmp_path / "budget.db"
    env = _prefect_env(tmp_path, DATABASE_URL=f"sqlite:///{db}")
    proc = subprocess.run([sys.executable, "-m", "cli", "generate", "--sizes", "10",
                           "--per-size", "3", "--no-parquet", "--json"], env=env,
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    created = json.loads(proc.stdout)["dataset_ids"]
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    alone = tmp_path / "copy" / "alone.db"
    alone.parent.mkdir()
    shutil.copyfile(db, alone)  # the file only: no -wal, no -shm
    with sqlite3.connect(alone) as conn:
        (count,) = conn.execute("SELECT count(*) FROM project_sets").fetchone()
    assert len(created) > 0 and count == len(set(created))


def test_every_command_disposes_its_engines(sqlite_migrated_url, capsys, database_url) -> None:
    """In-process too: after `budget models list` the engine for DATABASE_URL is gone from the
    cache (disposed), even when the command fails."""
    from db import engine as engine_module

    database_url(sqlite_migrated_url)
    assert main(["models", "list"]) == 0
    assert sqlite_migrated_url not in engine_module._engines
    database_url(UNKNOWN_OPTION)
    assert main(["db", "current"]) == 2
    assert UNKNOWN_OPTION not in engine_module._engines
    capsys.readouterr()
