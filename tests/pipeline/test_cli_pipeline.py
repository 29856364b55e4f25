"""The pipeline commands' contract: `--json` prints one object with the documented keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cli.main import main
from config import get_settings

pytestmark = pytest.mark.usefixtures("prefect_harness")
BENCHMARK_KEYS = {"flow_run_id", "instances", "runs", "wall_seconds", "solver_seconds",
                  "orchestration_overhead", "snapshot_rows", "export_path"}


@pytest.fixture
def env_db(migrated_db_url, tmp_path, monkeypatch):
    """DATABASE_URL and the data folder point at this test's database and tmp_path."""
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield migrated_db_url
    get_settings.cache_clear()


def _json(capsys) -> dict:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # exactly one JSON object on stdout
    return json.loads(out)


def test_benchmark_json_contract(env_db, capsys) -> None:
    """`budget benchmark --json` prints the documented keys, on the DATABASE_URL database."""
    code = main(["benchmark", "--sizes", "6,12", "--per-size", "1", "--families", "uniform",
                 "--algorithms", "dp,greedy", "--time-limit", "1", "--seed", "3", "--json"])
    doc = _json(capsys)
    assert code == 0 and set(doc) >= BENCHMARK_KEYS
    assert doc["instances"] == 2 and doc["runs"] == 4 and doc["snapshot_rows"] > 0
    assert 0 <= doc["orchestration_overhead"] <= 1


def test_generate_export_and_serve_list_json(env_db, capsys) -> None:
    """`generate`, `export` and `serve --list` each print one JSON object."""
    assert main(["generate", "--sizes", "5", "--per-size", "2", "--families", "uniform",
                 "--json"]) == 0
    assert _json(capsys)["datasets"] == 2
    assert main(["export", "--json"]) == 0
    assert {"runs", "runs_path", "snapshots"} <= set(_json(capsys))
    assert main(["serve", "--list", "--json"]) == 0
    names = _json(capsys)["deployments"]
    assert {"benchmark/nightly", "export-metrics/daily", "solve/adhoc", "benchmark/adhoc",
            "generate-datasets/adhoc"} <= set(names)


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["benchmark", "--sizes", "10,-5"], "sizes"),
        (["benchmark", "--algorithms", "quantum"], "algorithms"),
        (["benchmark", "--families", "nope"], "families"),
        (["benchmark", "--time-limit", "0"], "time_limit"),
        (["benchmark", "--dask-address", "localhost:8786"], "--dask-address"),
    ],
)
def test_bad_options_exit_2_with_one_error_line(argv, field, capsys, tmp_path,
                                                 monkeypatch) -> None:
    """Nonsense options print one `error:` line naming the field and start no work."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    get_settings.cache_clear()
    try:
        assert main([*argv, "--json"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and field in err[-1]
    assert not (tmp_path / "never.db").exists()


def test_unreachable_database_is_one_error_line(capsys, monkeypatch, tmp_path) -> None:
    """An unreachable DATABASE_URL exits 2 with one line naming host and port."""
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:1/x")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["export", "--json", "--data-dir", str(tmp_path)])
    finally:
        get_settings.cache_clear()
    assert exit_info.value.code == 2
    assert "127.0.0.1:1" in capsys.readouterr().err.strip().splitlines()[-1]


def test_unreachable_database_prints_no_traceback(tmp_path) -> None:
    """`budget generate` on an unreachable database: Prefect's log lines and one `error:` line
    on stderr (exit 2), but no traceback."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "DATABASE_URL": "postgresql+psycopg2://bob:pw@127.0.0.1:1/x",
           "DATA_DIR": str(tmp_path), "PREFECT_HOME": str(tmp_path / "prefect")}
    if PREFECT_API_URL.value():  # the test harness's server: no ephemeral server to start
        env["PREFECT_API_URL"] = PREFECT_API_URL.value()
    proc = subprocess.run([sys.executable, "-m", "cli", "generate", "--sizes", "10",
                           "--per-size", "1"], env=env, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "127.0.0.1:1" in errors[0]
    assert "DatabaseUnavailableError" in proc.stderr  # Prefect's own log lines are kept
    assert "Traceback" not in proc.stderr, proc.stderr


def test_only_expected_errors_lose_their_traceback_on_the_console() -> None:
    """The console formatter drops tracebacks of expected errors only and leaves records intact."""
    import logging

    from cli.pipeline_commands import _expected_errors, _WithoutTraceback
    from db.errors import DatabaseUnavailableError

    fmt = _WithoutTraceback(logging.Formatter("%(message)s"), _expected_errors())

    def record(exc: BaseException) -> logging.LogRecord:
        try:
            raise exc
        except BaseException:
            return logging.LogRecord("prefect.task_runs", logging.ERROR, __file__, 1, "failed",
                                     None, sys.exc_info())

    expected = record(DatabaseUnavailableError("db down"))
    assert fmt.format(expected) == "failed"
    assert expected.exc_info is not None  # other handlers (the Prefect API) still get it
    assert "Traceback" in fmt.format(record(RuntimeError("a bug")))
