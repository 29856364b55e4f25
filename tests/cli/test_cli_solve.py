"""`budget solve` and `budget profile`: readable output, JSON, files, and clean errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "examples" / "portfolio.csv"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_bundled_example_solves_to_a_readable_table(capsys) -> None:
    """The Quickstart's example prints the chosen projects, totals, status and time."""
    code, out, _ = run(capsys, "solve", str(EXAMPLE), "--budget", "1500000")
    assert code == 0
    assert "project" in out and "status   exact: proven optimal" in out
    assert "of budget 1,500,000.00" in out and " ms" in out


def test_json_output_is_one_object_with_selected_projects(capsys, tmp_path) -> None:
    """--json prints one JSON object carrying the contract keys and the chosen projects."""
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"name": "a", "cost": 3}, {"name": "b", "cost": 5},
                                {"name": "c", "cost": 4}]))
    code, out, _ = run(capsys, "solve", str(path), "--budget", "8", "--json")
    data = json.loads(out)
    assert code == 0 and data["total_cost_exact"] == "8" and data["status"] == "exact"
    assert [p["name"] for p in data["selected_projects"]] == ["a", "b"]
    assert [p["cost_exact"] for p in data["selected_projects"]] == ["3", "5"]
    assert data["total_cost"] == 8 and [p["cost"] for p in data["selected_projects"]] == [3, 5]


def test_json_object_file_may_carry_the_budget(capsys, tmp_path) -> None:
    """A JSON object with projects and budget needs no --budget."""
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"projects": [5, 6, 7], "budget": 12}))
    code, out, _ = run(capsys, "solve", str(path), "--json")
    assert code == 0 and json.loads(out)["total_cost_exact"] == "12"


def test_parquet_input(capsys, tmp_path) -> None:
    """Parquet files with a cost column are read with pyarrow."""
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"name": ["x", "y", "z"], "cost": [10, 20, 35]}), path)
    code, out, _ = run(capsys, "solve", str(path), "--budget", "45", "--json")
    assert code == 0 and json.loads(out)["selected_indices"] == [0, 2]


def test_stdin_csv_with_money(capsys, monkeypatch) -> None:
    """`-` reads CSV from standard input; cents stay exact."""
    monkeypatch.setattr("sys.stdin", io.StringIO("name,cost\na,0.10\nb,0.20\nc,0.35\n"))
    code, out, _ = run(capsys, "solve", "-", "--budget", "0.30", "--json")
    data = json.loads(out)
    assert code == 0 and data["total_cost_exact"] == "0.30" and data["budget_exact"] == "0.30"
    assert [p["cost_exact"] for p in data["selected_projects"]] == ["0.10", "0.20"]


@pytest.mark.parametrize(
    ("content", "suffix", "args", "message"),
    [
        ("name,cost\na,5\nb,-3\n", ".csv", ["--budget", "5"],
         "line 3: projects[1].cost: must be non-negative (got '-3')"),
        ("name,price\na,5\n", ".csv", ["--budget", "5"], "no 'cost' column"),
        ("[1, 2", ".json", ["--budget", "5"], "malformed JSON"),
        ("[1, 2]", ".json", ["--budget", "-1"], "budget: must be non-negative"),
        ("[1, 2]", ".json", ["--budget", "x"], "budget: must be digits with at most two"),
        ("[1, 2]", ".json", ["--budget", "1e3"], "budget: must be digits with at most two "
         "decimals, e.g. \"1200.50\" (got '1e3')"),
        ("[1, 2]", ".json", ["--budget", "1_000"], "(got '1_000')"),
        ("[1, 2]", ".json", ["--budget", "0.001"], "budget: has more decimal places than cents"),
        ("[1, 2]", ".json", ["--budget", "-0"], "budget: must be non-negative (got '-0')"),
        ("[1, 2]", ".json", ["--budget", "1" + "0" * 30], "budget: is too large"),
        ("[1, 2]", ".json", [], "--budget is required"),
        ("[1, 2]", ".json", ["--budget", "3", "--algorithm", "magic"], "valid names are"),
        ("[1, 2]", ".json", ["--budget", "3", "--time-limit", "0"], "time_limit"),
        ("cost\n1\n", ".xlsx", ["--budget", "3"], "unknown file type"),
        ("not parquet", ".parquet", ["--budget", "3"], "not a readable Parquet file"),
        ("name,cost\na,1,extra\n", ".csv", ["--budget", "3"], "more cells than the header"),
    ],
)
def test_user_mistakes_print_one_line_and_exit_non_zero(
    capsys, tmp_path, content, suffix, args, message
) -> None:
    """Bad input gives a clear one-line error naming the problem, never a traceback."""
    path = tmp_path / f"in{suffix}"
    path.write_text(content)
    code, out, err = run(capsys, "solve", str(path), *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_missing_file(capsys) -> None:
    """A missing file is an OS error: named in one line, exit 1 (as the README and help say)."""
    code, out, err = run(capsys, "solve", "/nonexistent/x.csv", "--budget", "1")
    assert code == 1 and out == "" and err == "error: /nonexistent/x.csv: no such file\n"


def test_profile_prints_top_functions_and_writes_prof(capsys, tmp_path) -> None:
    """`budget profile` runs cProfile and timeit and writes a .prof file."""
    out_file = tmp_path / "run.prof"
    code, out, _ = run(capsys, "profile", "--algorithm", "dp", "--n", "60", "--family", "pthree",
                       "--top", "5", "--repeat", "2", "--out", str(out_file))
    assert code == 0 and out_file.stat().st_size > 0
    assert "timeit: best" in out and "cumulative" in out
    import pstats

    assert pstats.Stats(str(out_file)).total_calls > 0


def test_unwritable_profile_output_is_one_line(capsys) -> None:
    """An output path that cannot be written is an error line, not a traceback."""
    code, _, err = run(capsys, "profile", "--algorithm", "dp", "--n", "10", "--repeat", "1",
                       "--out", str(EXAMPLE / "x.prof"))  # under a file
    assert code == 1 and err.startswith("error: ") and "Traceback" not in err


def test_settings_limits_apply_to_the_cli(capsys, monkeypatch, tmp_path) -> None:
    """MAX_PROJECTS from the settings bounds `budget solve`."""
    from config import get_settings

    monkeypatch.setenv("MAX_PROJECTS", "2")
    get_settings.cache_clear()
    try:
        path = tmp_path / "p.json"
        path.write_text("[1, 2, 3]")
        code, _, err = run(capsys, "solve", str(path), "--budget", "3")
    finally:
        get_settings.cache_clear()
    assert code == 2 and "more than the maximum of 2" in err


def test_json_file_amounts_are_read_by_their_text(capsys, tmp_path) -> None:
    """A JSON budget of 90071992547409.93 (a float would read …409.94) stays below the
    project's 90071992547409.94: nothing is chosen, and --json echoes the budget as written."""
    path = tmp_path / "p.json"
    path.write_text('{"projects": ["90071992547409.94", 1], "budget": 90071992547409.93}')
    code, out, _ = run(capsys, "solve", str(path), "--json", "--no-forecast")
    data = json.loads(out)
    assert code == 0 and data["budget_exact"] == "90071992547409.93"
    assert data["selected_indices"] == [1] and data["total_cost_exact"] == "1.00"
    assert data["status"] == "exact"


def test_budget_option_is_read_by_its_text(capsys, tmp_path) -> None:
    """--budget 90071992547409.93 is that amount exactly, and a cost one cent above is left
    out; the chosen cost is printed with the instance's cents ("5.00")."""
    path = tmp_path / "p.csv"
    path.write_text("name,cost\nbig,90071992547409.94\nsmall,5\n")
    code, out, _ = run(capsys, "solve", str(path), "--budget", "90071992547409.93", "--json",
                       "--no-forecast")
    data = json.loads(out)
    assert code == 0 and data["budget_exact"] == "90071992547409.93"
    assert data["total_cost_exact"] == "5.00"
    assert [p["cost_exact"] for p in data["selected_projects"]] == ["5.00"]
