"""One record per pair: benchmark runs are unique per (budget, requested algorithm), enforced by
the database (partial unique index + ON CONFLICT DO NOTHING), even for concurrent writers;
remeasure and user runs may repeat a pair; migration 0003 relabels old duplicates (none lost)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from db import AlgorithmRun, create_project_set, record_run, record_runs
from db.engine import get_engine, session_scope
from db.migrate import upgrade
from db.runs import Recorded, store_run

ALGORITHMS = ("dp", "greedy", "auto")


def _plan(url: str, sets: int = 3) -> list[dict[str, Any]]:
    """A benchmark plan's rows: `sets` generated sets × ALGORITHMS, stored sets committed."""
    rows = []
    with session_scope(url) as s:
        for k in range(sets):
            ps, _ = create_project_set(session=s, name=f"g{k}", projects=[1, 2, 3 + k],
                                       budgets=[4], family="uniform")
            rows += [{"project_set_id": ps.id, "budget_id": ps.budgets[0].id,
                      "algorithm": "dp", "requested_algorithm": a, "status": "exact",
                      "selected_indices": [0, 1], "total_cost": 3, "execution_time": 0.01,
                      "flow_run_id": f"flow-{k}"} for a in ALGORITHMS]
    return rows


def _pairs(url: str) -> list[tuple]:
    runs = AlgorithmRun.__table__.c
    with session_scope(url) as s:
        return s.execute(select(runs.budget_id, runs.requested_algorithm, func.count())
                         .group_by(runs.budget_id, runs.requested_algorithm)).all()


def test_recording_a_plan_twice_stores_each_pair_once(migrated_db_url):
    """The second record_runs of the same plan stores nothing and says so (skipped)."""
    rows = _plan(migrated_db_url)
    with session_scope(migrated_db_url) as s:
        first = record_runs(session=s, runs=rows, page_size=4)
    with session_scope(migrated_db_url) as s:
        second = record_runs(session=s, runs=rows, page_size=4)
    assert (first, first.inserted, first.skipped) == (9, 9, 0)
    assert (second, second.inserted, second.skipped, second.offered) == (0, 0, 9, 9)
    assert {count for *_, count in _pairs(migrated_db_url)} == {1}


def test_a_pair_twice_in_one_write_is_stored_once(migrated_db_url):
    """Duplicates inside one call are skipped too: the first of them is kept."""
    rows = _plan(migrated_db_url, sets=1)
    twice = [rows[0], {**rows[0], "execution_time": 9.0}, *rows[1:]]
    with session_scope(migrated_db_url) as s:
        done = record_runs(session=s, runs=twice)
        times = s.scalars(select(AlgorithmRun.execution_time)
                          .where(AlgorithmRun.requested_algorithm == "dp")).all()
    assert (done.inserted, done.skipped) == (3, 1)
    assert times == [0.01]


def test_remeasure_and_user_runs_may_repeat_a_pair(migrated_db_url):
    """`remeasure` records new measurements on purpose; a user's solves repeat freely."""
    rows = _plan(migrated_db_url, sets=1)
    with session_scope(migrated_db_url) as s:
        record_runs(session=s, runs=rows)
        again = record_runs(session=s, runs=rows, kind="remeasure")
        r = rows[0]
        users = [record_run(session=s, project_set_id=r["project_set_id"],
                            budget_id=r["budget_id"], result=r, requested_algorithm="dp").id
                 for _ in range(2)]
        kinds = s.execute(select(AlgorithmRun.kind, func.count()).group_by(AlgorithmRun.kind))
        assert dict(kinds.all()) == {"benchmark": 3, "remeasure": 3, "user": 2}
    assert (again.inserted, again.skipped) == (3, 0)
    assert len(set(users)) == 2


def test_store_run_of_a_recorded_pair_returns_the_recorded_row(migrated_db_url):
    """A single benchmark (or replay) run of a recorded pair is not stored; the first row is."""
    r = _plan(migrated_db_url, sets=1)[0]
    args = {"project_set_id": r["project_set_id"], "budget_id": r["budget_id"],
            "requested_algorithm": "dp"}
    with session_scope(migrated_db_url) as s:
        first, created = store_run(session=s, result=r, kind="replay", **args)
        again, created_again = store_run(session=s, result={**r, "execution_time": 5.0},
                                         kind="replay", **args)
    assert (created, created_again) == (True, False)
    assert again.id == first.id and again.execution_time == 0.01


def test_the_database_itself_refuses_a_second_benchmark_row(migrated_db_url):
    """A plain INSERT (no ON CONFLICT) of a recorded benchmark pair fails: the index enforces it,
    not a check in Python."""
    rows = _plan(migrated_db_url, sets=1)
    with session_scope(migrated_db_url) as s:
        record_runs(session=s, runs=rows[:1])
    raw = {"project_set_id": rows[0]["project_set_id"], "budget_id": rows[0]["budget_id"],
           "algorithm_name": "dp", "requested_algorithm": "dp", "selected_projects": [0],
           "total_cost": 1, "execution_time": 0.1, "match_type": "exact", "kind": "benchmark"}
    with pytest.raises(IntegrityError), session_scope(migrated_db_url) as s:
        s.execute(insert(AlgorithmRun.__table__), [raw])
    with pytest.raises(IntegrityError), session_scope(migrated_db_url) as s:  # no pair, no kind
        s.execute(insert(AlgorithmRun.__table__), [{**raw, "requested_algorithm": None}])


def test_an_unknown_kind_is_refused(migrated_db_url):
    """kind must be one of the run kinds; the error names it."""
    rows = _plan(migrated_db_url, sets=1)
    with pytest.raises(ValueError, match="kind must be one of"), \
            session_scope(migrated_db_url) as s:
        record_runs(session=s, runs=rows, kind="nightly")


def test_recorded_pickles_with_its_counts():
    """A Recorded crosses process boundaries (Prefect, Dask) with both counts."""
    import pickle

    back = pickle.loads(pickle.dumps(Recorded(4, 2)))
    assert (back, back.inserted, back.skipped, back.offered) == (4, 4, 2, 6)


def test_concurrent_writers_of_one_plan_store_each_pair_once(migrated_db_url):
    """A second writer of the same plan while the first's transaction is open stores nothing:
    each pair once, nothing lost (on PostgreSQL it waits for the first writer's rows; SQLite
    serialises writers on its file lock)."""
    rows = _plan(migrated_db_url)
    outcome: dict[str, Any] = {}
    holding = threading.Event()

    def first() -> None:
        with session_scope(migrated_db_url) as s:
            outcome["first"] = record_runs(session=s, runs=rows, page_size=4)
            holding.set()
            time.sleep(0.6)  # the second writer is blocked on these rows meanwhile

    def second() -> None:
        holding.wait(10)
        started = time.perf_counter()
        with session_scope(migrated_db_url) as s:
            outcome["second"] = record_runs(session=s, runs=rows, page_size=4)
        outcome["waited"] = time.perf_counter() - started

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcome["first"].inserted == 9 and outcome["second"].skipped == 9
    if migrated_db_url.startswith("postgresql"):
        assert outcome["waited"] > 0.3  # it really ran into the first writer's rows
    assert len(_pairs(migrated_db_url)) == 9 and {c for *_, c in _pairs(migrated_db_url)} == {1}


@pytest.mark.postgres
def test_many_concurrent_benchmarks_on_postgres_record_each_pair_once(pg_migrated_url):
    """Four writers released at once with the same plan (pages in different orders): 9 rows."""
    rows = _plan(pg_migrated_url)
    gate = threading.Barrier(4)
    results: list[Recorded] = []
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            mine = rows[k % 3:] + rows[:k % 3]  # overlapping pages, different orders
            gate.wait(10)
            with session_scope(pg_migrated_url) as s:
                results.append(record_runs(session=s, runs=mine, page_size=20))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert sum(r.inserted for r in results) == 9
    assert all(r.offered == 9 for r in results)
    assert {c for *_, c in _pairs(pg_migrated_url)} == {1} and len(_pairs(pg_migrated_url)) == 9


def _old_run(conn, set_id: int, budget_id: int, requested: str | None,
             flow: str | None, t: float) -> int:
    conn.execute(text(
        "INSERT INTO algorithm_runs (project_set_id, budget_id, algorithm_name, "
        "requested_algorithm, selected_projects, total_cost, execution_time, match_type, "
        "flow_run_id) VALUES (:s, :b, 'dp', :r, :sel, 3, :t, 'exact', :f)"),
        {"s": set_id, "b": budget_id, "r": requested, "f": flow, "t": t,
         "sel": [0] if conn.dialect.name == "postgresql" else "[0]"})
    return conn.execute(text("SELECT max(id) FROM algorithm_runs")).scalar_one()


def _old_set(conn, name: str, family: str, params: str) -> tuple[int, int]:
    cast = "CAST(:p AS JSONB)" if conn.dialect.name == "postgresql" else ":p"
    conn.execute(text(
        "INSERT INTO project_sets (name, family, n_projects, generator_params, content_hash) "
        f"VALUES (:n, :fam, 1, {cast}, :n)"), {"n": name, "fam": family, "p": params})
    set_id = conn.execute(text("SELECT max(id) FROM project_sets")).scalar_one()
    conn.execute(text("INSERT INTO budgets (project_set_id, amount) VALUES (:s, 3)"),
                 {"s": set_id})
    return set_id, conn.execute(text("SELECT max(id) FROM budgets")).scalar_one()


def test_migration_0003_relabels_duplicate_benchmark_pairs_and_loses_no_run(db_url):
    """Upgrading a 0002 database with doubled benchmark pairs keeps the oldest run of each as
    `benchmark` and the later ones as `remeasure` (no row deleted); user solves and training
    runs (which may repeat a pair) are kept and classified."""
    upgrade(db_url, "0002")
    with get_engine(db_url).begin() as conn:
        bench, bench_budget = _old_set(conn, "bench", "uniform", '{"seed": 1}')
        train, train_budget = _old_set(conn, "train", "uniform", '{"time_limit": null}')
        user, user_budget = _old_set(conn, "mine", "custom", '{"source": "x"}')
        keep = [_old_run(conn, bench, bench_budget, a, "flow-1", 0.1) for a in ("dp", "greedy")]
        later = [_old_run(conn, bench, bench_budget, a, "flow-2", 0.2)  # a second benchmark
                 for a in ("dp", "greedy")]
        api = [_old_run(conn, bench, bench_budget, "dp", None, 0.3)]  # API solve: no flow run
        trained = [_old_run(conn, train, train_budget, "dp", "train-1", t) for t in (1, 2)]
        solves = [_old_run(conn, user, user_budget, "auto", f"solve-{t}", t) for t in (1, 2)]
    upgrade(db_url, "head")
    with get_engine(db_url).connect() as conn:
        rows = conn.execute(text("SELECT id, kind FROM algorithm_runs ORDER BY id")).all()
    assert rows == ([(i, "benchmark") for i in keep] + [(i, "remeasure") for i in later]
                    + [(i, "user") for i in api]
                    + [(i, "training") for i in trained] + [(i, "user") for i in solves])
    with session_scope(db_url) as s:  # and from now on the database enforces it
        again = record_runs(session=s, runs=[{
            "project_set_id": bench, "budget_id": bench_budget, "algorithm": "dp",
            "requested_algorithm": "dp", "status": "exact", "selected_indices": [0],
            "total_cost": 1, "execution_time": 0.1}])
    assert (again.inserted, again.skipped) == (0, 1)


def test_a_row_naming_its_own_kind_overrides_the_call(migrated_db_url):
    """A benchmark row inside a remeasure write is still recorded once per pair (PostgreSQL
    stages such a page instead of copying it straight in)."""
    rows = _plan(migrated_db_url, sets=1)
    with session_scope(migrated_db_url) as s:
        record_runs(session=s, runs=rows)
        mixed = record_runs(session=s, kind="remeasure",
                            runs=[{**rows[0], "kind": "benchmark"}, *rows[1:]])
    assert (mixed.inserted, mixed.skipped) == (2, 1)
