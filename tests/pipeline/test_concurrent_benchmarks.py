"""Two identical benchmarks at once record each pair once (the database's unique key, not a
check before the insert); `remeasure` still records a pair again, on purpose."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from db.engine import session_scope
from db.models import AlgorithmRun
from flows.benchmark import benchmark
from flows.params import BenchmarkParams

pytestmark = pytest.mark.usefixtures("prefect_harness")
SMALL = {"sizes": [8, 20], "per_size": 2, "families": ["uniform", "portfolio"],
         "algorithms": ["dp", "greedy", "hybrid"], "time_limit": 2.0, "measure_memory": False,
         "export": False, "plot": False}


def _pairs(url: str) -> tuple[int, int]:
    """(benchmark runs, distinct (budget, requested algorithm) pairs among them)."""
    with session_scope(url) as s:
        runs = s.scalar(select(func.count()).select_from(AlgorithmRun)
                        .where(AlgorithmRun.kind == "benchmark"))
        pairs = s.scalar(select(func.count()).select_from(
            select(AlgorithmRun.budget_id, AlgorithmRun.requested_algorithm)
            .where(AlgorithmRun.kind == "benchmark").distinct().subquery()))
    return runs, pairs


def test_two_identical_benchmarks_at_once_record_each_pair_once(migrated_db_url,
                                                                 tmp_path) -> None:
    """Both flows run the whole plan concurrently (neither sees the other's runs when it
    plans); the database keeps one run per pair and the second writer skips."""
    params = BenchmarkParams(database_url=migrated_db_url, data_dir=str(tmp_path), **SMALL)
    outs: list[dict] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait()
            outs.append(benchmark(params))
        except BaseException as exc:  # reported below with the test's failure
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    runs, pairs = _pairs(migrated_db_url)
    planned = 2 * 2 * 2 * 3  # sizes × per size × families × algorithms
    assert pairs == planned and runs == planned, (runs, pairs, outs)


def test_remeasure_records_a_pair_again(migrated_db_url, tmp_path) -> None:
    """`--remeasure` stores new measurements of pairs already recorded, as kind remeasure."""
    params = BenchmarkParams(database_url=migrated_db_url, data_dir=str(tmp_path), **SMALL)
    first = benchmark(params)
    again = benchmark(params.model_copy(update={"remeasure": True}))
    assert again["runs"] == first["runs"] > 0
    with session_scope(migrated_db_url) as s:
        kinds = dict(s.execute(select(AlgorithmRun.kind, func.count())
                               .group_by(AlgorithmRun.kind)).all())
    assert kinds == {"benchmark": first["runs"], "remeasure": first["runs"]}
