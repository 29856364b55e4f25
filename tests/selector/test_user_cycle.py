"""Issue 16: replayed user instances in training, held out by time; the gated selector; the
trust region behind "unsure"; the cheap champion stamp; the demo's plain sentence."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

import solvers
from db import model_registry as reg
from db.engine import session_scope
from flows.demo import solved_with
from ml.history import PORTFOLIO, instance_key, run_instance
from ml.models import gate
from ml.selection import USER_FAMILY, is_user, promotion_checks, time_split, train_selector
from ml.serving import champion_stamp, forecast, load_runtime, load_selector
from ml.trust import fit_trust, load_trust
from tasks.ml_tasks import mark_replays

from .conftest import SMALL_TIME_LIMIT

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _two_scale(rng: random.Random) -> tuple[list[int], int]:
    n = rng.randint(30, 40)
    costs = [rng.randint(10**8, 10**9) for _ in range(n // 4)]
    costs += [rng.randint(1, 1000) for _ in range(n - n // 4)]
    return costs, int(sum(costs) * rng.uniform(0.2, 0.8))


@pytest.fixture(scope="module")
def replays() -> list[dict]:
    """16 replayed user instances of a two-scale family, one a minute, over the portfolio."""
    rng = random.Random(3)
    out = []
    for i in range(16):
        costs, budget = _two_scale(rng)
        runs = run_instance(costs, budget, SMALL_TIME_LIMIT, PORTFOLIO, repeats=1)
        out.append({"key": instance_key(costs, budget), "family": "custom", "source": "replay",
                    "user_time": T0 + timedelta(minutes=i), "projects": costs,
                    "budget": budget, "runs": runs})
    return out


def test_time_split_holds_out_the_most_recent_user_instances(replays) -> None:
    """The future is the latest quarter of the user's instances by solve time, whatever the
    order of the records; generated records are never in it."""
    shuffled = [replays[i] for i in random.Random(1).sample(range(16), 16)]
    records = [{"family": "uniform", "runs": []}, *shuffled]
    user, future = time_split(records)
    assert user.tolist() == [False] + [True] * 16
    held = sorted(records[i]["user_time"] for i in np.flatnonzero(future))
    assert held == [T0 + timedelta(minutes=m) for m in range(12, 16)]
    few_user, few_future = time_split(records[:5])
    assert few_user.sum() == 4 and not few_future.any()  # fewer than 8: nothing held out


def test_promotion_needs_both_comparisons() -> None:
    """Promoted only when the model beats the rules on the user's future by more than the
    noise floor AND is not worse on the held-out generated families beyond it."""
    fut = {"instances": 10, "methods": {"lgbm_gated": {"par10": 0.01}, "rules": {"par10": 0.2},
                                        "vbs": {"par10": 0.009}}}
    fine = {"selector_par10": 0.101, "rules_par10": 0.1}
    worse = {"selector_par10": 0.2, "rules_par10": 0.1}
    ok, text, figures = promotion_checks(fut, fine, "lgbm_gated", margin=0.05)
    assert ok is True and text.startswith("promoted") and figures["user_future"]["passed"]
    ok, text, _ = promotion_checks(fut, worse, "lgbm_gated", margin=0.05)
    assert ok is False and "generated families" in text and "user's" not in text
    tie = {**fut, "methods": {**fut["methods"], "lgbm_gated": {"par10": 0.195}}}
    ok, text, _ = promotion_checks(tie, fine, "lgbm_gated", margin=0.05)
    assert ok is False and "most recent instances" in text
    assert promotion_checks(None, fine, "lgbm_gated", 0.05)[0] is None


def test_gate_keeps_the_rules_outside_the_trust_region_and_for_small_savings() -> None:
    """The gated choice is the model's only inside the trust region and for a predicted saving
    of 2x or more; otherwise the rules' choice."""
    pred = np.log10(np.array([[1.0, 0.1], [1.0, 0.1], [1.0, 0.8]]))
    rules = np.array([0, 0, 0])
    assert gate(pred, rules, np.array([True, False, True])).tolist() == [1, 0, 0]
    assert gate(pred, np.array([-1, -1, -1]), np.array([False] * 3)).tolist() == [1, 1, 1]


def test_trust_region_sees_its_data_not_a_stranger(tmp_path) -> None:
    """Training rows are inside the radius, a far row is not; the saved file loads only with
    its sha256."""
    X = np.random.default_rng(0).normal(size=(200, 5)) * [1, 10, 100, 1, 1] + 50
    region = fit_trust(X)
    assert region.seen(X).mean() > 0.95
    assert not region.seen(np.array([[50, 50, 1e9, -1e6, 50]]))[0]
    path, sha = region.save(tmp_path, "trust")
    again = load_trust(path, sha)
    assert again is not None and again.radius == region.radius
    assert load_trust(path, "0" * 64) is None


def test_training_with_replays_holds_out_the_users_future(small_history, replays,
                                                          tmp_path) -> None:
    """Replayed user instances are their own family, never held out as a generated one; the
    most recent are scored after training on the past; the decision states both comparisons
    with figures; the served gated model loads and deviates from the rules only where it may."""
    out = train_selector([*small_history, *replays], time_limit=SMALL_TIME_LIMIT,
                         model_dir=tmp_path, n_splits=3, seeds=(0,), noise_sample=8)
    m = out.metrics
    assert m["user_instances"] == 16 and m["time_holdout"]["instances"] == 4
    assert USER_FAMILY not in [r["family"] for r in m["lofo_families"]]
    checks = m["promotion_checks"]
    assert {"user_future", "generated_lofo"} <= set(checks)
    assert checks["user_future"]["rules_par10"] == m["time_holdout"]["methods"]["rules"]["par10"]
    assert ("promoted:" in out.decision) == out.promote
    assert "most recent instances" in out.decision or "generated families" in out.decision
    assert len(out.evaluated) == len(out.dataset) - 4
    info = {"name": "selector", "version": 1, **{k: out.artifact[k] for k in (
        "path", "sha256", "params", "feature_names", "class_order")}}
    served = load_selector(info)
    assert served is not None and served.kind == "lgbm_gated"
    far = solvers.features([10**12 + i for i in range(30)], 5 * 10**12)
    assert served(far) == solvers.rules(far)  # unlike anything trained on: the rules


def test_replayed_budgets_carry_only_their_replay_runs() -> None:
    """A budget with a replay record is a user record: its user solve (one wall-time run) is
    dropped, and it carries when the user solved it; other records are unchanged."""
    user_run = {"algorithm": "hybrid", "status": "exact", "total_cost": 5,
                "execution_time": 0.3, "created_at": T0}
    replay_runs = [{"algorithm": a, "status": "exact", "total_cost": 5, "execution_time": 0.01,
                    "created_at": T0 + timedelta(days=1)} for a in ("dp", "hybrid")]
    records = [{"key": "1:7", "family": None, "projects": [5], "budget": 5, "runs": [user_run]},
               {"key": "2:8", "family": "uniform", "projects": [5], "budget": 5,
                "runs": [user_run]}]
    replay = {"key": "1:7", "family": None, "projects": [5], "budget": 5, "runs": replay_runs,
              "source": "replay", "user_time": T0}
    out = mark_replays(records, [replay])
    assert is_user(out[0]) and out[0]["runs"] == replay_runs and out[0]["user_time"] == T0
    assert not is_user(out[1]) and out[1]["runs"] == [user_run] and len(out) == 2


def test_forecast_says_unsure_for_an_instance_unlike_its_training(runtime_artifact) -> None:
    """Far outside the runtime model's trust region, "expected proven" is "unsure" unless a
    probe proves it, never the learned model's "yes"; the one-line description says so
    (hybrid: dp would refuse this instance by its memory cap, which the forecast knows and
    answers "no"). With the probe (10 ms) the birthday search proves this one: then "yes",
    said to come from the probe, and the real solve is proven."""
    from ml.serving import describe_forecast

    model = load_runtime({**runtime_artifact, "name": "runtime", "version": 2})
    assert model is not None and model.trust is not None
    rng = random.Random(9)
    costs = [rng.randint(10**9, 10**10) for _ in range(60)]
    fc = forecast(model, costs, sum(costs) // 2, "hybrid", 10.0, probe_seconds=0.0)
    assert fc["seen"] is False and fc["proven_answer"] == "unsure"
    assert fc["expected_proven"] is False
    assert describe_forecast(fc).endswith("limit: unsure")
    fc = forecast(model, costs, sum(costs) // 2, "hybrid", 10.0)
    if fc["proven_answer"] == "yes":
        assert "a probe proved it" in fc["basis"]
        assert solvers.solve(costs, sum(costs) // 2, "hybrid", 10.0)["status"] == "exact"
    else:
        assert fc["proven_answer"] == "unsure"


def test_champion_stamp_moves_with_the_alias(sqlite_migrated_url) -> None:
    """The cheap check an API polls: None without a champion, (version, sha256) after a
    promote, the new pair after the next."""
    assert champion_stamp(sqlite_migrated_url) is None
    with session_scope(sqlite_migrated_url) as s:
        a = reg.register_version(session=s, name="selector", sha256="a" * 64, path="/x",
                                 params={}, feature_names=[], class_order=[])
        reg.promote(session=s, name="selector", version=a.version)
    assert champion_stamp(sqlite_migrated_url) == (a.version, "a" * 64)
    with session_scope(sqlite_migrated_url) as s:
        b = reg.register_version(session=s, name="selector", sha256="b" * 64, path="/y",
                                 params={}, feature_names=[], class_order=[])
        reg.promote(session=s, name="selector", version=b.version)
    assert champion_stamp(sqlite_migrated_url) == (b.version, "b" * 64)


def test_demo_says_which_selector_solved_the_example() -> None:
    """A rejected model is named as not promoted, with the reason; a promoted one as used."""
    rejected = solved_with({"model_version": 3, "promoted": False, "decision": "the rules stay"})
    assert "v3 was trained but not promoted" in rejected and "the rules stay" in rejected
    assert "with selector v4, promoted" in solved_with(
        {"model_version": 4, "promoted": True, "decision": "promoted: x"})


def test_load_history_marks_replays_and_drops_the_user_solve(sqlite_migrated_url,
                                                             replays) -> None:
    """Stored as the replay flow stores them (kind 'replay' next to the user's own solve of
    kind 'user'), a user instance loads as a replay record with only the replay runs and the
    user's solve time; a generated instance loads unchanged."""
    from sqlalchemy import select

    from db.datasets import create_project_set
    from db.models import Budget
    from db.runs import record_runs
    from tasks.ml_tasks import load_history

    rec = replays[0]
    with session_scope(sqlite_migrated_url) as s:
        ps, _ = create_project_set(session=s, name="user-set", projects=rec["projects"],
                                   budgets=[rec["budget"]])
        budget_id = s.scalar(select(Budget.id).where(Budget.project_set_id == ps.id))
        base = {"project_set_id": ps.id, "budget_id": budget_id, "memory_used": None}
        user_run = {**rec["runs"][0], **base, "requested_algorithm": "auto",
                    "execution_time": 9.0, "kind": "user"}
        rows = [{**r, **base, "requested_algorithm": r["algorithm"], "kind": "replay"}
                for r in rec["runs"]]
        record_runs(session=s, runs=[user_run], kind="user")
        record_runs(session=s, runs=rows, kind="replay")
        reg.store_training_history(session=s, records=[{
            "family": "uniform", "n": 3, "seed": 1, "params": {}, "projects": [3, 5, 9],
            "budget": 12, "runs": run_instance([3, 5, 9], 12, 0.05, ("dp", "greedy"), repeats=1)}])
    history = load_history.fn(sqlite_migrated_url)
    by_source = {r.get("source"): r for r in history["records"]}
    assert history["user_instances"] == 1 and set(by_source) == {"replay", None}
    mine = by_source["replay"]
    assert len(mine["runs"]) == len(rec["runs"])
    assert all(r["execution_time"] != 9.0 for r in mine["runs"])
    assert mine["user_time"] is not None
    assert len(by_source[None]["runs"]) == 2
