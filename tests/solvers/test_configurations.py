"""Named configurations: correct answers, dispatch through solve and auto, and errors."""

from __future__ import annotations

import functools
import random

import pytest

import solvers
from solvers import hybrid
from solvers.instances import generate

from .test_contract import optimum

CONFIGS = list(solvers.CONFIGURATIONS)


def _reference(costs: list[int], budget: int) -> float:
    """Exhaustive enumeration for tiny cases, else another exact method (meet in the middle
    up to 40 items, dp beyond)."""
    if len(costs) <= 14:
        return optimum(costs, budget)
    name = "meet_in_the_middle" if len(costs) <= 40 else "dp"
    result = solvers.solve(costs, budget, algorithm=name, measure_memory=False)
    assert result["status"] == "exact"
    return result["total_cost"]


@functools.cache
def _cases() -> list[tuple[str, list[int], int, float]]:
    rng = random.Random(41)
    out = []
    for k in range(4):  # small enough for exhaustive enumeration
        costs = [rng.randint(1, 10 ** rng.randint(1, 6)) for _ in range(rng.randint(3, 14))]
        budget = rng.randint(1, sum(costs))
        out.append((f"random{k}", costs, budget, _reference(costs, budget)))
    for family, n in (("todd", 20), ("pe", 40), ("psix", 60), ("portfolio", 60),
                      ("avis", 40), ("uniform", 200)):
        inst = generate(family, n, seed=3)
        costs = list(inst.costs)
        out.append((f"{family}{n}", costs, inst.budget, _reference(costs, inst.budget)))
    return out


@pytest.mark.parametrize("name", CONFIGS)
def test_each_configuration_returns_the_proven_optimum(name: str) -> None:
    """Every configuration answers the optimum (brute enumeration or dp) and says it ran."""
    base = solvers.CONFIGURATIONS[name].algorithm
    for label, costs, budget, best in _cases():
        result = solvers.solve(costs, budget, algorithm=name, measure_memory=False)
        assert result["status"] == "exact", label
        assert result["total_cost"] == best, label
        assert sum(costs[i] for i in result["selected_indices"]) == pytest.approx(best), label
        assert result["algorithm"] == base and result["configuration"] == name


def test_configurations_are_not_algorithms_and_defaults_are_unchanged() -> None:
    """Configuration names stay out of ALGORITHMS; the default HybridConfig is the module's
    documented behaviour, and a base algorithm's result carries no configuration."""
    assert not set(CONFIGS) & set(solvers.ALGORITHMS)
    assert all(name.startswith(f"{c.algorithm}[") for name, c in
               solvers.CONFIGURATIONS.items())
    default = hybrid.DEFAULT_CONFIG
    assert (default.core_sizes, default.heuristic_seconds, default.quick_core_seconds,
            default.heuristic_share, default.exact_first) == (
        hybrid.CORE_SIZES, hybrid.HEURISTIC_SECONDS, hybrid.QUICK_CORE_SECONDS, 0.5, 0.0)
    assert "configuration" not in solvers.solve([3, 5, 9], 12, algorithm="hybrid")


def test_exact_first_changes_what_hybrid_runs() -> None:
    """On a dense psix instance the default proves by heuristics; exact-first runs dp."""
    inst = generate("psix", 60, seed=1)
    default = solvers.solve(inst.costs, inst.budget, algorithm="hybrid", time_limit=30)
    first = solvers.solve(inst.costs, inst.budget, algorithm="hybrid[exact-first]",
                          time_limit=30)
    assert default["stage"] in ("heuristic", "core") and first["stage"] == "dp"
    assert default["total_cost"] == first["total_cost"]


def test_auto_runs_a_configuration_its_selector_picks() -> None:
    """A selector may name a configuration: auto runs it and records what ran."""
    def pick(feats):
        return "hybrid[exact-first]"

    pick.name = "model:test"
    inst = generate("psix", 60, seed=1)
    result = solvers.solve(inst.costs, inst.budget, selector=pick, time_limit=30)
    assert result["selector"] == "model:test" and result["algorithm"] == "hybrid"
    assert result["configuration"] == "hybrid[exact-first]" and result["stage"] == "dp"
    assert result["requested_algorithm"] == "auto" and result["status"] == "exact"


@pytest.mark.parametrize("bad", ["hybrid[nope]", "dp[exact-first]", ["hybrid[exact-first]"]])
def test_unknown_configuration_is_rejected(bad) -> None:
    """solve raises UnknownAlgorithmError listing algorithms and configurations; a selector
    naming one falls back to the rules with a note."""
    with pytest.raises(solvers.UnknownAlgorithmError) as err:
        solvers.solve([3, 5], 4, algorithm=bad)
    assert set(CONFIGS) <= set(err.value.valid) and "hybrid" in err.value.valid
    result = solvers.solve([3, 5, 9, 11], 20, selector=lambda f: bad)
    assert result["selector"] == "rules" and "configuration" not in result
    assert "not a base algorithm or configuration" in result["reason"]


def test_bad_hybrid_settings_are_rejected() -> None:
    """HybridConfig checks its fields."""
    with pytest.raises(ValueError, match="heuristic_share"):
        hybrid.HybridConfig(heuristic_share=0)
    with pytest.raises(ValueError, match="core_sizes"):
        hybrid.HybridConfig(core_sizes=())
