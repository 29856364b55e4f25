"""The replay flow: user instances re-run across the candidates, recorded once as replay runs."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

import solvers
from cli.main import main
from config import get_settings
from db.datasets import create_project_set
from db.engine import session_scope
from db.models import AlgorithmRun, Budget
from db.replay import load_replay_history, pending_replays, replay_order
from db.snapshots import compute_snapshot
from flows.export import export_metrics
from flows.params import ExportParams, ReplayParams, SolveParams
from flows.replay import replay
from flows.solve import solve
from tasks.replay import candidate_caps, replay_batches

pytestmark = pytest.mark.usefixtures("prefect_harness")
BASE_HYBRID = 6  # brute_force, dp, backtracking, greedy, meet_in_the_middle, hybrid
FAST = {"candidates": "base+hybrid", "time_limit": 0.5, "timing_repeats": 1,
        "time_budget": 120.0}


def _user_solve(url: str, costs: list, budgets: list, when: datetime | None = None,
                name: str = "user") -> list[int]:
    """Store a set and one user (`auto`) run per budget, as the API does; budget ids."""
    ids = []
    with session_scope(url) as s:
        ps, _ = create_project_set(session=s, name=name, budgets=budgets, projects=[
            {"name": f"p{i}", "cost": c} for i, c in enumerate(costs)])
        for amount in budgets:
            budget = s.scalar(select(Budget).where(Budget.project_set_id == ps.id,
                                                   Budget.amount == Decimal(str(amount))))
            result = solvers.solve(costs, amount, algorithm="auto")
            if when is not None:
                result["created_at"] = when
            from db.runs import record_run

            record_run(session=s, project_set_id=ps.id, budget_id=budget.id, result=result,
                       requested_algorithm="auto")
            ids.append(budget.id)
    return ids


def _small(i: int) -> list:
    return [3 + i, 5, 7, 11, 13, "2.50", 17 + i]


def _replay_rows(url: str) -> list[tuple[int, str]]:
    with session_scope(url) as s:
        return [tuple(r) for r in s.execute(
            select(AlgorithmRun.budget_id, AlgorithmRun.requested_algorithm)
            .where(AlgorithmRun.kind == "replay"))]


def _kinds(url: str) -> dict[str, int]:
    with session_scope(url) as s:
        return dict(s.execute(select(AlgorithmRun.kind, func.count())
                              .group_by(AlgorithmRun.kind)).all())


def test_replay_is_idempotent(migrated_db_url, tmp_path) -> None:
    """A replay records every candidate of every user instance once (training reads them as
    replay records); a second replay finds nothing pending and records 0 runs."""
    url = migrated_db_url
    for i in range(3):
        _user_solve(url, _small(i), [20 + i], name=f"u{i}")
    first = replay(ReplayParams(database_url=url, data_dir=str(tmp_path), **FAST))
    assert first["pending"] == 3 and first["instances"] == 3 and first["left"] == 0
    assert first["runs"] == 3 * BASE_HYBRID and first["skipped"] == 0
    rows = _replay_rows(url)
    assert len(rows) == len(set(rows)) == 3 * BASE_HYBRID
    with session_scope(url) as s:  # what training reads: replay runs, by the user's time
        history = load_replay_history(session=s)
    assert [len(r["runs"]) for r in history] == [BASE_HYBRID] * 3
    assert all(r["source"] == "replay" and r["user_time"] is not None for r in history)
    assert all(run["algorithm"] != "auto" for rec in history for run in rec["runs"])
    second = replay(ReplayParams(database_url=url, data_dir=str(tmp_path), **FAST))
    assert second["pending"] == 0 and second["runs"] == 0 and second["instances"] == 0
    assert len(_replay_rows(url)) == 3 * BASE_HYBRID


def test_new_candidates_replay_only_what_is_missing(sqlite_migrated_url, tmp_path) -> None:
    """Widening the candidate set to the portfolio replays only the configurations."""
    url = sqlite_migrated_url
    _user_solve(url, _small(0), [20])
    replay(ReplayParams(database_url=url, data_dir=str(tmp_path), **FAST))
    out = replay(ReplayParams(database_url=url, data_dir=str(tmp_path),
                              **{**FAST, "candidates": "portfolio"}))
    assert out["runs"] == len(solvers.CONFIGURATIONS)
    assert len(_replay_rows(url)) == BASE_HYBRID + len(solvers.CONFIGURATIONS)


def test_replays_never_appear_as_user_runs(migrated_db_url, tmp_path) -> None:
    """A user's solve through the solve flow stays the only user run; replays are kind
    'replay', request the candidate they ran, only user pairs are replayed, and neither the
    snapshot nor the exported `runs` dataset contains a replay."""
    url = migrated_db_url
    solved = solve(SolveParams(database_url=url, data_dir=str(tmp_path),
                               projects=["3", "5", "7.25", "11"], budget="15"))
    with session_scope(url) as s:  # a benchmark-like run on another set is no user instance
        ps, _ = create_project_set(session=s, name="bench", budgets=[9],
                                   projects=[{"name": "a", "cost": 4}, {"name": "b", "cost": 5}])
        from db.runs import record_runs

        record_runs(session=s, kind="benchmark", runs=[{
            **solvers.solve([4, 5], 9, algorithm="dp"), "project_set_id": ps.id,
            "budget_id": ps.budgets[0].id}])
    before = _kinds(url)
    out = replay(ReplayParams(database_url=url, data_dir=str(tmp_path), **FAST))
    assert out["pending"] == 1 and out["runs"] == BASE_HYBRID
    after = _kinds(url)
    assert after["user"] == before["user"] == 1 and after["benchmark"] == 1
    assert after["replay"] == BASE_HYBRID
    with session_scope(url) as s:
        user = s.scalars(select(AlgorithmRun).where(AlgorithmRun.kind == "user")).one()
        replays = s.scalars(select(AlgorithmRun).where(AlgorithmRun.kind == "replay")).all()
    assert user.id == solved["run_id"] and user.requested_algorithm == "auto"
    assert {r.budget_id for r in replays} == {solved["budget_id"]}
    assert all(r.requested_algorithm == r.algorithm_name for r in replays)
    with session_scope(url) as s:  # snapshots aggregate the user and benchmark runs only
        snapshot = compute_snapshot(session=s)
    assert sum(row.run_count for row in snapshot) == 2
    exported = export_metrics(ExportParams(database_url=url, data_dir=str(tmp_path)))
    runs = pq.ParquetDataset(exported["runs_path"]).read().to_pylist()
    assert sorted(r["kind"] for r in runs) == ["benchmark", "user"]  # replays: not in runs/


def _hard(seed: int, n: int = 36) -> tuple[list[int], int]:
    rng = random.Random(seed)
    costs = [rng.randrange(10**8, 10**9) for _ in range(n)]
    return costs, sum(costs) // 2 + 1


def test_time_budget_bounds_the_replay_newest_first(sqlite_migrated_url, tmp_path) -> None:
    """With a budget too small for every instance, solving stops within it, the newest
    instances are the ones replayed, and the rest is left for the next run."""
    url = sqlite_migrated_url
    now = datetime.now(UTC)
    ids = []
    for i in range(8):  # one shape (n, budget ratio): plain recency order
        costs, budget = _hard(i)
        ids += _user_solve(url, costs, [budget], when=now - timedelta(hours=i), name=f"h{i}")
    params = ReplayParams(database_url=url, data_dir=str(tmp_path), candidates="base",
                          time_limit=0.2, timing_repeats=1, time_budget=1.0)
    started = time.perf_counter()
    out = replay(params)
    assert out["stopped_by_time_budget"] and out["left"] > 0 and out["instances"] < 8
    assert out["solver_seconds"] <= 1.0 + 0.2  # the last run may overshoot its limit a little
    assert time.perf_counter() - started < 60
    replayed = {b for b, _ in _replay_rows(url)}
    done = len(replayed)
    assert done >= 1 and replayed == set(ids[:done])  # the newest ones, whole or started


def test_pending_is_most_recent_and_most_distinct_first(migrated_db_url) -> None:
    """Newest first; a second budget of the same set waits behind every other set; instances
    solved before `since` are not pending; `limit` keeps the head."""
    url = migrated_db_url
    now = datetime.now(UTC)
    old = _user_solve(url, _small(0), [20], when=now - timedelta(days=40), name="old")
    a1, a2 = _user_solve(url, _small(1), [21, 22], when=now - timedelta(hours=1), name="a")
    b = _user_solve(url, _small(2), [23], when=now - timedelta(hours=3), name="b")
    caps = candidate_caps("base", solvers.DEFAULT_LIMITS)
    with session_scope(url) as s:
        every = [p.budget_id for p in pending_replays(session=s, max_fit=caps)]
        recent = [p.budget_id for p in pending_replays(
            session=s, max_fit=caps, since=now - timedelta(days=30))]
        head = [p.budget_id for p in pending_replays(session=s, max_fit=caps, limit=2)]
    assert every == [a2, *b, *old, a1]  # a's second budget after every other set
    assert recent == [a2, *b, a1]
    assert head == [a2, *b]


def test_replay_order_spreads_over_shapes() -> None:
    """Round robin over size classes: the newest of a rare shape precedes the second newest
    of a common one."""
    now = datetime.now(UTC)

    def item(i: int, n_fit: int, hours: int) -> dict:
        return {"budget_id": i, "project_set_id": i, "n_fit": n_fit, "budget_ratio": 0.5,
                "solved_at": now - timedelta(hours=hours)}

    order = replay_order([item(1, 10, 1), item(2, 10, 2), item(3, 10, 3), item(4, 500, 9)])
    assert [i["budget_id"] for i in order] == [1, 4, 2, 3]
    batches = replay_batches([{"n": 150_000}, {"n": 100_000}, {"n": 5}], max_instances=10)
    assert [len(b) for b in batches] == [1, 2]


@pytest.mark.postgres
def test_two_replays_at_once_record_each_pair_once(pg_migrated_url, tmp_path) -> None:
    """Two `budget replay` processes started together on PostgreSQL: each pair is stored
    once, and every pair a process solved but did not store is counted as skipped."""
    from prefect.settings import PREFECT_API_URL

    url = pg_migrated_url
    for i in range(6):  # several seconds of solving: both usually find every pair pending
        costs, budget = _hard(100 + i)
        _user_solve(url, costs, [budget], name=f"c{i}")
    argv = [sys.executable, "-m", "cli", "replay", "--candidates", "base", "--time-limit",
            "0.5", "--repeats", "1", "--time-budget", "300", "--json"]
    procs = []
    for k in range(2):
        env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(tmp_path / str(k)),
               "PREFECT_HOME": str(tmp_path / f"prefect{k}")}
        if PREFECT_API_URL.value():  # the test harness's server: no ephemeral server to start
            env["PREFECT_API_URL"] = PREFECT_API_URL.value()
        procs.append(subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        outs.append(json.loads(out))
    pairs = max(o["pending_runs"] for o in outs)
    rows = _replay_rows(url)
    assert pairs > 0 and len(rows) == len(set(rows)) == pairs
    assert sum(o["runs"] for o in outs) == pairs
    solved = sum(o["runs"] + o["skipped"] for o in outs)
    assert solved - pairs == sum(o["skipped"] for o in outs)
    assert all(o["left"] == 0 for o in outs)


def test_replay_params_need_room_for_one_measurement() -> None:
    """A time budget smaller than repeats × time limit is refused, naming time_budget."""
    with pytest.raises(ValueError, match="time_budget"):
        ReplayParams(time_budget=1.0, time_limit=2.0)
    assert ReplayParams(time_budget=6.0, time_limit=2.0).timing_repeats == 3


def test_nightly_replay_deployment() -> None:
    """`budget serve` registers replay/nightly on a daily cron."""
    from flows.deployments import REPLAY_CRON, build_deployments

    built = {f"{d.flow_name}/{d.name}": d for d in build_deployments()}
    dep = built["replay/nightly"]
    assert dep.schedules and dep.schedules[0].schedule.cron == REPLAY_CRON


def test_cli_replay_json(migrated_db_url, tmp_path, monkeypatch, capsys) -> None:
    """`budget replay --json` prints one JSON object with the counts, on DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    _user_solve(migrated_db_url, _small(0), [20])
    code = main(["replay", "--candidates", "base", "--time-limit", "0.5", "--repeats", "1",
                 "--time-budget", "60", "--json"])
    out = capsys.readouterr().out
    assert code == 0 and out.count("\n") == 1, out
    doc = json.loads(out)
    assert doc["pending"] == 1 and doc["runs"] == BASE_HYBRID and doc["left"] == 0
    assert {"skipped", "refused", "solver_seconds", "time_budget", "flow_run_id"} <= set(doc)
    assert main(["replay", "--time-budget", "1", "--time-limit", "1", "--json"]) == 2
    assert "time_budget" in capsys.readouterr().err
