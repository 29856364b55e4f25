"""Bad input is rejected at the edge with an error naming the field and the value (solver
arguments and projects files)."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest

import solvers
from solvers import InvalidInputError, Limits, UnknownAlgorithmError


@pytest.mark.parametrize(
    ("projects", "budget", "field", "words"),
    [
        ([{"cost": 3}, {"cost": -5}], 10, "projects[1].cost", "non-negative"),
        ([{"cost": "abc"}], 10, "projects[0].cost", "must be digits"),
        ([{"cost": math.nan}], 10, "projects[0].cost", "finite"),
        ([{"cost": math.inf}], 10, "projects[0].cost", "finite"),
        ([{"cost": "NaN"}], 10, "projects[0].cost", "must be digits"),
        ([{"cost": True}], 10, "projects[0].cost", "boolean"),
        ([{"cost": None}], 10, "projects[0].cost", "not NoneType"),
        ([{"cost": [1]}], 10, "projects[0].cost", "not list"),
        ([{"name": "x"}], 10, "projects[0].cost", "missing"),
        ([{"cost": "1.005"}], 10, "projects[0].cost", "decimal places"),
        ([{"cost": Decimal("0.001")}], 10, "projects[0].cost", "decimal places"),
        ([{"cost": 1.234}], 10, "projects[0].cost", "decimal places"),
        ([1, 2], -1, "budget", "non-negative"),
        ([1, 2], "ten", "budget", "must be digits"),
        ([1, 2], None, "budget", "not NoneType"),
        ([1, 2], math.nan, "budget", "finite"),
        ([object()], 10, "projects[0]", "mapping"),
        ([{"cost": 1.5e308}], 10, "projects[0].cost", "binary float of 10**13 or more"),
        ([{"cost": "1e999999999"}], 10, "projects[0].cost", "must be digits"),
        ([{"cost": "9" * 31}], 10, "projects[0].cost", "too large"),
        ([{"cost": 0.1 + 0.2}], 10, "projects[0].cost", "decimal places"),
        ([{"cost": "1_000"}], 10, "projects[0].cost", "must be digits"),
        ([1, 2], 10**31, "budget", "too large"),
        ("12", 10, "projects", "list"),
        ({"cost": 1}, 10, "projects", "list"),
    ],
)
def test_bad_input_names_field_and_value(projects, budget, field, words) -> None:
    """Each kind of bad input raises InvalidInputError naming the field."""
    with pytest.raises(InvalidInputError) as info:
        solvers.solve(projects, budget)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}:")
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)


def test_n_above_configured_maximum_is_rejected() -> None:
    """More projects than the configured maximum is bad input, not a long run."""
    with pytest.raises(InvalidInputError, match="maximum of 10"):
        solvers.solve([1] * 11, 5, limits=Limits(max_n=10))


def test_unknown_algorithm_lists_valid_names() -> None:
    """An unknown algorithm name raises an error listing every valid one."""
    with pytest.raises(UnknownAlgorithmError) as info:
        solvers.solve([1, 2], 3, algorithm="quantum")
    message = str(info.value)
    assert "'quantum'" in message
    for name in solvers.ALGORITHMS:
        assert name in message


@pytest.mark.parametrize("limit", [0, -1, math.nan, "soon", True])
def test_bad_time_limit(limit) -> None:
    """A time limit must be a positive number of seconds."""
    with pytest.raises(InvalidInputError, match="time_limit"):
        solvers.solve([1, 2], 3, time_limit=limit)


def test_empty_project_list_is_a_valid_exact_answer() -> None:
    """No projects: an exact, empty answer."""
    result = solvers.solve([], 100)
    assert result["status"] == "exact" and result["selected_indices"] == []
    assert result["total_cost"] == 0


def test_mixed_project_shapes_and_other_keys_are_accepted() -> None:
    """Mappings keep extra keys; plain numbers and numeric strings work too."""
    projects = [{"name": "a", "cost": 4, "metadata": {"team": "x"}}, 3, "2"]
    result = solvers.solve(projects, 7)
    assert result["total_cost"] == 7 and result["status"] == "exact"


def test_huge_time_limit_is_an_input_error() -> None:
    """A time limit beyond float range is the project's input error, not OverflowError."""
    with pytest.raises(InvalidInputError) as info:
        solvers.solve([1, 2], 3, time_limit=10**400)
    assert info.value.field == "time_limit"


@pytest.mark.parametrize(
    "algorithm", ["auto", "backtracking", "greedy", "hybrid", "meet_in_the_middle"])
def test_money_beyond_float_precision_comes_back_exact(algorithm: str) -> None:
    """Money above 2^53 cents keeps its cents in the *_exact strings of every algorithm."""
    projects = [{"cost": "12345678901234567.89"}, {"cost": "1.01"}, {"cost": "7.50"}]
    result = solvers.solve(projects, "12345678901234569.00", algorithm=algorithm)
    assert result["selected_indices"] == [0, 1]
    assert result["total_cost_exact"] == "12345678901234568.90"
    assert Decimal(result["budget_exact"]) == Decimal("12345678901234569.00")
    if algorithm != "greedy":  # greedy has no proof here: 7.50 does not fit the 0.10 left
        assert result["status"] == "exact"
        assert result["upper_bound_exact"] == "12345678901234568.90"


def test_integer_results_have_exact_strings_too() -> None:
    """Integer input gets integer exact strings equal to the numeric fields."""
    result = solvers.solve([3, 5, 9], 13)
    assert result["total_cost"] == 12 and result["total_cost_exact"] == "12"


# --- projects files (solvers.files): money by its text, NUL refused, memory per row ------------

def _wide_csv(path, rows: int, columns: int, cell: str = "") -> int:
    """A CSV with `columns` columns (name, cost, then metadata cells `cell`); its size."""
    with path.open("w") as f:
        f.write("name,cost," + ",".join(f"c{j}" for j in range(columns - 2)) + "\n")
        for i in range(rows):
            f.write(f"p{i},{i % 97 + 1}," + ",".join(cell for _ in range(columns - 2)) + "\n")
    return path.stat().st_size


def test_a_wide_csv_costs_memory_per_row_not_per_empty_column(tmp_path) -> None:
    """1,000 mostly empty columns: the projects take less memory than the file (they took 27x
    its size, a dict entry per empty cell), measured as tracemalloc's peak."""
    import tracemalloc

    from solvers.files import read_projects

    size = _wide_csv(tmp_path / "wide.csv", rows=2000, columns=1000)
    tracemalloc.start()
    try:
        loaded = read_projects(tmp_path / "wide.csv", max_projects=2_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(loaded.projects) == 2000 and "metadata" not in loaded.projects[0]
    assert len(loaded.columns) == 998
    assert peak < size + (1 << 20), f"peak {peak:,} bytes for a {size:,}-byte file"


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_parsed_projects_are_capped_in_bytes_of_ram(tmp_path, monkeypatch, kind) -> None:
    """Dense metadata past MAX_PARSED_BYTES is refused while reading (CSV: at the row; JSON:
    before the document is decoded whole), with the cap in bytes; the peak stays near it."""
    import tracemalloc

    import solvers.files as files

    monkeypatch.setattr(files, "MAX_PARSED_BYTES", 2 << 20)
    path = tmp_path / f"dense.{kind}"
    if kind == "csv":
        _wide_csv(path, rows=400, columns=500, cell="xy")
    else:
        path.write_text(json.dumps([{"cost": 1, "metadata": {f"k{j}": j for j in range(500)}}
                                    for _ in range(400)]))
    tracemalloc.start()
    try:
        with pytest.raises(files.FileFormatError) as info:
            files.read_projects(path, max_projects=1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"more than {2 << 20:,} bytes of memory (MAX_PARSED_BYTES)" in str(info.value)
    assert str(info.value).startswith(f"{path}")
    assert peak < 3 * (2 << 20) + path.stat().st_size * (2 if kind == "json" else 0), peak


def test_csv_cost_cells_follow_the_money_rule(tmp_path) -> None:
    """A cost cell is stripped, then read by the one money rule: exact Decimal or int; "1e3"
    is refused naming the file, line and field (the value only in the local user's message)."""
    from solvers.files import FileFormatError, read_projects

    path = tmp_path / "c.csv"
    path.write_text("name,cost\na, 12.50 \nb,\t7\n")
    assert [p["cost"] for p in read_projects(path).projects] == [Decimal("12.50"), 7]
    path.write_text("name,cost\na,1\nb,1e3\n")
    with pytest.raises(FileFormatError) as info:
        read_projects(path)
    assert str(info.value).startswith(f"{path} line 3: projects[1].cost: must be digits")
    assert "'1e3'" in str(info.value) and "1e3" not in info.value.public
    assert info.value.public.startswith(f"{path} line 3: projects[1].cost: must be digits")


def test_json_amounts_are_read_by_their_text(tmp_path) -> None:
    """A JSON number is read by its text (Decimal), never through a float: cents beyond 2**53
    survive; metadata numbers stay plain floats."""
    from solvers.files import read_projects

    path = tmp_path / "p.json"
    path.write_text('{"projects": [{"cost": 90071992547409.94, "score": 0.5}, 3],'
                    ' "budget": 90071992547409.93}')
    loaded = read_projects(path)
    assert loaded.projects[0]["cost"] == Decimal("90071992547409.94")
    assert loaded.budget == Decimal("90071992547409.93") and loaded.projects[1] == 3
    assert loaded.projects[0]["metadata"] == {"score": 0.5}


@pytest.mark.parametrize(("name", "content", "where"), [
    ("n.csv", "name,cost,team\na,1,x\nb\x00,2,y\n", "n.csv line 3: name"),
    ("m.csv", "name,cost,team\na,1,x\nb,2,\x00\n", "m.csv line 3: column 3"),
    ("h.csv", "name,cost,te\x00am\na,1,x\n", "h.csv line 1: column 3 of the header"),
    ("j.json", '[{"cost": 1, "name": "a\\u0000"}]', "j.json: projects[0].name"),
    ("k.json", '[{"cost": 1, "metadata": {"t": ["\\u0000"]}}]', "j.json: projects[0].metadata"),
])
def test_a_nul_character_is_refused_at_parse_time(tmp_path, name, content, where) -> None:
    """A NUL in a name, metadata cell, header or JSON string is refused while reading, naming
    the file, the line and the field (no database stores it as text)."""
    from solvers.files import FileFormatError, read_projects

    (tmp_path / name).write_text(content)
    with pytest.raises(FileFormatError) as info:
        read_projects(tmp_path / name, name=name)
    assert str(info.value).startswith(where.replace("j.json", name))
    assert "contains a NUL character" in info.value.public
