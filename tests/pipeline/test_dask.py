"""Solver batches on a real `distributed` cluster (scheduler + two worker processes)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.engine import session_scope
from db.models import AlgorithmRun, ProjectSet
from flows.benchmark import benchmark
from flows.params import BenchmarkParams

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]
PARAMS = {"sizes": [10, 40], "per_size": 2, "families": ["uniform", "pthree", "evenodd"],
          "algorithms": ["brute_force", "dp", "greedy", "meet_in_the_middle", "auto"],
          "time_limit": 5.0, "measure_memory": False, "export": False, "plot": False}


def _recorded(url: str) -> list[tuple]:
    with session_scope(url) as s:
        rows = s.execute(select(ProjectSet.content_hash, AlgorithmRun.requested_algorithm,
                                AlgorithmRun.algorithm_name, AlgorithmRun.total_cost,
                                AlgorithmRun.match_type, AlgorithmRun.selected_projects)
                         .join(ProjectSet)).all()
    return sorted((h, req, alg, str(total), st, tuple(sel)) for h, req, alg, total, st, sel in rows)


def test_dask_cluster_records_the_same_results_as_the_thread_runner(tmp_path,
                                                                    monkeypatch) -> None:
    """Two Dask worker processes record exactly the selections and statuses threads record."""
    distributed = pytest.importorskip("distributed")
    from prefect.settings import PREFECT_API_URL
    from prefect_dask import DaskTaskRunner

    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())  # workers: the test server

    from db.migrate import upgrade

    threads_url = f"sqlite:///{tmp_path / 'threads.db'}"
    dask_url = f"sqlite:///{tmp_path / 'dask.db'}"
    for url in (threads_url, dask_url):
        upgrade(url, "head")
    local = benchmark(BenchmarkParams(database_url=threads_url, data_dir=str(tmp_path), **PARAMS))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
        runner = DaskTaskRunner(address=cluster.scheduler_address)
        remote = benchmark.with_options(task_runner=runner)(
            BenchmarkParams(database_url=dask_url, data_dir=str(tmp_path), workers=2,
                            batches=4, **PARAMS))
    assert local["solver_processes"] == 1 and remote["solver_processes"] == 2
    # the real schedule is one schedule of the measured jobs: never below the lower bound
    for out in (local, remote):
        assert out["makespan_ratio"] >= 0.99 and out["makespan_lower_bound"] > 0
        assert out["busiest_process_seconds"] <= out["makespan_seconds"] + 1e-6
    # 4 batches on 2 processes: each ran more than one, and the wait between them is a figure
    assert 0 <= remote["batch_gap_seconds"] < remote["makespan_seconds"]
    assert remote["runs"] == local["runs"] > 0
    assert remote["skipped"] == local["skipped"]
    assert _recorded(dask_url) == _recorded(threads_url)
