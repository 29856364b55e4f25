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
        (["benchmark", "--sizes", "100000", "--per-size", "1000"], "sum(sizes) × per_size"),
        (["generate", "--sizes", "50000,50000", "--per-size", "100"], "2,000,000"),
        (["benchmark", "--dask-workers", "100000"], "--dask-workers"),
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


def test_prefect_logs_print_above_the_progress_bar_without_task_chatter() -> None:
    """While the bar is shown, Prefect's console records go through the bar's console (above
    it), task-run INFO lines are dropped (WARNING kept), and the handlers come back after."""
    import io
    import logging

    import prefect.main  # noqa: F401  (configures Prefect's logging)
    from rich.console import Console
    from rich.progress import Progress

    from cli.pipeline_commands import _console_handlers, _logs_above

    before = _console_handlers()
    assert before  # Prefect's console handler is there to be redirected
    out = io.StringIO()
    progress = Progress(console=Console(file=out, force_terminal=True, width=200))

    def emit(name: str, level: int, msg: str) -> None:
        logging.getLogger("prefect").handle(
            logging.LogRecord(name, level, __file__, 1, msg, None, None))

    with progress, _logs_above(progress.console):
        assert _console_handlers() == []  # no stream handler writes past the bar
        emit("prefect.flow_runs", logging.INFO, "flow [says] hi")
        emit("prefect.task_runs", logging.INFO, "task chatter")
        emit("prefect.task_runs", logging.WARNING, "task warns")
    assert _console_handlers() == before
    text = out.getvalue()
    assert "flow [says] hi" in text and "task warns" in text  # no rich markup applied
    assert "task chatter" not in text


def test_benchmark_on_a_terminal_keeps_logs_off_the_bar(env_db, tmp_path) -> None:
    """`budget benchmark` under a pseudo-terminal: no telemetry notice, no task-run INFO
    lines, and no Prefect log line printed into the progress bar's line."""
    import os
    import pty
    import re
    import select as io_select

    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if k != "DO_NOT_TRACK"}
    env.update(DATABASE_URL=env_db, DATA_DIR=str(tmp_path), COLUMNS="120",
               PREFECT_HOME=str(tmp_path / "prefect"))
    if PREFECT_API_URL.value():
        env["PREFECT_API_URL"] = PREFECT_API_URL.value()
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "cli", "benchmark", "--sizes", "6,12",
                             "--per-size", "1", "--families", "uniform", "--algorithms",
                             "dp,greedy", "--no-memory"], env=env, stdin=slave, stdout=slave,
                            stderr=slave, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = io_select.select([master], [], [], 180)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=30) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))
    segments = [s for s in re.split(r"[\r\n]", text) if s.strip()]
    assert "anonymous usage data" not in text
    assert not [s for s in segments if "Task run" in s and "Finished in state" in s]
    assert not [s for s in segments if "solver batches" in s and " | " in s], segments
    assert any("solver batches" in s for s in segments)
