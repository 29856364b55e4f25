"""The runtime model: trained on the history, versioned in the registry, loaded with its
sha256 checked, and used to plan benchmark batches."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

import solvers
from ml.runtime import runtime_rows, train_runtime
from ml.serving import runtime_model
from tasks import plan
from tests.conftest import register_runtime

from .conftest import SMALL_TIME_LIMIT


def test_runtime_model_predicts_seconds_and_plans_batches(sqlite_migrated_url, small_history,
                                                          tmp_path, caplog) -> None:
    """One row per recorded run; held-out-family errors reported; the loaded model predicts
    positive seconds close to its training data and puts estimates on planned jobs."""
    X, y, families, algorithms = runtime_rows(small_history, SMALL_TIME_LIMIT)
    assert len(y) == len(X) == sum(len(r["runs"]) for r in small_history)
    assert "hybrid" in algorithms and "auto" not in algorithms
    art = train_runtime(small_history, SMALL_TIME_LIMIT, tmp_path)
    lofo = art["metrics"]["lofo"]
    assert set(lofo["families"]) == set(families)
    assert 0 <= lofo["pooled"]["within_3x_pct"] <= 100
    assert runtime_model(sqlite_migrated_url) is None  # nothing registered: the proxy plans
    version = register_runtime(sqlite_migrated_url, art)
    model = runtime_model(sqlite_migrated_url)
    assert model is not None and model.version == version

    rec = small_history[0]
    feats = solvers.features(rec["projects"], rec["budget"])
    for run in rec["runs"]:
        got = model.predict_seconds(feats, run["algorithm"])
        assert got > 0
        # trained on this very run: within a factor 30 of what was measured (floored)
        assert abs(np.log10(got) - np.log10(max(run["execution_time"], 1e-5))) < 1.5
    unknown = model.predict_seconds(feats, "some_new_method")
    assert unknown == max(model.predict_many(feats, algorithms))

    jobs = [{"dataset_id": i, "budget_id": i, "family": r["family"], "n": r["n"],
             "costs": r["projects"], "budget": r["budget"], "algorithms": ["dp", "greedy"]}
            for i, r in enumerate(small_history[:8])]
    batches = plan.make_batches(jobs, 3, predict_seconds=model.predict_seconds,
                                default_time_limit=SMALL_TIME_LIMIT)
    assert sorted(j["dataset_id"] for b in batches for j in b) == list(range(8))
    assert all(0 < j["estimated_seconds"] <= 2 * SMALL_TIME_LIMIT for b in batches for j in b)

    Path(art["path"]).write_text("tampered")
    with caplog.at_level(logging.WARNING, logger="ml.serving"):
        assert runtime_model(sqlite_migrated_url) is None
    assert "size proxy" in caplog.text
