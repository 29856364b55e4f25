"""Size refusals (brute force above its limit) are neither run nor stored as failed runs."""

from __future__ import annotations

from sqlalchemy import func, select

import solvers
from db import model_registry as reg
from db.engine import session_scope
from db.models import AlgorithmRun
from ml.dataset import build_dataset
from ml.history import run_history

LIMIT = 0.05


def _specs() -> list[dict]:
    """Two instances brute force refuses (30 projects that fit) and one it runs (n=8)."""
    return [{"family": "uniform", "n": 30, "seed": 1, "params": {"budget_ratio": 0.5}},
            {"family": "uniform", "n": 30, "seed": 2, "params": {"budget_ratio": 0.5}},
            {"family": "uniform", "n": 8, "seed": 3, "params": {"budget_ratio": 0.5}}]


def test_refusals_are_listed_not_recorded(migrated_db_url) -> None:
    """No brute_force row for n_fit > 24, the record lists it as refused, nothing failed is
    stored, and the dataset still costs the refusal PAR10 and counts it."""
    records = list(run_history(_specs(), LIMIT, repeats=1))
    big, small = records[0], records[2]
    assert solvers.features(big["projects"], big["budget"])["n_fit"] > 24
    assert big["refused"] == ["brute_force"] and small["refused"] == []
    assert "brute_force" not in {r["algorithm"] for r in big["runs"]}
    assert "brute_force" in {r["algorithm"] for r in small["runs"]}
    with session_scope(migrated_db_url) as s:
        stored = reg.store_training_history(session=s, records=records)
        assert stored == sum(len(r["runs"]) for r in records)
        failed = s.scalar(select(func.count()).select_from(AlgorithmRun)
                          .where(AlgorithmRun.match_type == "failed"))
        assert failed == 0
        loaded, _, _ = reg.load_training_history(session=s)
    ds = build_dataset(loaded, LIMIT)
    assert len(ds) == 3 and ds.skipped == 0 and ds.refused == 2
    col = ds.candidates.index("brute_force")
    refused_rows = [i for i, k in enumerate(ds.keys) if len(loaded[i]["runs"]) == 5]
    assert len(refused_rows) == 2 and all(ds.costs[i, col] == ds.par10 for i in refused_rows)


def test_old_refusal_rows_are_not_training_history(migrated_db_url) -> None:
    """A history stored before this fix ("not run: ... refuses", failed, 0 s) loads without
    those rows, so they are not counted as failed runs of the algorithm."""
    records = list(run_history(_specs()[:1], LIMIT, repeats=1))
    old = {"algorithm": "brute_force", "status": "failed", "selected_indices": [],
           "total_cost": 0, "upper_bound": None, "execution_time": 0.0, "memory_used": None,
           "reason": "not run: brute_force refuses 28 > 24 projects", "time_limit": LIMIT}
    records[0]["runs"].append(old)
    with session_scope(migrated_db_url) as s:
        reg.store_training_history(session=s, records=records)
        loaded, _, _ = reg.load_training_history(session=s)
    assert len(loaded) == 1
    assert "brute_force" not in {r["algorithm"] for r in loaded[0]["runs"]}
    assert len(loaded[0]["runs"]) == len(records[0]["runs"]) - 1


def test_meet_in_the_middle_is_timed_up_to_the_solvers_limit() -> None:
    """Meet in the middle is refused only above the solver's own limit (64 items, Schroeppel–
    Shamir above 46), so the history times it on 50-item instances."""
    from ml.history import refusal

    lim = solvers.DEFAULT_LIMITS
    assert refusal("meet_in_the_middle", 50, lim) is None
    assert refusal("meet_in_the_middle", lim.ss_max_n, lim) is None
    assert refusal("meet_in_the_middle", lim.ss_max_n + 1, lim) is not None
    spec = [{"family": "uniform", "n": 50, "seed": 4, "params": {"budget_ratio": 0.5,
                                                                 "high": 10**7}}]
    rec = next(run_history(spec, LIMIT, algorithms=("meet_in_the_middle",), repeats=1))
    assert rec["refused"] == [] and [r["algorithm"] for r in rec["runs"]] == [
        "meet_in_the_middle"]


def test_default_candidates_can_run_hybrid_and_its_configurations() -> None:
    """The default candidate set of `budget train` holds hybrid and every named
    configuration, so the oracle can beat the rules."""
    from ml import DEFAULT_CANDIDATES
    from ml.selection import CANDIDATE_SETS

    chosen = CANDIDATE_SETS[DEFAULT_CANDIDATES]
    assert "hybrid" in chosen and set(solvers.CONFIGURATIONS) <= set(chosen)
