"""Analytics snapshots: SQL aggregates match a Python reference, on both backends alike.

Runs are grouped by the algorithm that was *requested* (auto, hybrid, ...), falling back to the
one that ran for runs recorded without a request."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from db import (
    AnalyticsSnapshot,
    compute_snapshot,
    create_project_set,
    get_sessionmaker,
    record_runs,
    size_bucket,
)

ALGORITHMS = ("dp", "greedy", "mitm")
# what was asked for: nothing (older rows), the algorithm itself, or a dispatcher that ran one
REQUESTED = (None, "same", "auto", "hybrid")
STATUSES = ("exact", "approximate", "failed")


def _seed(session, rng: random.Random) -> list[dict]:
    """Two families × two sizes, three budgets each, ~150 runs with varied results."""
    rows = []
    for family, n in [("uniform", 5), ("uniform", 25), ("clustered", 5), ("clustered", 1000)]:
        ps, _ = create_project_set(
            session=session,
            name=f"{family}-{n}",
            family=family,
            projects=[rng.randint(1, 10**6) for _ in range(n)],
            budgets=[100, 200, 300],
        )
        for budget in ps.budgets:
            for _ in range(rng.randint(8, 16)):
                status = rng.choice(STATUSES)
                algorithm = rng.choice(ALGORITHMS)
                requested = rng.choice(REQUESTED)
                rows.append(
                    {
                        "project_set_id": ps.id,
                        "budget_id": budget.id,
                        "n": n,
                        "family": family,
                        "algorithm": algorithm,
                        "requested_algorithm": algorithm if requested == "same" else requested,
                        "status": status,
                        "selected_indices": [0],
                        "total_cost": Decimal(rng.randint(0, 30_000)) / 100,
                        "execution_time": rng.random() * rng.choice([0.001, 1, 10]),
                        "memory_used": None if rng.random() < 0.2 else rng.random() * 50,
                    }
                )
    record_runs(session=session, runs=rows, kind="remeasure")  # pairs repeat on purpose
    session.commit()
    return rows


def _reference(rows: list[dict]) -> dict[tuple, dict]:
    """The same statistics computed in plain Python/NumPy."""
    best: dict[tuple, Decimal] = {}
    for r in rows:
        if r["status"] != "failed":
            key = (r["project_set_id"], r["budget_id"])
            best[key] = max(best.get(key, Decimal(0)), r["total_cost"])
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        name = r["requested_algorithm"] or r["algorithm"]
        groups.setdefault((name, size_bucket(r["n"]), r["family"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        times = [r["execution_time"] for r in rs]
        mems = [r["memory_used"] for r in rs if r["memory_used"] is not None]
        acc = []
        for r in rs:
            if r["status"] == "failed":
                continue
            b = best[(r["project_set_id"], r["budget_id"])]
            acc.append(float(r["total_cost"]) / float(b) if b > 0 else 1.0)
        out[key] = {
            "run_count": len(rs),
            "exact_rate": sum(r["status"] == "exact" for r in rs) / len(rs),
            "time_mean": float(np.mean(times)),
            "time_p50": float(np.percentile(times, 50)),
            "time_p95": float(np.percentile(times, 95)),
            "memory_mean": float(np.mean(mems)) if mems else None,
            "memory_max": max(mems) if mems else None,
            "accuracy_mean": float(np.mean(acc)) if acc else None,
        }
    return out


def _as_dict(snaps) -> dict[tuple, dict]:
    fields = (
        "run_count",
        "exact_rate",
        "time_mean",
        "time_p50",
        "time_p95",
        "memory_mean",
        "memory_max",
        "accuracy_mean",
    )
    return {
        (s.algorithm_name, s.size_bucket, s.family): {f: getattr(s, f) for f in fields}
        for s in snaps
    }


def _approx(expected: dict) -> dict:
    return {
        k: {f: (None if v is None else pytest.approx(v, rel=1e-9, abs=1e-12)) for f, v in d.items()}
        for k, d in expected.items()
    }


def test_size_buckets_follow_the_thresholds():
    """n<20 small, n<100 medium, n<1000 large, otherwise xlarge."""
    assert [size_bucket(n) for n in (1, 19, 20, 99, 100, 999, 1000)] == [
        "small",
        "small",
        "medium",
        "medium",
        "large",
        "large",
        "xlarge",
    ]


def test_snapshot_matches_python_reference(session):
    """Counts, exact rate, mean/p50/p95 time, memory and accuracy equal a NumPy reference."""
    rows = _seed(session, random.Random(3))
    snaps = compute_snapshot(session=session, flow_run_id="flow-1")
    session.commit()
    assert _as_dict(snaps) == _approx(_reference(rows))
    assert {s.flow_run_id for s in snaps} == {"flow-1"}
    assert len({s.snapshot_at for s in snaps}) == 1


def test_postgres_and_sqlite_give_the_same_snapshot(sqlite_migrated_url, pg_migrated_url):
    """percentile_cont on PostgreSQL and the window formula on SQLite agree."""
    results = []
    for url in (sqlite_migrated_url, pg_migrated_url):
        with get_sessionmaker(url)() as session:
            _seed(session, random.Random(11))
            results.append(_as_dict(compute_snapshot(session=session)))
            session.commit()
    assert results[0] == _approx(results[1])


def test_snapshot_groups_runs_by_the_requested_algorithm(session):
    """auto's and hybrid's runs get rows of their own, not counted under what they ran."""
    ps, _ = create_project_set(session=session, name="req", family="uniform",
                               projects=[1, 2, 3], budgets=[3])
    run = {"project_set_id": ps.id, "budget_id": ps.budgets[0].id, "status": "exact",
           "selected_indices": [2], "total_cost": 3, "execution_time": 0.1}
    record_runs(session=session, kind="remeasure", runs=[
        {**run, "algorithm": "dp", "requested_algorithm": "dp"},
        {**run, "algorithm": "dp", "requested_algorithm": "auto"},
        {**run, "algorithm": "dp", "requested_algorithm": "auto"},
        {**run, "algorithm": "dp", "requested_algorithm": "hybrid"},
        {**run, "algorithm": "greedy"},
    ])
    session.commit()
    snaps = compute_snapshot(session=session)
    assert {s.algorithm_name: s.run_count for s in snaps} == {
        "auto": 2, "dp": 1, "greedy": 1, "hybrid": 1}


def test_failed_snapshot_leaves_no_partial_rows(session):
    """If one group's row cannot be written, none of that snapshot's rows are."""
    _seed(session, random.Random(5))
    at = datetime(2030, 1, 1, tzinfo=UTC)
    first = compute_snapshot(session=session, snapshot_at=at)
    session.commit()
    ps, _ = create_project_set(session=session, name="new", projects=[1], budgets=[1])
    record_runs(
        session=session,
        runs=[
            {
                "project_set_id": ps.id,
                "budget_id": ps.budgets[0].id,
                "algorithm": "brand-new",
                "status": "exact",
                "selected_indices": [0],
                "total_cost": 1,
                "execution_time": 0.1,
            }
        ],
    )
    session.commit()
    with pytest.raises(IntegrityError):  # the old groups collide on (snapshot_at, key)
        compute_snapshot(session=session, snapshot_at=at)
    session.commit()
    count = session.scalar(select(func.count()).select_from(AnalyticsSnapshot))
    assert count == len(first)
    names = set(session.scalars(select(AnalyticsSnapshot.algorithm_name)))
    assert "brand-new" not in names


def test_snapshot_of_no_runs_is_empty(session):
    """With no runs there is nothing to aggregate and nothing is written."""
    assert compute_snapshot(session=session) == []


def test_snapshot_leaves_out_replay_and_training_runs(session):
    """Only benchmark, remeasure and user runs are aggregated: the selector's replay and
    training runs never reach a snapshot."""
    ps, _ = create_project_set(session=session, name="kinds", family="uniform",
                               projects=[1, 2, 3], budgets=[3])
    run = {"project_set_id": ps.id, "budget_id": ps.budgets[0].id, "status": "exact",
           "selected_indices": [2], "total_cost": 3, "execution_time": 0.1,
           "algorithm": "dp", "requested_algorithm": "dp"}
    record_runs(session=session, kind="remeasure", runs=[
        run, {**run, "kind": "user"}, {**run, "kind": "training", "execution_time": 50},
        {**run, "kind": "replay", "requested_algorithm": "greedy", "execution_time": 50}])
    session.commit()
    (snap,) = compute_snapshot(session=session)
    assert (snap.algorithm_name, snap.run_count, snap.time_mean) == ("dp", 2, 0.1)


def test_a_plans_snapshot_scopes_best_to_its_budgets_with_the_same_values(session):
    """A snapshot restricted by `where` (one budget, as a plan is) gives each group the mean of
    total / best over that budget's non-failed runs: scoping `best` to the plan's budgets
    changes no value."""
    from db.models import AlgorithmRun

    _seed(session, random.Random(5))
    session.commit()
    budget = session.scalar(select(func.min(AlgorithmRun.budget_id)))
    scoped = compute_snapshot(session=session, where=AlgorithmRun.budget_id == budget)
    rows = session.execute(select(
        func.coalesce(AlgorithmRun.requested_algorithm, AlgorithmRun.algorithm_name),
        AlgorithmRun.total_cost, AlgorithmRun.match_type)
        .where(AlgorithmRun.budget_id == budget)).all()
    best = max(t for _, t, m in rows if m != "failed")
    want: dict[str, list[float]] = {}
    for alg, total, status in rows:
        if status != "failed":
            want.setdefault(alg, []).append(float(total) / float(best) if best > 0 else 1.0)
    got = {s.algorithm_name: s.accuracy_mean for s in scoped if s.accuracy_mean is not None}
    assert got.keys() == want.keys() and len(got) >= 2
    for alg, values in want.items():
        assert got[alg] == pytest.approx(float(np.mean(values))), alg
