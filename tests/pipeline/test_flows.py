"""The flows end to end under one Prefect test server, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pytest
from sqlalchemy import func, select

from config import get_settings
from db.alerts import list_alerts
from db.engine import session_scope
from db.errors import DatabaseUnavailableError
from db.models import AlgorithmRun, AnalyticsSnapshot, ProjectSet
from db.snapshots import size_bucket
from flows.benchmark import benchmark
from flows.export import export_metrics
from flows.generate import generate_datasets
from flows.params import BenchmarkParams, ExportParams, GenerateParams, SolveParams
from flows.solve import solve
from tasks import plan

pytestmark = pytest.mark.usefixtures("prefect_harness")
SMALL = {"sizes": [8, 30], "per_size": 1, "families": ["uniform", "portfolio"],
         "algorithms": ["brute_force", "dp", "greedy", "hybrid", "auto"], "time_limit": 2.0,
         "measure_memory": False}


def _count(url: str, model) -> int:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_benchmark_records_snapshots_exports_and_plots(migrated_db_url, tmp_path) -> None:
    """One benchmark: every planned pair recorded, brute force skipped at n=30, a snapshot,
    a Hive-partitioned export (runs and snapshot) readable by pyarrow, pandas and DuckDB, and a
    PNG plot."""
    out = benchmark(BenchmarkParams(database_url=migrated_db_url, data_dir=str(tmp_path),
                                    **SMALL))
    assert out["instances"] == 4 and out["skipped"] == 2  # brute force at n=30, two families
    assert out["runs"] == 4 * 5 - 2 == _count(migrated_db_url, AlgorithmRun)
    assert 0.0 <= out["orchestration_overhead"] <= 1.0
    assert out["snapshot_rows"] == _count(migrated_db_url, AnalyticsSnapshot) > 0
    with session_scope(migrated_db_url) as s:
        flow_ids = set(s.scalars(select(AlgorithmRun.flow_run_id)))
    assert flow_ids == {out["flow_run_id"]}

    root = out["export_path"]
    table = ds.dataset(root, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == out["runs"]
    assert {"date", "requested_algorithm", "ran_algorithm", "source", "code_version",
            "export_flow_run_id"} <= set(table.column_names)
    snaps = pd.read_parquet(out["snapshots_path"])  # the benchmark exports its snapshot too
    assert len(snaps) == out["snapshot_rows"] and set(snaps["flow_run_id"]) == {out["flow_run_id"]}
    assert len(pd.read_parquet(root)) == out["runs"]
    n = duckdb.sql(f"select count(*) from read_parquet('{root}/**/*.parquet', "
                   "hive_partitioning=true)").fetchall()[0][0]
    assert n == out["runs"]
    with open(out["plot_path"], "rb") as png:
        assert png.read(4) == b"\x89PNG"
    assert (tmp_path / "logs" / "pipeline.jsonl").read_text().count("\n") >= out["runs"]


def test_snapshot_accuracy_matches_accuracy_against_the_proven_optimum(
        migrated_db_url, tmp_path) -> None:
    """The snapshot's accuracy_mean equals the mean of total / proven optimum per group (every
    instance here has an exact run, so "best known" is the proven optimum); groups are by the
    requested algorithm, so auto and hybrid have rows of their own."""
    out = benchmark(BenchmarkParams(database_url=migrated_db_url, data_dir=str(tmp_path),
                                    export=False, plot=False, **SMALL))
    with session_scope(migrated_db_url) as s:
        rows = s.execute(select(AlgorithmRun, ProjectSet.family, ProjectSet.n_projects)
                         .join(ProjectSet)).all()
        results = [{"dataset_id": r.project_set_id, "budget_id": r.budget_id,
                    "status": r.match_type, "total_cost": r.total_cost,
                    "key": (r.requested_algorithm or r.algorithm_name, size_bucket(n), fam)}
                   for r, fam, n in rows]
    accuracy = plan.accuracy_by_run(results)
    groups: dict[tuple, list[float]] = {}
    for a, r in zip(accuracy, results, strict=True):
        assert a is not None or r["status"] == "failed"
        if a is not None:
            groups.setdefault(r["key"], []).append(a)
    assert len(out["snapshot"]) == len(groups)
    assert {snap["algorithm_name"] for snap in out["snapshot"]} == set(SMALL["algorithms"])
    for snap in out["snapshot"]:
        expect = groups[(snap["algorithm_name"], snap["size_bucket"], snap["family"])]
        assert snap["accuracy_mean"] == pytest.approx(sum(expect) / len(expect))


def test_rerun_adds_no_duplicate_datasets_or_runs(migrated_db_url, tmp_path) -> None:
    """Running the same benchmark twice stores nothing new the second time."""
    params = BenchmarkParams(database_url=migrated_db_url, data_dir=str(tmp_path),
                             export=False, plot=False, **SMALL)
    first = benchmark(params)
    sets, runs = _count(migrated_db_url, ProjectSet), _count(migrated_db_url, AlgorithmRun)
    second = benchmark(params)
    assert second["runs"] == 0 and second["already_recorded"] == first["runs"]
    assert second["datasets_created"] == 0
    assert (_count(migrated_db_url, ProjectSet), _count(migrated_db_url, AlgorithmRun)) == (
        sets, runs)


def test_generate_is_idempotent_and_writes_parquet(migrated_db_url, tmp_path) -> None:
    """The same seed twice stores nothing new; each dataset is one Parquet file with its budget."""
    params = GenerateParams(database_url=migrated_db_url, data_dir=str(tmp_path),
                            sizes=[5, 12], per_size=2, families=["uniform", "portfolio"])
    first = generate_datasets(params)
    second = generate_datasets(params)
    assert first["created"] == first["datasets"] == 8 and second["created"] == 0
    files = sorted((tmp_path / "datasets").rglob("*.parquet"))
    assert len(files) == 8
    table = ds.dataset(files[0]).to_table()
    assert table.column_names == ["name", "cost"] and b"budget" in table.schema.metadata


def test_solve_flow_inline_file_and_dataset_id(migrated_db_url, tmp_path, monkeypatch) -> None:
    """`solve` takes an inline instance, a file (inside INPUT_DIRS) or a dataset id, solves
    with auto, records it."""
    common = {"database_url": migrated_db_url, "data_dir": str(tmp_path)}
    inline = solve(SolveParams(projects=[3, 5, 4], budget=8, **common))
    assert inline["total_cost"] == 8 and inline["status"] == "exact"
    assert inline["requested_algorithm"] == "auto"
    (tmp_path / "inputs").mkdir()
    path = tmp_path / "inputs" / "p.csv"
    path.write_text("name,cost\na,10.50\nb,20\nc,7.25\n")
    monkeypatch.setenv("INPUT_DIRS", str(tmp_path / "inputs"))
    get_settings.cache_clear()
    try:
        from_file = solve(SolveParams(path=str(path), budget="30", **common))
    finally:
        get_settings.cache_clear()
    assert from_file["total_cost"] == 27.25
    again = solve(SolveParams(dataset_id=from_file["dataset_id"], **common))
    assert again["dataset_id"] == from_file["dataset_id"]  # same content: same dataset
    assert again["total_cost"] == 27.25  # the dataset's own budget
    with session_scope(migrated_db_url) as s:
        runs = s.scalars(select(AlgorithmRun).order_by(AlgorithmRun.id)).all()
        assert [r.id for r in runs] == [inline["run_id"], from_file["run_id"], again["run_id"]]
        assert all(r.requested_algorithm == "auto" for r in runs)


def test_export_flow_writes_runs_and_snapshots(sqlite_migrated_url, tmp_path) -> None:
    """`export-metrics` writes every run and snapshot row, partitioned by date (+algorithm)."""
    benchmark(BenchmarkParams(database_url=sqlite_migrated_url, data_dir=str(tmp_path),
                              export=False, plot=False, **SMALL))
    out = export_metrics(ExportParams(database_url=sqlite_migrated_url, data_dir=str(tmp_path)))
    assert out["runs"] == _count(sqlite_migrated_url, AlgorithmRun)
    assert out["snapshots"] == _count(sqlite_migrated_url, AnalyticsSnapshot)
    snaps = ds.dataset(out["snapshots_path"], partitioning="hive").to_table()
    assert snaps.num_rows == out["snapshots"] and "date" in snaps.column_names


def test_alerts_are_stored_when_thresholds_are_crossed(sqlite_migrated_url, tmp_path,
                                                      monkeypatch) -> None:
    """With a tiny time threshold every timed run raises a stored `slow_run` alert."""
    monkeypatch.setenv("ALERT_TIME_SECONDS", "0.000000001")
    get_settings.cache_clear()
    try:
        out = benchmark(BenchmarkParams(database_url=sqlite_migrated_url,
                                        data_dir=str(tmp_path), export=False, plot=False,
                                        **SMALL))
    finally:
        get_settings.cache_clear()
    with session_scope(sqlite_migrated_url) as s:
        alerts = list_alerts(session=s, kind="slow_run", limit=1000)
        assert len(alerts) == out["alerts"] > 0
        assert alerts[0].context["flow_run_id"] == out["flow_run_id"]


def test_unreachable_database_fails_cleanly_after_retries(tmp_path) -> None:
    """A database that does not answer fails the flow with one clear error after retrying."""
    url = "postgresql+psycopg2://postgres@127.0.0.1:1/nowhere"
    start = time.perf_counter()
    with pytest.raises(DatabaseUnavailableError, match=r"127\.0\.0\.1:1\b"):
        benchmark(BenchmarkParams(database_url=url, data_dir=str(tmp_path), **SMALL))
    assert time.perf_counter() - start >= 3.0  # retried with backoff (1 s, then 3 s)
    assert not (tmp_path / "datasets").exists() and not (tmp_path / "exports").exists()


def test_bad_parameters_fail_before_any_work(sqlite_url, tmp_path) -> None:
    """Invalid parameters reach no task: the database is not even created."""
    with pytest.raises(Exception, match="time_limit"):
        benchmark(params={"database_url": sqlite_url, "time_limit": 0})
    with pytest.raises(Exception, match="sizes"):
        benchmark(params={"database_url": sqlite_url, "sizes": [-3]})
    assert not (tmp_path / "test.db").exists()


def test_benchmark_uses_the_solver_limits_from_settings(sqlite_migrated_url, tmp_path,
                                                        monkeypatch) -> None:
    """DP_MEMORY_CAP_MB reaches the benchmark's solvers: dp fails over a tiny memory cap."""
    monkeypatch.setenv("DP_MEMORY_CAP_MB", "1")
    get_settings.cache_clear()
    try:
        out = benchmark(BenchmarkParams(database_url=sqlite_migrated_url,
                                        data_dir=str(tmp_path), sizes=[8], per_size=1,
                                        families=["portfolio"], algorithms=["dp"],
                                        measure_memory=False, export=False, plot=False))
    finally:
        get_settings.cache_clear()
    assert out["runs"] == 1 and out["statuses"] == {"failed": 1}
    with session_scope(sqlite_migrated_url) as s:
        run = s.scalars(select(AlgorithmRun)).one()
    assert run.algorithm_name == "dp" and run.match_type == "failed"
    assert "memory cap" in run.reason


def test_solve_flow_uses_the_solver_limits_from_settings(sqlite_migrated_url, tmp_path,
                                                         monkeypatch) -> None:
    """DP_MEMORY_CAP_MB reaches the solve flow's solver: dp fails over a tiny memory cap."""
    monkeypatch.setenv("DP_MEMORY_CAP_MB", "1")
    get_settings.cache_clear()
    try:
        out = solve(SolveParams(projects=[2_000_001, 3_000_001, 5_000_003, 7],
                                budget=9_000_000, algorithm="dp",
                                database_url=sqlite_migrated_url, data_dir=str(tmp_path)))
    finally:
        get_settings.cache_clear()
    assert out["status"] == "failed" and "memory cap" in out["reason"]


def test_a_retried_record_task_stores_nothing_twice(sqlite_migrated_url, tmp_path) -> None:
    """record-runs and record-solve called again for the same flow run (a retry after a commit
    whose acknowledgement was lost) store no second row."""
    from tasks.records import record_results, record_solve

    out = solve(SolveParams(projects=[3, 5, 4], budget=8, database_url=sqlite_migrated_url,
                            data_dir=str(tmp_path)))
    with session_scope(sqlite_migrated_url) as s:
        run = s.get(AlgorithmRun, out["run_id"])
        result = {**run.to_dict(), "algorithm": run.algorithm_name, "status": run.match_type,
                  "dataset_id": run.project_set_id, "n": 3}
    dataset = {"dataset_id": run.project_set_id, "budget_id": run.budget_id, "n": 3}
    again = record_solve.fn(result, dataset, out["flow_run_id"], sqlite_migrated_url,
                            str(tmp_path))
    assert again == out["run_id"]
    assert record_results.fn([result], out["flow_run_id"], sqlite_migrated_url,
                             str(tmp_path)) == 0
    assert record_results.fn([result], "another-flow-run", sqlite_migrated_url,
                             str(tmp_path)) == 1
    assert _count(sqlite_migrated_url, AlgorithmRun) == 2


def test_unwritable_data_folder_stores_nothing_and_prints_no_traceback(sqlite_migrated_url,
                                                                       tmp_path) -> None:
    """`budget benchmark --data-dir` under a regular file: exit 1 with one `error:` line, no
    traceback, and no run stored (the log file is opened before the batch is written, so the
    retries cannot store the batch three times)."""
    import os
    import subprocess
    import sys

    from prefect.settings import PREFECT_API_URL

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {**os.environ, "DATABASE_URL": sqlite_migrated_url,
           "PREFECT_HOME": str(tmp_path / "prefect")}
    if PREFECT_API_URL.value():
        env["PREFECT_API_URL"] = PREFECT_API_URL.value()
    proc = subprocess.run([sys.executable, "-m", "cli", "benchmark", "--sizes", "6",
                           "--per-size", "1", "--families", "uniform", "--algorithms", "dp",
                           "--no-memory", "--data-dir", str(blocker / "data")], env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 1, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "a-file" in errors[0]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert _count(sqlite_migrated_url, AlgorithmRun) == 0
