"""`budget solve` on the inputs of issue 11: empty files, directories, refusals, deep JSON,
oversized CSVs, CSV line numbers in errors, metadata columns and exact money in --json."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli.main import main
from solvers.files import MAX_JSON_DEPTH, FileFormatError, read_projects

ROOT = Path(__file__).resolve().parents[2]
BIG_ROWS = 1_000_000


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def error_doc(out: str, code: int = 2) -> dict:
    """The one JSON error object a failed --json command prints on stdout."""
    assert out.count("\n") == 1, out
    error = json.loads(out)["error"]
    assert error["exit_code"] == code and error["message"] and "field" in error
    return error


def one_error_line(err: str) -> str:
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.strip()


# --- 1. a file without projects is bad input --------------------------------------------------

@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("header.csv", "name,cost,team\n", "a header but no rows"),
        ("blank.csv", "name,cost\n\n,\n", "a header but no rows"),
        ("empty.csv", "", "the file is empty: no header and no rows"),
        ("empty.json", "[]", "the projects list is empty"),
        ("empty-object.json", '{"projects": [], "budget": 5}', "the projects list is empty"),
    ],
)
def test_file_without_projects_is_bad_input(capsys, tmp_path, name, content, why) -> None:
    """A header-only (or empty) file exits 2 with one line naming the file and 'no projects'."""
    path = tmp_path / name
    path.write_text(content)
    code, out, err = run(capsys, "solve", str(path), "--budget", "5")
    line = one_error_line(err)
    assert code == 2 and out == ""
    assert line == f"error: {path}: no projects ({why})"


def test_parquet_without_rows_is_bad_input(capsys, tmp_path) -> None:
    """A Parquet table with a cost column but no rows exits 2: no projects."""
    path = tmp_path / "none.parquet"
    pq.write_table(pa.table({"name": pa.array([], pa.string()), "cost": pa.array([], pa.int64())}),
                   path)
    code, out, err = run(capsys, "solve", str(path), "--budget", "5")
    assert code == 2 and out == "" and "no projects" in one_error_line(err)


# --- 2. a directory --------------------------------------------------------------------------

def test_directory_is_named_as_a_directory(capsys, tmp_path) -> None:
    """`budget solve DIR` says it is a directory, not that there is no such file."""
    code, out, err = run(capsys, "solve", str(tmp_path), "--budget", "5")
    assert code == 2 and out == ""
    assert one_error_line(err) == f"error: {tmp_path}: is a directory, not a projects file"


# --- 3. a refusal ----------------------------------------------------------------------------

def _forty(tmp_path: Path) -> Path:
    path = tmp_path / "forty.csv"
    path.write_text("name,cost\n" + "".join(f"p{i},{7 * i + 3}\n" for i in range(40)))
    return path


def test_refusal_is_one_line_with_the_reason_and_exit_3(capsys, tmp_path) -> None:
    """brute_force on 40 projects: exit 3, one stderr line with its reason, no empty table."""
    code, out, err = run(capsys, "solve", str(_forty(tmp_path)), "--budget", "500",
                         "--algorithm", "brute_force")
    line = one_error_line(err)
    assert code == 3 and out == ""
    assert line.startswith("error: no answer from brute_force: brute force refuses n=40")
    assert "limit is 24" in line and "--algorithm auto" in line


def test_refusal_in_json_is_the_result_object(capsys, tmp_path) -> None:
    """With --json a refusal prints the failed result (status and reason) and exits 3."""
    code, out, err = run(capsys, "solve", str(_forty(tmp_path)), "--budget", "500",
                         "--algorithm", "brute_force", "--json")
    data = json.loads(out)
    assert code == 3 and data["status"] == "failed" and "refuses n=40" in data["reason"]
    assert data["selected_projects"] == [] and data["total_cost_exact"] == "0"
    assert data["total_cost"] == 0
    assert data["reason"] in one_error_line(err)


# --- 4. deeply nested JSON -------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # beyond the parser's recursion limit
        "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),  # parses, but too deep
        json.dumps({"projects": [{"cost": 1, "meta": json.loads("[" * 900 + "]" * 900)}],
                    "budget": 3}),  # deep metadata that json.dumps would choke on later
    ],
    ids=["100000-levels", "just-too-deep", "deep-metadata"],
)
def test_deeply_nested_json_is_one_line_exit_2(capsys, tmp_path, text) -> None:
    """Deep JSON nesting exits 2 with one line naming the file, never a RecursionError."""
    path = tmp_path / "deep.json"
    path.write_text(text)
    code, out, err = run(capsys, "solve", str(path), "--budget", "5", "--json")
    assert code == 2 and error_doc(out)["type"] == "FileFormatError"
    assert one_error_line(err) == (
        f"error: {path}: JSON nested too deeply (at most {MAX_JSON_DEPTH} levels)")


def test_json_integer_beyond_digit_limit_is_one_line(capsys, tmp_path) -> None:
    """A 5,000-digit integer literal is an error naming the file, not a bare ValueError."""
    path = tmp_path / "digits.json"
    path.write_text("[" + "9" * 5000 + "]")
    code, _, err = run(capsys, "solve", str(path), "--budget", "5")
    assert code == 2 and one_error_line(err).startswith(f"error: {path}: unreadable JSON")


# --- 5. an oversized CSV is refused while streaming ------------------------------------------

@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    """A 1,000,000-row CSV (about 33 MB) with metadata columns."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    rng = random.Random(11)
    with path.open("w") as f:
        f.write("name,cost,team,priority\n")
        f.writelines(f"project {i},{rng.randint(1, 10**6)}.{rng.randint(0, 99):02d},"
                     f"team{i % 17},{i % 5}\n" for i in range(BIG_ROWS))
    return path


def test_oversized_csv_is_refused_early_with_little_memory(big_csv) -> None:
    """1M rows against a 200,000 limit: refused at line 200,002 in < 2.5 s, < 4 MiB traced.

    Measured: 0.24 s untraced and a 0.05 MiB traced peak (parsing the whole file took 6 s and
    about 1 GB; building the first 200,000 projects before refusing, 107 MiB). The bounds
    leave 10x headroom or more."""
    message = (f"{big_csv} line 200002: more than the maximum of 200000 projects "
               "(MAX_PROJECTS); stopped reading there")
    started = time.perf_counter()
    with pytest.raises(FileFormatError) as info:
        read_projects(big_csv, max_projects=200_000)
    elapsed = time.perf_counter() - started
    assert str(info.value) == message
    assert elapsed < 2.5, f"{elapsed:.2f} s"
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match="more than the maximum of 200000"):
            read_projects(big_csv, max_projects=200_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"traced peak {peak / 2**20:.1f} MiB"


def test_cli_limit_comes_from_max_projects_setting(big_csv, tmp_path) -> None:
    """`budget solve` (a subprocess, MAX_PROJECTS=1000) stops at line 1002: one line, exit 2,
    and its peak RSS stays far below what parsing 1M rows took (about 1 GB)."""
    env = {**os.environ, "MAX_PROJECTS": "1000"}
    # A small Python starts the CLI and reports its peak RSS: the CLI's own rusage, taken from
    # this test process, would include the pages of the (large) pytest process it is spawned
    # from (vfork shares them until exec), as a fresh-clone CI run saw (964 MiB).
    probe = ("import os, resource, subprocess, sys\n"
             "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
             "out, err = p.communicate()\n"
             "sys.stderr.buffer.write(err)\n"
             "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
             "print(p.returncode, len(out), peak)\n")
    proc = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "cli", "solve",
                           str(big_csv), "--budget", "5"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    code, out_len, peak_kib = (int(v) for v in proc.stdout.split())
    assert code == 2 and out_len == 0
    assert one_error_line(proc.stderr) == (f"error: {big_csv} line 1002: more than the maximum "
                                           "of 1000 projects (MAX_PROJECTS); stopped reading "
                                           "there")
    assert peak_kib < 600 * 1024, f"peak RSS {peak_kib / 1024:.0f} MiB"


@pytest.mark.parametrize(("rows", "ok"), [(3, True), (4, False)])
def test_limit_is_inclusive(tmp_path, rows, ok) -> None:
    """Exactly max_projects rows are read; one more is refused, naming its line."""
    path = tmp_path / "p.csv"
    path.write_text("cost\n\n" + "".join(f"{i}\n" for i in range(rows)))
    if ok:
        assert len(read_projects(path, max_projects=3).projects) == 3
    else:
        with pytest.raises(FileFormatError, match=r"line 6: more than the maximum of 3"):
            read_projects(path, max_projects=3)


def test_stdin_csv_is_limited_too(capsys, monkeypatch) -> None:
    """CSV on standard input is streamed against the same limit."""
    from config import get_settings

    monkeypatch.setenv("MAX_PROJECTS", "2")
    monkeypatch.setattr("sys.stdin", io.StringIO("cost\n1\n2\n3\n"))
    get_settings.cache_clear()
    try:
        code, _, err = run(capsys, "solve", "-", "--budget", "3")
    finally:
        get_settings.cache_clear()
    assert code == 2
    assert one_error_line(err) == ("error: <stdin> line 4: more than the maximum of 2 projects "
                                   "(MAX_PROJECTS); stopped reading there")


def test_overlong_csv_line_is_refused(tmp_path) -> None:
    """A single line over MAX_LINE_CHARS is refused with its line number, not read whole."""
    from solvers.files import MAX_LINE_CHARS

    path = tmp_path / "long.csv"
    path.write_text("name,cost\n" + "x" * (MAX_LINE_CHARS + 10) + ",5\n")
    with pytest.raises(FileFormatError, match=r"long.csv line 2: longer than"):
        read_projects(path)


# --- 6. CSV line numbers in errors -----------------------------------------------------------

def test_errors_cite_the_csv_line(capsys, tmp_path) -> None:
    """A bad cost names the file, the CSV line (counting blank and multi-line rows) and value."""
    path = tmp_path / "data.csv"
    path.write_text('name,cost,team\na,5,x\n"multi\nline",6,y\n\nb,4,z\nc,3,z\nd,-3,q\n')
    code, out, err = run(capsys, "solve", str(path), "--budget", "10")
    assert code == 2 and out == ""
    assert one_error_line(err) == (
        f"error: {path} line 8: projects[4].cost: must be non-negative (got '-3')")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,cost\na,1\nb,2,extra\n", "line 3: more cells than the header (3 > 2)"),
        ("name,team,cost\na,x,1\nb\n", "line 3: no 'cost' cell (1 cells, the header has 3)"),
        ("name,cost,Cost\na,1,2\n", "line 1: duplicate column 'Cost'"),
        ("name;cost\na;1\n", ": no 'cost' column (columns: name;cost); the file must be "
                             "comma-separated"),
    ],
)
def test_structural_csv_errors_cite_the_line(capsys, tmp_path, content, message) -> None:
    """Rows that do not match the header are refused with the file and line."""
    path = tmp_path / "d.csv"
    path.write_text(content)
    code, _, err = run(capsys, "solve", str(path), "--budget", "10")
    sep = "" if message.startswith(":") else " "
    assert code == 2 and one_error_line(err) == f"error: {path}{sep}{message}"


def test_json_errors_name_the_file(capsys, tmp_path) -> None:
    """A bad cost or budget inside a JSON file is prefixed with the file's name."""
    path = tmp_path / "p.json"
    path.write_text('{"projects": [1, {"cost": "x"}], "budget": 3}')
    code, _, err = run(capsys, "solve", str(path))
    assert code == 2
    assert one_error_line(err) == (f"error: {path}: projects[1].cost: must be digits with at "
                                   "most two decimals, e.g. \"1200.50\" (got 'x')")
    path.write_text('{"projects": [1, 2], "budget": -3}')
    code, _, err = run(capsys, "solve", str(path))
    assert code == 2
    assert one_error_line(err) == f"error: {path}: budget: must be non-negative (got -3)"


# --- 7. metadata columns ---------------------------------------------------------------------

def test_metadata_columns_in_table_and_json(capsys, tmp_path) -> None:
    """The file's other columns (team, priority) appear in the table and in --json."""
    path = tmp_path / "m.csv"
    path.write_text("name,team,cost,priority\nalpha,red,30,high\nbeta,blue,50,low\n"
                    "gamma,green,45,mid\n")
    code, out, _ = run(capsys, "solve", str(path), "--budget", "80")
    assert code == 0
    header, _, *rows = out.splitlines()
    assert header.split() == ["#", "project", "cost", "team", "priority"]
    assert rows[0].split() == ["0", "alpha", "30", "red", "high"]
    assert rows[1].split() == ["1", "beta", "50", "blue", "low"]
    code, out, _ = run(capsys, "solve", str(path), "--budget", "80", "--json")
    chosen = json.loads(out)["selected_projects"]
    assert chosen == [
        {"index": 0, "name": "alpha", "cost": 30, "cost_exact": "30",
         "metadata": {"team": "red", "priority": "high"}},
        {"index": 1, "name": "beta", "cost": 50, "cost_exact": "50",
         "metadata": {"team": "blue", "priority": "low"}},
    ]


def test_json_metadata_and_hostile_text_in_table(capsys, tmp_path) -> None:
    """JSON metadata shows as columns; control characters in cells are escaped, not emitted."""
    path = tmp_path / "m.json"
    path.write_text(json.dumps([
        {"name": "a\x1b[31mred\nline", "cost": 3, "metadata": {"team": "x", "tags": ["p", 1]}},
        {"name": "b", "cost": 4, "owner": "z"},
    ]))
    code, out, _ = run(capsys, "solve", str(path), "--budget", "7")
    assert code == 0 and "\x1b" not in out
    lines = out.splitlines()
    assert lines[0].split() == ["#", "project", "cost", "team", "tags", "owner"]
    assert "a\\x1b[31mred\\nline" in lines[2] and '["p", 1]' in lines[2]
    code, out, _ = run(capsys, "solve", str(path), "--budget", "7", "--json")
    chosen = json.loads(out)["selected_projects"]
    assert chosen[0]["metadata"] == {"team": "x", "tags": ["p", 1]}
    assert chosen[1]["metadata"] == {"owner": "z"}


# --- 8. exact money in --json ----------------------------------------------------------------

def test_json_amounts_are_exact_strings(capsys, tmp_path) -> None:
    """Every --json amount has its exact decimal text in `*_exact` (`cost_exact` per project),
    even beyond float precision, next to the API's JSON number."""
    path = tmp_path / "big-money.csv"
    path.write_text("name,cost\na,12345678901234567.89\nb,0.01\nc,5\nd,99999999999999999.99\n")
    code, out, _ = run(capsys, "solve", str(path), "--budget", "12345678901234573.00",
                       "--json")
    data = json.loads(out)
    assert code == 0 and data["status"] == "exact"
    costs = [p["cost_exact"] for p in data["selected_projects"]]
    assert costs == ["12345678901234567.89", "0.01", "5.00"]
    assert data["total_cost_exact"] == "12345678901234572.90" == str(sum(map(Decimal, costs)))
    assert data["budget_exact"] == "12345678901234573.00"
    assert data["upper_bound_exact"] == "12345678901234572.90"
    assert data["total_cost"] == float("12345678901234572.90")  # the API's number, for display
    assert [p["cost"] for p in data["selected_projects"]] == [float(c) for c in costs]
    code, out, _ = run(capsys, "solve", str(path), "--budget", "12345678901234573.00")
    assert "total    12,345,678,901,234,572.90 of budget 12,345,678,901,234,573.00" in out


def test_json_amounts_for_integer_input_have_no_decimals(capsys, tmp_path) -> None:
    """Integer input gives integer strings; a float-looking cost of 2.50 scales everything."""
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"cost": 3}, {"cost": 2.5}, {"cost": "4"}]))
    code, out, _ = run(capsys, "solve", str(path), "--budget", "7", "--json")
    data = json.loads(out)
    assert code == 0 and data["budget_exact"] == "7.00" and data["total_cost_exact"] == "7.00"
    assert {p["cost_exact"] for p in data["selected_projects"]} == {"3.00", "4.00"}
    path.write_text("[3, 4, 5]")
    code, out, _ = run(capsys, "solve", str(path), "--budget", "8", "--json")
    data = json.loads(out)
    assert (data["total_cost_exact"], data["budget_exact"], data["upper_bound_exact"]) == (
        "8", "8", "8")
    assert (data["total_cost"], data["budget"], data["upper_bound"]) == (8, 8, 8)


def test_profile_json_amounts_are_strings(capsys) -> None:
    """`budget profile --json` reports total_cost and budget as exact strings too."""
    code, out, _ = run(capsys, "profile", "--algorithm", "dp", "--n", "20", "--repeat", "1",
                       "--family", "pthree", "--out", os.devnull, "--json")
    data = json.loads(out)
    assert code == 0 and isinstance(data["total_cost"], str) and isinstance(data["budget"], str)
    assert Decimal(data["total_cost"]) <= Decimal(data["budget"])


# --- hostile files: each is one clear line, exit 2 --------------------------------------------

@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("latin.csv", b"name,cost\na,5\nb\xe9,6\n",
         "line 3: not UTF-8 text (CSV and JSON must be UTF-8)"),
        ("quote.csv", b'name,cost\na,1\n"abc,5\nd,6\n',
         "line 3: malformed CSV (unexpected end of data; a quote is never closed)"),
        ("after-quote.csv", b'name,cost\n"ab"x,5\n', "line 2: malformed CSV (',' expected after"),
        ("field.csv", b'name,cost\n"' + b"x" * 200_000 + b'",5\n',
         "line 2: malformed CSV (field larger than field limit (131072))"),
        ("cell.csv", b"name,cost\na," + b"9" * 100_000 + b"\n",
         "line 2: projects[0].cost: is too large (at most 30 digits) (got '99999"),
        ("columns.csv", ",".join(f"c{i}" for i in range(5000)).encode() + b"\n1\n",
         "line 1: 5,000 columns (at most 1,000)"),
        ("nocost.json", b'[{"cost": 1}, {"name": "b"}]', ": projects[1].cost: is missing"),
        ("blank.json", b"  \n", ": no projects (the file is empty)"),
    ],
)
def test_hostile_files_are_one_clear_line(capsys, tmp_path, name, content, message) -> None:
    """Broken encodings, quotes, giant cells or headers: exit 2, one short line with the line."""
    path = tmp_path / name
    path.write_bytes(content)
    code, out, err = run(capsys, "solve", str(path), "--budget", "5")
    line = one_error_line(err)
    assert code == 2 and out == ""
    assert line.startswith(f"error: {path}{'' if message[0] == ':' else ' '}{message}"), line
    assert len(line) < 300


def test_stdin_json_with_bom_and_blank_lines(capsys, monkeypatch) -> None:
    """JSON on standard input is recognised after a BOM and blank lines, budget included."""
    monkeypatch.setattr("sys.stdin", io.StringIO('\ufeff\n\n  {"projects": [4, 5, 6], '
                                                 '"budget": 10}'))
    code, out, _ = run(capsys, "solve", "-", "--json")
    data = json.loads(out)
    assert code == 0 and data["total_cost_exact"] == "10" and data["source"] == "<stdin>"


def test_negative_zero_cost_is_refused_like_any_signed_amount(capsys, tmp_path) -> None:
    """A cost written "-0" is refused by the one money rule (no sign), naming line and field."""
    path = tmp_path / "z.csv"
    path.write_text("name,cost\na,-0\nb,0.5\n")
    code, out, err = run(capsys, "solve", str(path), "--budget", "5", "--json")
    assert code == 2 and error_doc(out)["message"] == one_error_line(err)[len("error: "):]
    assert one_error_line(err) == (f"error: {path} line 2: projects[0].cost: must be "
                                   "non-negative (got '-0')")


# --- oversized JSON and Parquet are refused before decoding them whole -----------------------

def test_oversized_json_is_refused_while_decoding(tmp_path) -> None:
    """300,000 JSON projects against a limit of 1,000: refused after 1,001 elements.

    The traced peak is the file's text (about 2x its size: bytes, then str), not its objects
    (decoding it whole peaks at about 8.5x); the bound is 5x its size."""
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"budget": 5, "projects": [
        {"name": f"p{i}", "cost": i % 997 + 1, "team": "t"} for i in range(300_000)]}))
    size = path.stat().st_size
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError) as info:
            read_projects(path, max_projects=1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value) == (f"{path}: more than the maximum of 1000 projects (MAX_PROJECTS); "
                               "stopped reading there")
    assert peak < 5 * size, f"traced peak {peak / size:.1f}x the file"


@pytest.mark.parametrize(
    "text",
    ["[1, 2, 3]", " \n[ 1 ,2,\n3 ] ", '{"budget": [1, {"a": 2}], "projects": [1, 2, 3]}',
     '{"x": {"projects": [1, 2, 3, 4]}, "projects": [1, 2]}', '{"projects": [], "budget": 1}',
     "[1, 2,]", "[1 2]", '{"projects": [1, 2', '{"projects": 5}', '{"a": 1,}', "[[[[1]]]]",
     '{"projects": [1, 2, 3], "projects": [4]}'],
)
def test_json_precount_agrees_with_a_full_decode(tmp_path, text) -> None:
    """With a generous limit, the early count never changes what a file reads as (or why not)."""
    path = tmp_path / "p.json"
    path.write_text(text)

    def outcome(limit: int | None) -> object:
        try:
            loaded = read_projects(path, max_projects=limit)
        except FileFormatError as exc:
            return str(exc)
        return loaded.projects, loaded.budget

    assert outcome(3) == outcome(None)


def test_oversized_parquet_is_refused_from_its_footer(capsys, tmp_path, monkeypatch) -> None:
    """A Parquet file over MAX_PROJECTS is refused from its row count, naming both numbers."""
    from config import get_settings

    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"cost": list(range(1, 51))}), path)
    monkeypatch.setenv("MAX_PROJECTS", "10")
    get_settings.cache_clear()
    try:
        code, _, err = run(capsys, "solve", str(path), "--budget", "5")
    finally:
        get_settings.cache_clear()
    assert code == 2
    assert one_error_line(err) == (
        f"error: {path}: 50 projects, more than the maximum of 10 (MAX_PROJECTS)")


def test_option_errors_are_not_blamed_on_the_file(capsys, tmp_path) -> None:
    """A bad --time-limit with a file that carries its budget names the option, not the file."""
    path = tmp_path / "p.json"
    path.write_text('{"projects": [1, 2], "budget": 2}')
    code, _, err = run(capsys, "solve", str(path), "--time-limit", "-1")
    assert code == 2
    assert one_error_line(err) == "error: time_limit: must be a positive number of seconds " \
                                  "(got -1.0)"


# --- files too large to hold are refused before reading -------------------------------------

@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_file_over_max_file_bytes_is_refused_unread(capsys, tmp_path, suffix) -> None:
    """A 600 MiB (sparse) CSV or JSON file is refused from its size, in one line."""
    path = tmp_path / f"huge{suffix}"
    with path.open("wb") as f:
        f.truncate(600 << 20)
    started = time.perf_counter()
    code, out, err = run(capsys, "solve", str(path), "--budget", "5")
    assert code == 2 and out == "" and time.perf_counter() - started < 2
    assert one_error_line(err) == (f"error: {path}: {600 << 20:,} bytes, more than the 512 MiB "
                                   "a projects file may hold")


def test_stdin_over_max_file_bytes_is_refused_while_streaming(capsys, monkeypatch) -> None:
    """Standard input is counted as it streams: past MAX_FILE_BYTES (here 1,000) it stops."""
    import solvers.files

    monkeypatch.setattr(solvers.files, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr("sys.stdin", io.StringIO("cost\n" + "12345\n" * 400))
    code, _, err = run(capsys, "solve", "-", "--budget", "5")
    assert code == 2
    assert one_error_line(err) == ("error: <stdin> line 167: stopped reading there, more than "
                                   "the 1,000 bytes a projects file may hold")


def test_parquet_over_max_file_bytes_is_refused_from_its_footer(capsys, tmp_path,
                                                                 monkeypatch) -> None:
    """A Parquet file whose uncompressed data passes MAX_FILE_BYTES is refused unread."""
    import solvers.files

    path = tmp_path / "p.parquet"
    rng = random.Random(3)
    notes = ["".join(rng.choices("abcdefghij", k=200)) for _ in range(1000)]
    pq.write_table(pa.table({"cost": list(range(1000)), "note": notes}), path)
    monkeypatch.setattr(solvers.files, "MAX_FILE_BYTES", 10_000)
    code, _, err = run(capsys, "solve", str(path), "--budget", "5")
    assert code == 2
    line = one_error_line(err)
    assert line.startswith(f"error: {path}: ") and "bytes of data uncompressed" in line


def test_non_utf8_terminal_gets_escapes_not_an_error(tmp_path) -> None:
    """With an ASCII-only stdout, non-ASCII names are escaped and the solve still exits 0."""
    path = tmp_path / "u.csv"
    path.write_text("name,cost\ncafé…,5\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "cli", "solve", str(path), "--budget", "5"],
                          cwd=ROOT, env={**os.environ, "PYTHONIOENCODING": "ascii"},
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert b"caf\\xe9\\u2026" in proc.stdout and proc.stderr == b""


def test_piped_stdin_with_bom_cites_lines_and_stops_on_bad_bytes(tmp_path) -> None:
    """A real pipe into `budget solve -`: the BOM is dropped, a bad cost cites its line, and a
    non-UTF-8 byte is one error line."""
    def solve(data: bytes) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cli", "solve", "-", "--budget", "5"],
                              cwd=ROOT, input=data, capture_output=True, timeout=120)

    bad_cost = solve(b"\xef\xbb\xbfname,cost,team\na,5,x\nb,-2,y\n")
    assert bad_cost.returncode == 2 and bad_cost.stdout == b""
    assert bad_cost.stderr == (b"error: <stdin> line 3: projects[1].cost: must be non-negative "
                               b"(got '-2')\n")
    bad_bytes = solve(b"name,cost\na,5\n\xff\xfe,6\n")
    assert bad_bytes.returncode == 2
    assert bad_bytes.stderr == b"error: <stdin>: not UTF-8 text (CSV and JSON must be UTF-8)\n"
