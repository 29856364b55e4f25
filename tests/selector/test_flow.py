"""End to end on PostgreSQL: `budget train` runs the flow (covering benchmark, evaluation,
registry, artifacts), then `budget models` shows, lists, promotes and rolls back."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

import solvers
from cli.main import main
from db.engine import session_scope
from db.models import AlgorithmRun, ModelVersion
from ml.serving import champion_selector

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _train(url: str, tmp_path: Path, capsys) -> dict:
    code = main(["train", "--json", "--url", url, "--data-dir", str(tmp_path),
                 "--min-instances", "60", "--max-n", "30", "--time-limit", "0.05",
                 "--candidates", "base+hybrid", "--seed", "3"])
    assert code == 0
    return json.loads(capsys.readouterr().out)


def test_train_on_postgres_then_manage_versions(pg_migrated_url, tmp_path, capsys) -> None:
    """A thin history triggers the covering benchmark; the second run reuses it and, with
    nothing new to compare on, cannot take the champion alias away."""
    first = _train(pg_migrated_url, tmp_path, capsys)
    assert first["model_version"] == 1 and first["generated"] == 60
    assert first["instances"] == 60
    metrics = first["metrics"]
    for key in ("remaining_gap", "sbs_par10", "vbs_par10", "selector_par10", "rules_par10",
                "solved_pct"):
        assert key in metrics
    assert metrics["vbs_par10"] <= metrics["selector_par10"]
    assert Path(first["plot"]).stat().st_size > 0
    folds = pq.read_table(first["metrics_parquet"]).to_pylist()
    assert {row["method"] for row in folds} >= {"lgbm_regression", "rules", "sbs", "vbs"}
    cv = [row for row in folds if row["protocol"] == "cv"]
    assert len({(row["seed"], row["fold"]) for row in cv}) == 15
    lofo = {row["held_out"] for row in folds if row["protocol"] == "lofo"}
    assert len(lofo) == metrics["lofo"]["folds"] // 1 and len(lofo) >= 2
    assert metrics["evaluation"] == "lofo" and "remaining_gap" in metrics["cv"]
    assert first["runtime_model_version"] == 1
    with session_scope(pg_migrated_url) as s:
        refused = metrics["refused_runs"]  # size refusals: neither run nor recorded
        assert refused > 0 and metrics["rows"] == 60
        assert s.scalar(select(func.count()).select_from(AlgorithmRun)) == 60 * 6 - refused
        assert s.scalar(select(func.count()).select_from(AlgorithmRun)
                        .where(AlgorithmRun.reason.like("%refuses%"))) == 0
        row = s.scalar(select(ModelVersion))
        assert row.sha256 and row.feature_names and row.class_order
        assert row.library_versions["lightgbm"] and row.training_window_end is not None

    assert main(["models", "show", "1", "--url", pg_migrated_url]) == 0
    table = capsys.readouterr().out
    assert "VBS (oracle)" in table and "rule-based auto" in table and "**(served)**" in table

    second = _train(pg_migrated_url, tmp_path, capsys)
    assert second["model_version"] == 2 and second["generated"] == 0
    if first["promoted"]:  # a champion, and nothing newer than its data to compare on
        assert second["promoted"] is False, second["decision"]
    else:  # no champion: the bar is the rules, by more than this run's re-timing noise floor
        m2 = second["metrics"]
        gain = (m2["rules_par10"] - m2["selector_par10"]) / m2["rules_par10"]
        assert second["promoted"] == (gain > m2["promotion_margin"]), second["decision"]

    assert main(["models", "promote", "2", "--url", pg_migrated_url]) == 0
    selector = champion_selector(pg_migrated_url)
    assert selector is not None and selector.version == 2
    result = solvers.solve([3, 5, 9, 11], 20, selector=selector)
    assert result["selector"] == "model:selector@v2" and result["total_cost"] == 20
    capsys.readouterr()
    assert main(["models", "list", "--json", "--url", pg_migrated_url]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [v["version"] for v in listed] == [2, 1] and listed[0]["aliases"] == ["champion"]
    expected = 0 if first["promoted"] else 1  # rollback needs an earlier champion
    assert main(["models", "rollback", "--url", pg_migrated_url]) == expected
    assert main(["models", "promote", "7", "--url", pg_migrated_url]) == 1
