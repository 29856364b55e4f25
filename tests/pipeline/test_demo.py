"""The Quickstart's demo flow end to end, and the solve flow's choice of selector."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.engine import session_scope
from db.models import AlgorithmRun, ModelVersion
from flows.benchmark import benchmark
from flows.demo import demo
from flows.params import BenchmarkParams, DemoParams, SolveParams
from flows.solve import solve

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_demo_runs_every_step_then_solves_with_what_auto_serves(sqlite_migrated_url,
                                                                 tmp_path) -> None:
    """generate → benchmark → export → train → solve, all recorded; the example is solved with
    the new model only if it was promoted, else with the rules, and the demo says which."""
    params = DemoParams(database_url=sqlite_migrated_url, data_dir=str(tmp_path), sizes=[10, 30],
                        per_size=1, families=["uniform", "pthree"], time_limit=0.5,
                        train_min_instances=40, train_time_limit=0.05, train_max_n=30)
    out = demo(params)
    assert out["generate"]["datasets"] == 4 and out["benchmark"]["runs"] > 0
    assert out["export"]["runs"] >= out["benchmark"]["runs"]
    version = out["train"]["model_version"]
    assert version == 1 and "remaining_gap" in out["train"]["metrics"]
    solved = out["solve"]
    expected = "model:selector@v1" if out["train"]["promoted"] else "rules"
    assert solved["selector"] == expected, (out["train"]["decision"], out["solved_with"])
    assert ("promoted just now" in out["solved_with"]) == out["train"]["promoted"]
    # a model trained on 40 tiny instances may pick a heuristic: feasible, honestly labelled
    assert solved["status"] in {"exact", "approximate"}
    assert 0 < solved["total_cost"] <= 1_500_000.0
    with session_scope(sqlite_migrated_url) as s:
        run = s.get(AlgorithmRun, solved["run_id"])
        assert run.selector == expected
        assert s.scalar(select(ModelVersion.version).where(
            ModelVersion.name == "selector")) == 1
    assert out["benchmark"]["batch_plan"] == "size proxy"  # no runtime model before training
    # the training registered a runtime model: the next benchmark balances its batches with it
    assert out["train"]["runtime_model_version"] is not None
    later = benchmark(BenchmarkParams(database_url=sqlite_migrated_url, data_dir=str(tmp_path),
                                      sizes=[12, 40], per_size=1, families=["uniform"],
                                      algorithms=["dp", "greedy"], time_limit=0.5,
                                      measure_memory=False, export=False, plot=False))
    assert later["batch_plan"] == "runtime model" and later["runs"] == 4


def test_runtime_model_name_matches_the_ml_package() -> None:
    """The registry name the benchmark looks up before importing the ML stack is ml's own."""
    from ml.runtime import RUNTIME_MODEL_NAME
    from tasks.solving import RUNTIME_MODEL

    assert RUNTIME_MODEL == RUNTIME_MODEL_NAME


def test_solve_flow_without_a_model_falls_back_to_rules(migrated_db_url, tmp_path) -> None:
    """Asking for a model version that does not exist solves with the rules and says so."""
    out = solve(SolveParams(projects=[3, 5, 9, 11], budget=20, model_version=9,
                            database_url=migrated_db_url, data_dir=str(tmp_path)))
    assert out["selector"] == "rules" and out["total_cost"] == 20 and out["status"] == "exact"
    assert out["reason"] == "model:selector@v9 could not be loaded (see log); rules used"
