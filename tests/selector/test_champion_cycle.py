"""Training with a champion, demote back to the rules, rollback after a demote, and the demo
path (train → solve with the model) rerun after a promotion."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

import solvers
from cli.main import main
from db import model_registry as reg
from db.engine import session_scope
from db.errors import NotFoundError
from flows.params import SolveParams
from flows.solve import solve
from ml.selection import train_selector
from ml.serving import champion_selector

from .conftest import SMALL_TIME_LIMIT

SHA = "0" * 64


def _stamp(records, when):
    return [{**r, "runs": [{**run, "created_at": when} for run in r["runs"]]} for r in records]


def _lone(record, when):
    """The record with a single run left (as a solve from the API records it)."""
    return {**record, "key": record["key"] + "-lone",
            "runs": [{**record["runs"][1], "created_at": when}]}


def test_training_with_a_champion_and_left_out_records(sqlite_migrated_url, small_history,
                                                       tmp_path) -> None:
    """A history with lone-run records (left out of the dataset) no longer crashes the
    champion comparison; new-instance counts cover the kept rows only."""
    t0, t1 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    old = _stamp(small_history[:45], t0)
    first = train_selector(old, time_limit=SMALL_TIME_LIMIT, model_dir=tmp_path, n_splits=3)
    with session_scope(sqlite_migrated_url) as s:
        art = first.artifact
        row = reg.register_version(session=s, name="selector", sha256=art["sha256"],
                                   path=art["path"], params=art["params"],
                                   feature_names=art["feature_names"],
                                   class_order=art["class_order"], training_window_end=t0)
        reg.promote(session=s, name="selector", version=row.version)
    champion = champion_selector(sqlite_migrated_url)
    assert champion is not None
    new = _stamp(small_history[45:], t1)
    records = [_lone(small_history[0], t1), *old, *new[:10], _lone(small_history[50], t1),
               *new[10:]]
    out = train_selector(records, time_limit=SMALL_TIME_LIMIT, model_dir=tmp_path, n_splits=3,
                         champion=champion)
    assert out.dataset.skipped == 2 and len(out.dataset) == len(small_history)
    assert out.metrics["new_instances"] == len(new)
    assert [records[i]["key"] for i in out.dataset.record_index] == out.dataset.keys


def test_demote_returns_auto_to_the_rules_and_rollback_undoes_it(migrated_db_url) -> None:
    """demote → no champion (recorded); rollback → the champion is back; history in order."""
    with session_scope(migrated_db_url) as s:
        for _ in range(2):
            reg.register_version(session=s, name="selector", sha256=SHA, path="/x")
        assert reg.demote(session=s, name="selector") is None  # nothing to demote
        reg.promote(session=s, name="selector", version=1)
        reg.promote(session=s, name="selector", version=2)
        assert reg.demote(session=s, name="selector").version == 2
        assert reg.get_champion(session=s, name="selector") is None
        assert reg.aliases(session=s, name="selector") == {}
        assert reg.rollback(session=s, name="selector").version == 2
        assert reg.get_champion(session=s, name="selector").version == 2
        reg.demote(session=s, name="selector")
        reg.promote(session=s, name="selector", version=1)
        assert reg.rollback(session=s, name="selector") is None  # back to the demoted state
        assert reg.get_champion(session=s, name="selector") is None
        actions = [(h["action"], h["version"])
                   for h in reg.alias_history(session=s, name="selector")]
        assert actions == [("promote", 1), ("promote", 2), ("demote", 2)]
        with pytest.raises(NotFoundError):
            reg.promote(session=s, name="selector", version=9)
        assert len(reg.alias_history(session=s, name="selector")) == 3


needs_prefect = pytest.mark.usefixtures("prefect_harness")


def _train(url: str, tmp_path, capsys) -> dict:
    capsys.readouterr()
    code = main(["train", "--json", "--url", url, "--data-dir", str(tmp_path),
                 "--min-instances", "40", "--max-n", "20", "--time-limit", "0.05",
                 "--repeats", "1", "--seed", "5"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@needs_prefect
def test_train_promote_solve_train_demote_train(sqlite_migrated_url, tmp_path, capsys) -> None:
    """The demo path rerun after `models promote 1` (train, then solve with the model, then
    train again), then `models demote`, train, and `models rollback` all work."""
    url = sqlite_migrated_url
    first = _train(url, tmp_path, capsys)
    assert first["model_version"] == 1
    if not first["promoted"]:
        assert main(["models", "promote", "1", "--url", url]) == 0
    solved = solve(SolveParams(projects=[3, 5, 9, 11], budget=20, database_url=url,
                               data_dir=str(tmp_path)))  # a lone run: left out next time
    assert solved["selector"] == "model:selector@v1" and solved["total_cost"] == 20
    second = _train(url, tmp_path, capsys)
    assert second["model_version"] == 2 and second["metrics"]["left_out"] >= 1
    capsys.readouterr()

    assert main(["models", "demote", "--url", url]) == 0
    assert "auto uses the rules" in capsys.readouterr().out
    assert champion_selector(url) is None
    assert main(["models", "history", "--json", "--url", url]) == 0
    actions = [h["action"] for h in json.loads(capsys.readouterr().out)]
    assert actions[0] == "promote" and actions[-1] == "demote"
    assert solvers.solve([3, 5, 9, 11], 20, selector=champion_selector(url))["selector"] \
        == "rules"
    third = _train(url, tmp_path, capsys)
    assert third["model_version"] == 3
    with session_scope(url) as s:
        champ = reg.get_champion(session=s, name="selector")
    if champ is None:  # the model did not beat the rules: rollback restores the demoted one
        assert main(["models", "rollback", "--url", url]) == 0
        assert champion_selector(url).version in (1, 2)
        assert _train(url, tmp_path, capsys)["model_version"] == 4
