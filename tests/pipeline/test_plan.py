"""Pure pipeline helpers, tested directly: planning, batching, accuracy, alerts, params, logs."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest
from pydantic import ValidationError

import solvers
from flows.params import BenchmarkParams, ExportParams, GenerateParams, SolveParams
from solvers.instances import generate
from tasks import jsonlog, plan

LIMITS = solvers.DEFAULT_LIMITS


def _ds(i: int, n: int, costs=None, budget=None) -> dict:
    costs = costs or list(range(1, n + 1))
    return {"dataset_id": i, "budget_id": 100 + i, "family": "uniform", "n": n, "costs": costs,
            "budget": budget if budget is not None else sum(costs) // 2}


def test_instance_specs_are_stable_and_complete() -> None:
    """Every family × size × k appears once; families never share a seed (uniform and pthree
    draw costs alike, so a shared seed would make them one dataset)."""
    specs = plan.instance_specs(["uniform", "pthree"], [10, 50], 3, seed=2)
    assert len(specs) == 12
    assert specs == plan.instance_specs(["uniform", "pthree"], [10, 50], 3, seed=2)
    assert len({(s["family"], s["seed"]) for s in specs}) == 6  # one seed per family and k
    assert not {s["seed"] for s in specs if s["family"] == "uniform"} & {
        s["seed"] for s in specs if s["family"] == "pthree"}


def test_brute_force_is_skipped_above_its_limit_not_run() -> None:
    """Brute force (n_fit > 24) and meet in the middle (> 46) are planned as skipped."""
    jobs, skipped, already = plan.plan_jobs(
        [_ds(1, 10), _ds(2, 30), _ds(3, 60)], ["brute_force", "meet_in_the_middle", "dp"],
        limits=LIMITS)
    assert already == 0
    assert [(s["dataset_id"], s["algorithm"]) for s in skipped] == [
        (2, "brute_force"), (3, "brute_force"), (3, "meet_in_the_middle")]
    assert all(s["reason"].startswith("skipped:") for s in skipped)
    assert {j["dataset_id"]: j["algorithms"] for j in jobs} == {
        1: ["brute_force", "meet_in_the_middle", "dp"], 2: ["meet_in_the_middle", "dp"],
        3: ["dp"]}


def test_nothing_is_skipped_when_everything_fits() -> None:
    """An instance whose projects all fit is trivial for every algorithm, whatever its size."""
    _, skipped, _ = plan.plan_jobs([_ds(1, 40, budget=10**6)], ["brute_force"], limits=LIMITS)
    assert skipped == []


def test_recorded_pairs_and_duplicate_datasets_are_not_planned_again() -> None:
    """The natural key (dataset, budget, algorithm) makes a rerun add only what is missing."""
    jobs, _, already = plan.plan_jobs([_ds(1, 10), _ds(1, 10)], ["dp", "greedy"],
                                      recorded=[(1, 101, "dp")], limits=LIMITS)
    assert already == 1
    assert jobs == [{**{k: v for k, v in _ds(1, 10).items()}, "algorithms": ["greedy"]}]


def test_batches_cover_every_job_once_and_balance_load() -> None:
    """Batches partition the jobs; the biggest jobs are spread over different batches."""
    jobs = [{**_ds(i, n), "algorithms": ["dp"]} for i, n in enumerate([200, 200, 10, 10, 50])]
    batches = plan.make_batches(jobs, 2)
    assert sorted(j["dataset_id"] for b in batches for j in b) == [0, 1, 2, 3, 4]
    assert [sum(j["n"] == 200 for j in b) for b in batches] == [1, 1]
    assert plan.make_batches([], 4) == []
    with pytest.raises(ValueError, match="n_batches"):
        plan.make_batches(jobs, 0)


def _seconds_by_dataset(table: dict[int, float]):
    """A predictor: the job's instance (found by its size) costs table[n] s per algorithm."""
    def predict(feats, algorithm: str) -> float:
        return table[int(feats["n"])]
    return predict


def test_batches_by_predicted_seconds_beat_the_size_proxy() -> None:
    """A small but slow instance (n=12, 9 s) gets a batch to itself when a runtime predictor
    plans, while the size proxy pairs it with a big one; estimates are capped at the limit."""
    jobs = [{**_ds(i, n), "algorithms": ["dp"]} for i, n in enumerate([12, 300, 200, 100])]
    predict = _seconds_by_dataset({12: 9.0, 300: 3.0, 200: 3.0, 100: 2.0})
    true = {0: 9.0, 1: 3.0, 2: 3.0, 3: 2.0}
    by_proxy = plan.make_batches(jobs, 2)
    by_model = plan.make_batches(jobs, 2, predict_seconds=predict, probe_seconds=0)
    seconds = lambda job: true[job["dataset_id"]]  # noqa: E731
    assert plan.makespan(by_model, seconds) == 9.0 < plan.makespan(by_proxy, seconds)
    assert sorted(j["estimated_seconds"] for b in by_model for j in b) == [2.0, 3.0, 3.0, 9.0]
    capped = plan.make_batches(jobs, 2, predict_seconds=predict, time_limits={"dp": 2.5},
                               probe_seconds=0)
    assert max(j["estimated_seconds"] for b in capped for j in b) == 2.5


def test_batch_count_weighs_orchestration_overhead_against_balance() -> None:
    """32 one-second jobs and one 4 s job on 4 workers: free batches → 4 per worker (balance
    under mispredictions); 1 s per batch → 1 per worker; never under `least` or over `most`;
    the same estimates give the same count (seeded draws)."""
    estimates = [1.0] * 32 + [4.0]
    assert plan.batch_count(estimates, 4, 0.0, most=16) == 16
    assert plan.batch_count(estimates, 4, 1.0, most=16) == 4
    middle = plan.batch_count(estimates, 4, 0.2, most=16)
    assert middle in (8, 12, 16) and middle == plan.batch_count(estimates, 4, 0.2, most=16)
    assert plan.batch_count(estimates, 1, 5.0, most=4) == 4  # one worker: `least` for progress
    assert plan.batch_count(estimates, 4, 0.0, most=2) == 2
    assert plan.batch_count([], 4, 0.2, most=16) == 4
    with pytest.raises(ValueError, match="workers"):
        plan.batch_count(estimates, 0, 0.2, most=4)


def test_batch_gaps_are_per_process_waits_between_spans() -> None:
    """Two processes, spans out of order: each process's waits, never negative."""
    spans = [(2, 5.0, 6.0), (1, 0.0, 1.0), (1, 1.5, 3.0), (2, 0.2, 4.0), (1, 2.9, 3.5)]
    assert plan.batch_gaps(spans) == [0.5, 0.0, 1.0]
    assert plan.batch_gaps([(1, 0.0, 1.0)]) == []


def test_make_batches_with_workers_chooses_the_count_only_when_the_model_plans() -> None:
    """With `workers` and a predictor, a large overhead gives one batch per worker; the size
    proxy (no seconds to weigh) keeps the `n_batches` it was given."""
    jobs = [{**_ds(i, 10 + i), "algorithms": ["dp"]} for i in range(24)]
    predict = lambda feats, algorithm: 0.5  # noqa: E731
    by_model = plan.make_batches(jobs, 16, predict_seconds=predict, probe_seconds=0,
                                 workers=4, overhead_seconds=2.0)
    assert len(by_model) == 4
    assert sorted(j["dataset_id"] for b in by_model for j in b) == list(range(24))
    assert len(plan.make_batches(jobs, 16, workers=4, overhead_seconds=2.0)) == 16
    assert len(plan.make_batches(jobs, 16, predict_seconds=predict, probe_seconds=0)) == 16


def test_the_probe_replaces_a_long_prediction_only_when_the_solve_finishes() -> None:
    """A 10 s prediction for backtracking on n=12 (microseconds really) becomes the measured
    time; a search that runs out of its probe keeps the prediction; dp is never probed."""
    quick = {**_ds(0, 12), "algorithms": ["backtracking"]}
    hard = generate("somatoth", 200, 1)  # no subset reaches the budget: a long search
    slow = {"dataset_id": 1, "budget_id": 1, "family": "somatoth", "n": 200,
            "algorithms": ["backtracking"], "costs": hard.projects(), "budget": hard.budget}
    ten = lambda feats, algorithm: 10.0  # noqa: E731
    # a 50 ms probe: the 12-item search takes microseconds, but a loaded machine may stall it
    assert plan.job_seconds(quick, ten, probe_seconds=0.05) < 0.05
    assert plan.job_seconds(quick, ten, probe_seconds=0) == 10.0
    assert plan.job_seconds(slow, ten, probe_seconds=0.002) == 10.0
    assert plan.job_seconds({**quick, "algorithms": ["dp"]}, ten) == 10.0


def test_a_failing_predictor_falls_back_to_the_size_proxy() -> None:
    """A predictor that raises plans nothing by model: the proxy's batches, no estimates."""
    jobs = [{**_ds(i, n), "algorithms": ["dp"]} for i, n in enumerate([200, 200, 10, 10, 50])]

    def broken(feats, algorithm):
        raise KeyError(algorithm)

    assert plan.make_batches(jobs, 2, predict_seconds=broken) == plan.make_batches(jobs, 2)
    assert plan.proxy_cost(jobs[0]) == 210.0


def test_solve_batch_returns_one_result_per_pair_with_solver_seconds() -> None:
    """A batch solves each (instance, algorithm) with its own time limit and sums solver time."""
    batch = [{**_ds(1, 12), "algorithms": ["dp", "greedy"]}]
    out = plan.solve_batch(batch, {"dp": 5.0}, 1.0, measure_memory=False, limits=LIMITS)
    assert [r["requested_algorithm"] for r in out["results"]] == ["dp", "greedy"]
    assert out["results"][0]["status"] == "exact"
    assert out["solver_seconds"] >= sum(r["execution_time"] for r in out["results"])


def test_solve_batch_reports_each_jobs_seconds_and_its_wall_clock_span() -> None:
    """`job_seconds` has one entry per job (all its algorithms) and the span brackets them."""
    batch = [{**_ds(1, 12), "algorithms": ["dp", "greedy"]}, {**_ds(2, 20), "algorithms": ["dp"]}]
    out = plan.solve_batch(batch, {}, 1.0, measure_memory=False, limits=LIMITS)
    assert len(out["job_seconds"]) == 2 and all(s > 0 for s in out["job_seconds"])
    assert out["finished_at"] - out["started_at"] >= sum(out["job_seconds"]) * 0.99
    assert sum(out["job_seconds"]) <= out["solver_seconds"]


def test_makespan_lower_bound_is_valid_and_tight_on_time_limited_jobs() -> None:
    """Five 1 s jobs on 4 workers: any schedule takes 2 s (pigeonhole), not total/4 = 1.25 s;
    nine take 3 s. Every bound is at most the optimum found by trying all assignments."""
    assert plan.makespan_lower_bound([1.0] * 5, 4) == 2.0
    assert plan.makespan_lower_bound([1.0] * 9, 4) == 3.0
    assert plan.makespan_lower_bound([4.0, 1.0, 1.0], 2) == 4.0  # the longest job
    assert plan.makespan_lower_bound([1.0] * 8, 4) == 2.0  # total / workers
    assert plan.makespan_lower_bound([], 3) == 0.0
    import itertools
    import random

    rng = random.Random(5)
    for _ in range(40):
        jobs = [rng.choice([0.1, 0.5, 1.0, rng.random()]) for _ in range(rng.randint(1, 7))]
        optimum = min(max(sum(j for j, w in zip(jobs, a, strict=True) if w == k)
                          for k in range(3))
                      for a in itertools.product(range(3), repeat=len(jobs)))
        assert plan.makespan_lower_bound(jobs, 3) <= optimum + 1e-12
    with pytest.raises(ValueError, match="workers"):
        plan.makespan_lower_bound([1.0], 0)


def test_dispatch_makespan_hands_batches_to_the_first_free_worker() -> None:
    """Batches in plan order, each to the worker that frees first."""
    assert plan.dispatch_makespan([3.0, 1.0, 1.0, 1.0], 2) == 3.0
    assert plan.dispatch_makespan([1.0, 1.0, 1.0, 3.0], 2) == 4.0
    assert plan.dispatch_makespan([], 4) == 0.0


def test_accuracy_is_against_the_best_proven_total() -> None:
    """Accuracy = total / exact total of the same instance; None without a proof or if failed."""
    rows = [
        {"dataset_id": 1, "budget_id": 1, "status": "exact", "total_cost": 100},
        {"dataset_id": 1, "budget_id": 1, "status": "approximate", "total_cost": 90},
        {"dataset_id": 1, "budget_id": 1, "status": "failed", "total_cost": 0},
        {"dataset_id": 2, "budget_id": 2, "status": "approximate", "total_cost": 5},
    ]
    assert plan.accuracy_by_run(rows) == [1.0, 0.9, None, None]


def test_alerts_fire_on_failure_thresholds_and_repeated_hybrid_fallback() -> None:
    """Failed runs, slow or memory-hungry runs and ≥k approximate hybrids each raise an alert."""
    base = {"dataset_id": 1, "n": 10, "execution_time": 0.1, "memory_used": 1.0}
    results = [
        {**base, "status": "failed", "algorithm": "dp", "requested_algorithm": "dp",
         "reason": "refused"},
        {**base, "status": "exact", "algorithm": "dp", "requested_algorithm": "dp",
         "execution_time": 9.0, "memory_used": 900.0},
        *[{**base, "status": "approximate", "algorithm": "hybrid",
           "requested_algorithm": "hybrid"}] * 3,
    ]
    alerts = plan.alerts_for(results, time_seconds=5, memory_mb=512, fallback_count=3,
                             flow_run_id="f")
    assert sorted(a["kind"] for a in alerts) == [
        "high_memory", "hybrid_fallback", "run_failed", "slow_run"]
    assert plan.alerts_for(results[2:4], time_seconds=5, memory_mb=512, fallback_count=3) == []


def test_overhead_is_the_share_of_wall_not_spent_solving() -> None:
    """(wall − solver/workers) / wall, floored at 0."""
    assert plan.summarize([], wall_seconds=10, solver_seconds=9)["orchestration_overhead"] == 0.1
    two = plan.summarize([], wall_seconds=10, solver_seconds=18, workers=2)
    assert two["orchestration_overhead"] == 0.1
    assert plan.summarize([], wall_seconds=1, solver_seconds=2)["orchestration_overhead"] == 0.0


@pytest.mark.parametrize(
    ("model", "fields", "field"),
    [
        (BenchmarkParams, {"sizes": [10, -5]}, "sizes"),
        (BenchmarkParams, {"algorithms": ["quantum"]}, "algorithms"),
        (BenchmarkParams, {"families": ["nope"]}, "families"),
        (BenchmarkParams, {"time_limit": 0}, "time_limit"),
        (BenchmarkParams, {"per_size": 0}, "per_size"),
        (GenerateParams, {"families": ["todd"], "sizes": [50]}, "todd"),
        (ExportParams, {"since_hours": -1}, "since_hours"),
        (SolveParams, {"path": "x.csv", "dataset_id": 3}, "exactly one"),
        (SolveParams, {"projects": [1, 2]}, "budget"),
        (BenchmarkParams, {"surprise": 1}, "surprise"),
    ],
)
def test_bad_parameters_are_rejected_naming_the_field(model, fields, field) -> None:
    """Parameter models reject nonsense before any work, naming what is wrong."""
    with pytest.raises(ValidationError, match=field):
        model(**fields)


def test_parameter_schema_lists_algorithms_and_families_for_the_ui_form() -> None:
    """The JSON schema Prefect renders has enums for algorithms and families, and bounds."""
    schema = BenchmarkParams.model_json_schema()
    props = schema["properties"]
    assert props["algorithms"]["items"]["enum"] == list(solvers.ALGORITHMS)
    assert "psix" in props["families"]["items"]["enum"]
    assert props["time_limit"]["exclusiveMinimum"] == 0
    assert all(p.get("description") for p in props.values())


def test_json_log_lines_are_one_object_each(tmp_path) -> None:
    """Each run is one JSON line with timestamp, level, flow-run id, dataset, algorithm, n."""
    path = tmp_path / "logs" / "p.jsonl"
    logger = jsonlog.pipeline_logger(path)
    jsonlog.log_runs(logger, [{"dataset_id": 4, "algorithm": "dp", "n": 10, "status": "exact",
                               "execution_time": 0.01, "memory_used": 0.2}], "run-1")
    jsonlog.log_alerts(logger, [{"kind": "slow_run", "message": "slow", "context": {"n": 3}}])
    for handler in logger.handlers:
        handler.flush()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["flow_run_id"] == "run-1" and lines[0]["dataset_id"] == 4
    assert {"timestamp", "level", "algorithm", "n", "execution_time"} <= set(lines[0])
    assert lines[1]["level"] == logging.getLevelName(logging.WARNING)
    assert lines[1]["kind"] == "slow_run"


def test_solve_batch_solves_within_the_given_limits() -> None:
    """`limits` reach the solvers: dp over a memory cap it cannot fit fails, naming the cap."""
    tiny = dataclasses.replace(LIMITS, memory_cap_bytes=1 << 20)
    batch = [{**_ds(1, 4, costs=[2_000_001, 3_000_001, 5_000_003, 7],
                    budget=9_000_000), "algorithms": ["dp"]}]
    out = plan.solve_batch(batch, {}, 1.0, measure_memory=False, limits=tiny)
    [result] = out["results"]
    assert result["status"] == "failed" and "memory cap" in result["reason"]
