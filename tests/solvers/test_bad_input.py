"""Bad input is rejected at the edge with an error naming the field and the value."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

import solvers
from solvers import InvalidInputError, Limits, UnknownAlgorithmError


@pytest.mark.parametrize(
    ("projects", "budget", "field", "words"),
    [
        ([{"cost": 3}, {"cost": -5}], 10, "projects[1].cost", "non-negative"),
        ([{"cost": "abc"}], 10, "projects[0].cost", "must be a number"),
        ([{"cost": math.nan}], 10, "projects[0].cost", "finite"),
        ([{"cost": math.inf}], 10, "projects[0].cost", "finite"),
        ([{"cost": "NaN"}], 10, "projects[0].cost", "finite"),
        ([{"cost": True}], 10, "projects[0].cost", "boolean"),
        ([{"cost": None}], 10, "projects[0].cost", "not NoneType"),
        ([{"cost": [1]}], 10, "projects[0].cost", "not list"),
        ([{"name": "x"}], 10, "projects[0].cost", "missing"),
        ([{"cost": "1.005"}], 10, "projects[0].cost", "decimal places"),
        ([{"cost": Decimal("0.001")}], 10, "projects[0].cost", "decimal places"),
        ([{"cost": 1.234}], 10, "projects[0].cost", "decimal places"),
        ([1, 2], -1, "budget", "non-negative"),
        ([1, 2], "ten", "budget", "must be a number"),
        ([1, 2], None, "budget", "not NoneType"),
        ([1, 2], math.nan, "budget", "finite"),
        ([object()], 10, "projects[0]", "mapping"),
        ([{"cost": 1.5e308}], 10, "projects[0].cost", "too large"),
        ([{"cost": "1e999999999"}], 10, "projects[0].cost", "too large"),
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
