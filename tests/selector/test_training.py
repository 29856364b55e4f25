"""Training is deterministic: the same data gives byte-identical model files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml.dataset import build_dataset
from ml.selection import train_selector
from ml.train import file_sha256, train_and_save

from .conftest import SMALL_TIME_LIMIT


@pytest.mark.parametrize("kind", ["lgbm_classifier", "lgbm_regression"])
def test_same_data_gives_byte_identical_model_files(small_history, tmp_path, kind) -> None:
    """Two fits on the same rows write the same bytes (and so the same sha256)."""
    ds = build_dataset(small_history, SMALL_TIME_LIMIT)
    first = train_and_save(ds, kind, tmp_path / "one")
    second = train_and_save(ds, kind, tmp_path / "two")
    one, two = (Path(a["path"]).read_bytes() for a in (first, second))
    assert one == two and first["sha256"] == second["sha256"] == file_sha256(first["path"])
    assert "[deterministic: 1]" in one.decode() and "[force_row_wise: 1]" in one.decode()
    for name in ("logistic_regression", "decision_tree"):
        a, b = (x["params"]["baseline_artifacts"][name] for x in (first, second))
        assert a["path"].endswith(".joblib") and a["sha256"] == b["sha256"]


def test_training_run_reports_every_method_side_by_side(small_history, tmp_path) -> None:
    """A run evaluates every model and baseline on 3 × 5 stratified folds and on one fold per
    held-out family, keeps a LightGBM kind and decides on the held-out families."""
    out = train_selector(small_history, time_limit=SMALL_TIME_LIMIT, model_dir=tmp_path,
                         noise_sample=20)
    methods = [row["method"] for row in out.table()]
    assert methods == ["lgbm_classifier", "lgbm_regression", "lgbm_gated",
                       "logistic_regression", "decision_tree", "rules", "hybrid", "sbs", "vbs"]
    assert out.kind == "lgbm_gated"
    assert out.artifact["params"]["trust"]["radius"] > 0
    m = out.metrics
    assert {"remaining_gap", "sbs_par10", "vbs_par10", "selector_par10", "rules_par10",
            "solved_pct"} <= set(m)
    families = sorted(set(out.dataset.families))
    assert m["cv"]["folds"] == 15 and m["lofo"]["folds"] == len(families) >= 2
    assert m["evaluation"] == "lofo" and m["selector_par10"] == m["lofo"]["selector_par10"]
    assert m["vbs_par10"] <= m["selector_par10"]
    assert [r["family"] for r in m["lofo_families"]] == families
    assert sum(r["instances"] for r in m["lofo_families"]) == len(out.dataset)
    assert "LOFO remaining gap" in out.markdown()
    noise = m["noise_floor"]
    assert noise["instances"] == 20 and 0 <= noise["label_agreement"] <= 1
    assert m["promotion_margin"] == max(0.0, noise["margin"])
    assert out.artifact["class_order"] == list(out.dataset.candidates)
