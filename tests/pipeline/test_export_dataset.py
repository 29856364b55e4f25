"""The stable runs dataset: one root, Hive partitions, idempotent appends, whole-plan exports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pytest
from sqlalchemy import func, select, update

from db.engine import session_scope
from db.migrate import upgrade
from db.models import AlgorithmRun
from flows.benchmark import benchmark
from flows.export import export_metrics
from flows.params import BenchmarkParams, ExportParams
from tasks.artifacts import add_progress_listener, remove_progress_listener

pytestmark = pytest.mark.usefixtures("prefect_harness")
SMALL = {"sizes": [8, 30], "per_size": 1, "families": ["uniform", "portfolio"],
         "algorithms": ["brute_force", "dp", "greedy", "hybrid", "auto"], "time_limit": 2.0,
         "measure_memory": False, "batches": 4, "plot": False}
PLANNED = 4 * 5 - 2  # brute force refuses n = 30 (two families)


def _readers(root: str) -> dict[str, pd.DataFrame]:
    """The same dataset read three ways, from the root alone (no run id, no file names)."""
    return {
        "pandas": pd.read_parquet(root),
        "pyarrow": ds.dataset(root, format="parquet", partitioning="hive").to_table().to_pandas(),
        "duckdb": duckdb.sql(f"select * from read_parquet('{root}/**/*.parquet', "
                             "hive_partitioning=true)").df(),
    }


def _run_ids(url: str) -> list[int]:
    with session_scope(url) as s:
        return list(s.scalars(select(AlgorithmRun.id).order_by(AlgorithmRun.id)))


def test_exporting_twice_keeps_each_run_once_for_every_reader(sqlite_migrated_url,
                                                             tmp_path) -> None:
    """Export everything, move some runs to another day, export again (and once more): pandas,
    pyarrow and DuckDB read every run exactly once from the stable root, with n, family,
    budget, status, both algorithm names and an exact (Decimal) total_cost."""
    params = {"database_url": sqlite_migrated_url, "data_dir": str(tmp_path)}
    benchmark(BenchmarkParams(**params, **SMALL, export=False))
    first = export_metrics(ExportParams(**params))
    ids = _run_ids(sqlite_migrated_url)
    with session_scope(sqlite_migrated_url) as s:  # three runs recorded "yesterday"
        s.execute(update(AlgorithmRun).where(AlgorithmRun.id.in_(ids[:3]))
                  .values(created_at=datetime.now(UTC) - timedelta(days=1)))
    export_metrics(ExportParams(**params))
    again = export_metrics(ExportParams(**params))
    assert first["runs_path"] == again["runs_path"] == str(Path(again["export_path"]) / "runs")
    assert Path(again["export_path"]).parent == tmp_path / "exports"  # this database's root
    assert again["runs"] == len(ids) and again["runs_partitions"] >= 2
    for reader, frame in _readers(again["runs_path"]).items():
        assert sorted(frame["id"]) == ids, reader
        assert {"n", "family", "budget", "status", "requested_algorithm", "ran_algorithm",
                "date", "source"} <= set(frame)
        assert "match_type" not in frame.columns and "algorithm_name" not in frame, reader
        if reader != "duckdb":  # DuckDB's .df() turns DECIMAL into float64 by its own choice
            assert all(isinstance(v, Decimal) for v in frame["total_cost"]), reader
        assert frame["date"].astype(str).nunique() == 2, reader
    assert not list((tmp_path / "exports").rglob(".*.tmp"))  # no temporary file left behind
    snaps = ds.dataset(again["snapshots_path"], partitioning="hive").to_table()
    assert snaps.num_rows == again["snapshots"]  # snapshots re-exported: still once each


def test_since_window_rewrites_whole_partitions(sqlite_migrated_url, tmp_path) -> None:
    """A windowed export (the daily deployment) after a full one leaves the dataset complete:
    the partitions it touches are rewritten whole, the others stay."""
    params = {"database_url": sqlite_migrated_url, "data_dir": str(tmp_path)}
    benchmark(BenchmarkParams(**params, **SMALL, export=False))
    export_metrics(ExportParams(**params))
    out = export_metrics(ExportParams(**params, since_hours=1))
    frame = pd.read_parquet(out["runs_path"])
    assert sorted(frame["id"]) == _run_ids(sqlite_migrated_url)


def _interrupt_after_first_batch(done: int, total: int) -> None:
    if done == 1:
        raise RuntimeError("killed after the first batch")


def test_rerun_after_a_kill_snapshots_and_exports_the_whole_plan(migrated_db_url,
                                                                 tmp_path) -> None:
    """A benchmark interrupted after its first recorded batch, then rerun, reports, snapshots
    and exports the whole plan, exactly like a clean run does (a clean run on its own
    database is the reference)."""
    clean_dir = tmp_path / "clean"
    clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
    upgrade(clean_url, "head")
    clean = benchmark(BenchmarkParams(database_url=clean_url, data_dir=str(clean_dir), **SMALL))

    params = BenchmarkParams(database_url=migrated_db_url, data_dir=str(tmp_path / "rerun"),
                             **SMALL)
    add_progress_listener(_interrupt_after_first_batch)
    try:
        with pytest.raises(RuntimeError, match="killed after the first batch"):
            benchmark(params)
    finally:
        remove_progress_listener(_interrupt_after_first_batch)
    with session_scope(migrated_db_url) as s:
        partial = s.scalar(select(func.count()).select_from(AlgorithmRun))
    assert 0 < partial < PLANNED
    rerun = benchmark(params)

    assert rerun["runs"] == PLANNED - partial and rerun["already_recorded"] == partial
    assert clean["plan_runs"] == rerun["plan_runs"] == PLANNED
    assert rerun["export_rows"] == clean["export_rows"] == PLANNED
    assert len(pd.read_parquet(rerun["export_path"])) == PLANNED
    assert len(pd.read_parquet(clean["export_path"])) == PLANNED

    def groups(out: dict) -> dict[tuple, int]:
        return {(r["algorithm_name"], r["size_bucket"], r["family"]): r["run_count"]
                for r in out["snapshot"]}

    assert groups(rerun) == groups(clean) and sum(groups(rerun).values()) == PLANNED
    assert sum(r["runs"] for r in rerun["by_size"]) == PLANNED
    assert sum(rerun["plan_statuses"].values()) == sum(clean["plan_statuses"].values())


def test_snapshot_of_a_benchmark_holds_only_its_own_plan(sqlite_migrated_url, tmp_path) -> None:
    """Two different benchmarks on one database: the second one's snapshot, table by n and
    export count only its own runs, not the first one's."""
    params = {"database_url": sqlite_migrated_url, "data_dir": str(tmp_path)}
    benchmark(BenchmarkParams(**params, **{**SMALL, "families": ["uniform"]}))
    second = benchmark(BenchmarkParams(**params, **{**SMALL, "families": ["portfolio"],
                                                    "algorithms": ["dp", "greedy"]}))
    assert second["plan_runs"] == second["runs"] == 2 * 2
    assert {r["family"] for r in second["snapshot"]} == {"portfolio"}
    assert {r["algorithm_name"] for r in second["snapshot"]} == {"dp", "greedy"}
    assert sum(r["run_count"] for r in second["snapshot"]) == 4
    assert second["export_rows"] == 4
