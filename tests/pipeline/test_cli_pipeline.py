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
    """The CLI's console handler drops tracebacks of expected errors only, and leaves the
    record intact for the other handlers (the Prefect API)."""
    import io
    import logging

    from cli._console import ConsoleHandler
    from db.errors import DatabaseUnavailableError

    handler = ConsoleHandler(stream=io.StringIO())
    handler.setFormatter(logging.Formatter("%(message)s"))

    def record(exc: BaseException) -> logging.LogRecord:
        try:
            raise exc
        except BaseException:
            return logging.LogRecord("prefect.task_runs", logging.ERROR, __file__, 1, "failed",
                                     None, sys.exc_info())

    expected = record(DatabaseUnavailableError("db down"))
    assert handler.format(expected) == "failed"
    assert expected.exc_info is not None  # other handlers (the Prefect API) still get it
    assert "Traceback" in handler.format(record(RuntimeError("a bug")))


def test_prefect_logs_print_above_the_progress_bar_without_task_chatter() -> None:
    """While the bar is shown, the console handler prints through the bar's console (above
    it) and drops task-run INFO lines (WARNING kept); after it, it writes to its stream."""
    import io
    import logging

    from rich.console import Console
    from rich.progress import Progress

    from cli._console import ConsoleHandler, above

    stream, out = io.StringIO(), io.StringIO()
    handler = ConsoleHandler(stream=stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    progress = Progress(console=Console(file=out, force_terminal=True, width=200))

    def emit(name: str, level: int, msg: str) -> None:
        handler.handle(logging.LogRecord(name, level, __file__, 1, msg, None, None))

    with progress, above(progress.console):
        emit("prefect.flow_runs", logging.INFO, "flow [says] hi")
        emit("prefect.task_runs", logging.INFO, "task chatter")
        emit("prefect.task_runs", logging.WARNING, "task warns")
    emit("prefect.flow_runs", logging.INFO, "after the bar")
    text = out.getvalue()
    assert "flow [says] hi" in text and "task warns" in text  # no rich markup applied
    assert "task chatter" not in text and "after the bar" not in text
    assert "after the bar" in stream.getvalue() and "flow [says] hi" not in stream.getvalue()


def test_the_console_handler_is_chosen_by_public_settings() -> None:
    """A fresh `budget` process configures Prefect's console handler through Prefect's own
    logging override (PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS): no handler is swapped."""
    code = ("import cli.pipeline_commands, logging, prefect.main\n"
            "print(sorted({type(h).__module__ + '.' + type(h).__name__ "
            "for h in logging.getLogger().handlers}))")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "cli._console.ConsoleHandler" in proc.stdout


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


@pytest.mark.slow
def test_server_start_is_reused_by_pipeline_commands_and_stops(env_db, tmp_path) -> None:
    """`budget server start` runs one Prefect server (PREFECT_HOME under DATA_DIR, state file
    with its URL and pid); a pipeline command then uses it (no temporary server, no hint);
    `status` reports it; `stop` ends it."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(DATABASE_URL=env_db, DATA_DIR=str(tmp_path))

    def budget(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cli", *argv], env=env,
                              capture_output=True, text=True, timeout=240)

    started = budget("server", "start", "--port", "0", "--json")
    try:
        assert started.returncode == 0, started.stderr
        state = json.loads(started.stdout)
        assert state["running"] and state["home"] == str(tmp_path / "prefect")
        assert (tmp_path / "prefect" / "budget-server.json").exists()
        status = budget("server", "status", "--json")
        assert status.returncode == 0 and json.loads(status.stdout)["api_url"] == state["api_url"]
        assert budget("server", "start").stdout.startswith("already running")
        out = budget("generate", "--sizes", "5", "--per-size", "1", "--families", "uniform",
                     "--no-parquet", "--json")
        assert out.returncode == 0, out.stderr
        assert "temporary" not in out.stderr and json.loads(out.stdout)["datasets"] == 1
    finally:
        stopped = budget("server", "stop", "--json")
    assert stopped.returncode == 0 and json.loads(stopped.stdout)["stopped"] is True
    assert budget("server", "status").returncode == 3
