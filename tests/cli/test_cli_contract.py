"""The CLI's contracts: a light start, --version, the help's project cap, one JSON object
under --json for every outcome, and each documented exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "examples" / "portfolio.csv"
HEAVY = ("alembic", "sqlalchemy", "prefect", "pydantic_settings", "numpy", "pandas")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def the_error(out: str, code: int) -> dict:
    """The single JSON error object on stdout."""
    assert out.count("\n") == 1, out
    doc = json.loads(out)
    assert set(doc) == {"error"}
    error = doc["error"]
    assert {"type", "message", "field", "exit_code"} <= set(error) and error["exit_code"] == code
    return error


def test_help_imports_no_heavy_module_and_is_quick(tmp_path) -> None:
    """`budget --help` in a fresh process loads none of the heavy libraries and ends well
    within a generous bound (the tight figure is benchmarks/bench_cli_start.py's)."""
    code = ("import sys, runpy\nsys.argv = ['budget', '--help']\n"
            "try:\n    runpy.run_module('cli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
    assert "usage: budget" in proc.stdout and "server" in proc.stdout
    assert elapsed < 3.0


def test_version_prints_the_package_version(capsys) -> None:
    """`budget --version` prints the installed distribution's version and exits 0."""
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"budget {version('budget-allocation')}\n"


def test_solve_help_states_the_setting_cap(capsys) -> None:
    """`budget solve --help` states MAX_PROJECTS's real default, from the setting itself."""
    from config.settings import Settings

    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    out = capsys.readouterr().out
    default = Settings.model_fields["max_projects"].default
    assert f"default {default:,})" in out and "200,000" not in out
    assert "exit status: 0 an answer" in out


def test_exit_0_answer_is_one_object_in_the_api_vocabulary(capsys, tmp_path) -> None:
    """Exit 0: one object; amounts as numbers plus *_exact texts, unnamed projects named
    project-<index> (the API's vocabulary)."""
    path = tmp_path / "p.json"
    path.write_text('[{"cost": "0.10"}, {"name": "b", "cost": 0.2}, 7]')
    code, out, _ = run(capsys, "solve", str(path), "--budget", "0.30", "--json",
                       "--no-forecast")
    data = json.loads(out)
    assert code == 0 and out.count("\n") == 1
    assert (data["total_cost"], data["total_cost_exact"]) == (0.3, "0.30")
    assert (data["budget"], data["budget_exact"]) == (0.3, "0.30")
    assert (data["upper_bound"], data["upper_bound_exact"]) == (0.3, "0.30")
    assert data["selected_projects"] == [
        {"index": 0, "name": "project-0", "cost": 0.1, "cost_exact": "0.10", "metadata": {}},
        {"index": 1, "name": "b", "cost": 0.2, "cost_exact": "0.20", "metadata": {}}]


def test_exit_1_missing_file_is_an_os_error_object(capsys) -> None:
    """Exit 1: a missing file is an OS error, one line and one JSON error naming the file."""
    code, out, err = run(capsys, "solve", "/nonexistent/x.csv", "--budget", "1", "--json")
    error = the_error(out, 1)
    assert code == 1 and error["type"] == "FileNotFoundError" and error["field"] == "file"
    assert error["value"] == "/nonexistent/x.csv"
    assert err == "error: /nonexistent/x.csv: no such file\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_exit_1_unreadable_file(capsys, tmp_path) -> None:
    """Exit 1: a file that cannot be opened (permissions) is an OS error too."""
    path = tmp_path / "p.csv"
    path.write_text("cost\n1\n")
    path.chmod(0)
    code, out, _ = run(capsys, "solve", str(path), "--budget", "1", "--json")
    assert code == 1 and the_error(out, 1)["type"] == "PermissionError"


def test_exit_2_bad_input_names_field_and_value(capsys, tmp_path) -> None:
    """Exit 2: bad input under --json prints one error object naming the field and value
    (stdout was empty before), and the same message on stderr."""
    path = tmp_path / "p.json"
    path.write_text("[1, 2]")
    code, out, err = run(capsys, "solve", str(path), "--budget", "-5", "--json")
    error = the_error(out, 2)
    assert code == 2 and error["type"] == "InvalidInputError"
    assert error["field"] == "budget" and error["value"] == "-5"
    assert err == f"error: {error['message']}\n" and "budget" in error["message"]


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--budget", "3", "--algorithm", "magic"], None),
        ([], "budget"),
        (["--budget", "3", "--time-limit", "0"], None),
    ],
    ids=["unknown-algorithm", "no-budget", "zero-time-limit"],
)
def test_exit_2_every_solve_mistake_is_one_object(capsys, tmp_path, argv, field) -> None:
    """Every bad-input path of `budget solve --json` prints one error object (exit 2)."""
    path = tmp_path / "p.json"
    path.write_text("[1, 2]")
    code, out, err = run(capsys, "solve", str(path), *argv, "--json")
    error = the_error(out, 2)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    if field is not None:
        assert error["field"] == field


def test_exit_2_usage_error_is_one_object(capsys) -> None:
    """A command line argparse refuses exits 2, with one JSON object under --json."""
    code, out, err = run(capsys, "solve", "--json")  # the FILE argument is missing
    error = the_error(out, 2)
    assert code == 2 and error["type"] == "UsageError" and "FILE" in error["message"].upper()
    assert "usage: budget solve" in err


def test_exit_3_no_answer_is_the_result_object(capsys, tmp_path) -> None:
    """Exit 3: no answer; --json prints the failed result object (not an error object)."""
    path = tmp_path / "p.json"
    path.write_text(json.dumps(list(range(1, 41))))
    code, out, err = run(capsys, "solve", str(path), "--budget", "50", "--algorithm",
                         "brute_force", "--json", "--no-forecast")
    data = json.loads(out)
    assert code == 3 and data["status"] == "failed" and "error" not in data
    assert err.startswith("error: no answer from brute_force")


def test_profile_bad_option_is_one_object(capsys) -> None:
    """`budget profile --json` with a nonsense option prints one error object (exit 2)."""
    code, out, _ = run(capsys, "profile", "--n", "-1", "--json")
    assert code == 2 and the_error(out, 2)["type"] == "UsageError"


def test_server_status_without_a_server(capsys, tmp_path, monkeypatch) -> None:
    """`budget server status` with no server: says so, exit 3; --json is one object; `stop`
    is a no-op (exit 0)."""
    from config import get_settings

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    get_settings.cache_clear()
    try:
        code, out, _ = run(capsys, "server", "status")
        assert code == 3 and out.startswith("not running")
        code, out, _ = run(capsys, "server", "status", "--json")
        doc = json.loads(out)
        assert code == 3 and doc["running"] is False
        assert doc["state_file"] == str(tmp_path / "prefect" / "budget-server.json")
        code, out, _ = run(capsys, "server", "stop", "--json")
        assert code == 0 and json.loads(out) == {"running": False, "stopped": False}
    finally:
        get_settings.cache_clear()


def test_a_stale_state_file_is_not_a_running_server(tmp_path) -> None:
    """A state file whose process is gone is not used, and `use_server` leaves Prefect to
    decide (no PREFECT_API_URL exported)."""
    from cli import server_commands as sc

    home = tmp_path / "prefect"
    home.mkdir()
    (home / sc.STATE_FILE).write_text(json.dumps(
        {"api_url": "http://127.0.0.1:9/api", "pid": 2 ** 22 + 12345}))
    assert sc.read_state(tmp_path)["api_url"] == "http://127.0.0.1:9/api"
    assert sc.running_server(tmp_path) is None
