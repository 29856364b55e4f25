"""Costs and labels from a hand-made run history: PAR10 for wrong answers, ties by time."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from ml.dataset import build_dataset
from ml.labels import best_proven_total, label, run_cost

TL = 1.0  # cutoff: PAR10 = 10 s


def _run(algorithm, status, total, seconds):
    return {"algorithm": algorithm, "status": status, "total_cost": total,
            "execution_time": seconds}


RUNS = [
    _run("brute_force", "exact", 12, 0.30),
    _run("dp", "exact", 11, 0.01),  # claims exact but is wrong: PAR10
    _run("backtracking", "approximate", 12, 0.20),  # reached the proven optimum: solved
    _run("greedy", "approximate", 10, 0.001),  # not optimal: PAR10
    _run("meet_in_the_middle", "exact", 12, 1.5),  # right but over the cutoff: PAR10
    _run("hybrid", "failed", 0, 0.0),
]


def test_best_proven_total_is_the_largest_exact_total() -> None:
    """The proven optimum comes from exact runs only (approximate totals prove nothing)."""
    assert best_proven_total(RUNS) == 12
    assert best_proven_total([_run("greedy", "approximate", 10, 0.1)]) is None


def test_costs_are_time_when_solved_else_par10() -> None:
    """Wrong, approximate-and-short, too slow and failed runs all cost 10 × the cutoff."""
    costs = {r["algorithm"]: run_cost(r, best_proven_total(RUNS), TL) for r in RUNS}
    assert costs == {"brute_force": 0.30, "dp": 10.0, "backtracking": 0.20, "greedy": 10.0,
                     "meet_in_the_middle": 10.0, "hybrid": 10.0}


def test_label_is_cheapest_and_ties_break_by_time() -> None:
    """Lowest cost wins; equal costs (both PAR10) go to the faster run, then to list order."""
    cands = ("a", "b", "c")
    assert label({"a": 0.3, "b": 0.2, "c": 10.0}, {"a": 0.3, "b": 0.2, "c": 0.1}, cands) == "b"
    assert label({"a": 10.0, "b": 10.0, "c": 10.0}, {"a": 0.5, "b": 0.2, "c": 0.9}, cands) == "b"
    assert label({"a": 10.0, "b": 10.0, "c": 10.0}, {"a": 0.2, "b": 0.2, "c": 0.2}, cands) == "a"


def test_dataset_from_a_hand_made_history() -> None:
    """build_dataset: cost matrix, label, hybrid's cost and the rules' cost for one instance."""
    record = {"key": "k1", "family": "custom", "projects": [3, 5, 9, 4], "budget": 12,
              "runs": RUNS}
    ds = build_dataset([record], TL)
    assert ds.candidates[ds.labels[0]] == "backtracking"
    assert ds.costs.tolist() == [[0.30, 10.0, 0.20, 10.0, 10.0]]
    assert ds.hybrid_cost.tolist() == [10.0]
    assert ds.rules_choice == ["meet_in_the_middle"] and ds.rules_cost.tolist() == [10.0]
    assert np.isfinite(ds.X).all() and ds.X.shape == (1, len(ds.feature_names))


def test_incomplete_instances_are_left_out_and_repeats_keep_the_best() -> None:
    """A single recorded solve is no training row; of two runs of one algorithm the faster
    solving one counts; a size refusal that was never run still costs PAR10."""
    single = {"key": "s", "projects": [3, 4], "budget": 8, "runs": [_run("dp", "exact", 7, .1)]}
    runs = [_run(a, "exact", 31, 0.2) for a in ("dp", "backtracking", "meet_in_the_middle")]
    runs += [_run("greedy", "approximate", 30, 0.001), _run("dp", "exact", 31, 0.05)]
    big = {"key": "b", "projects": list(range(1, 31)), "budget": 31, "runs": runs}
    ds = build_dataset([single, big], TL)
    assert ds.keys == ["b"] and ds.skipped == 1
    costs = dict(zip(ds.candidates, ds.costs[0].tolist(), strict=True))
    assert costs["dp"] == 0.05 and costs["brute_force"] == 10.0 and costs["greedy"] == 10.0


def test_history_skips_only_what_the_solvers_would_refuse() -> None:
    """60 projects of which 3 fit the budget: brute force and meet in the middle do run
    (the solvers count after preprocessing); 30 that fit: brute force is not run at all."""
    from ml.history import run_instance

    few_fit = [5, 7, 9] + [1000] * 57
    rows = {r["algorithm"]: r for r in run_instance(few_fit, 16, time_limit=1.0)}
    assert rows["brute_force"]["status"] == "exact"
    assert Decimal(str(rows["brute_force"]["total_cost"])) == 16  # exact decimal string
    assert rows["meet_in_the_middle"]["status"] == "exact"
    many_fit = list(range(1, 31))
    rows = {r["algorithm"]: r for r in run_instance(many_fit, 200, time_limit=1.0)}
    assert "brute_force" not in rows and rows["dp"]["status"] == "exact"
