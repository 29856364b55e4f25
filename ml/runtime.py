"""The learned runtime model: log10 CPU seconds of one (instance, algorithm) run.

One LightGBM regressor over (selector features, algorithm index as a categorical feature),
trained on every recorded run of the history (``execution_time``: median CPU seconds; a run that
hit the cutoff counts at the cutoff, which is also what it costs a benchmark batch). It is
versioned in the model registry under its own name (``RUNTIME_MODEL_NAME``, ``params.kind ==
"runtime"``) and served by ``ml.serving.runtime_model`` as ``predict_seconds(features,
algorithm)``; ``tasks.plan.make_batches`` balances benchmark batches with it.

Held-out quality is measured leave-one-family-out: the median absolute log10 error and the
share of runs predicted within 3× of their measured time, on families the model never saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

import solvers

from . import features as ml_features
from .models import LGBM_BASE_PARAMS
from .train import library_versions, save_booster

__all__ = [
    "ALGORITHM_FEATURE",
    "FLOOR_SECONDS",
    "RUNTIME_KIND",
    "RUNTIME_MODEL_NAME",
    "RUNTIME_ROUNDS",
    "fit_runtime",
    "runtime_rows",
    "train_runtime",
]

RUNTIME_MODEL_NAME = "runtime"
RUNTIME_KIND = "runtime"
ALGORITHM_FEATURE = "algorithm"
FLOOR_SECONDS = 1e-5  # below the resolution that matters for planning
RUNTIME_ROUNDS = 150


def runtime_rows(records: Sequence[Mapping[str, Any]], time_limit: float | None = None
                 ) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """(X, y, families, algorithms): one row per recorded run; X's last column is the
    algorithm's index in ``algorithms`` (sorted names), y is log10 of its CPU seconds (floored
    at ``FLOOR_SECONDS``, capped at ``time_limit`` when given)."""
    algorithms = sorted({r["algorithm"] for rec in records for r in rec["runs"]}
                        - {"auto"})
    index = {a: i for i, a in enumerate(algorithms)}
    rows, ys, fams = [], [], []
    for rec in records:
        feats = ml_features.vector(solvers.features(rec["projects"], rec["budget"]))
        for run in rec["runs"]:
            if run["algorithm"] not in index:
                continue
            seconds = float(run["execution_time"] or 0.0)
            if time_limit is not None:
                seconds = min(seconds, time_limit)
            rows.append(np.append(feats, index[run["algorithm"]]))
            ys.append(np.log10(max(seconds, FLOOR_SECONDS)))
            fams.append(rec.get("family", "custom"))
    width = len(ml_features.FEATURE_NAMES) + 1
    return (np.array(rows, dtype=np.float64).reshape(-1, width), np.array(ys, dtype=np.float64),
            fams, algorithms)


def fit_runtime(X: np.ndarray, y: np.ndarray, rounds: int = RUNTIME_ROUNDS) -> lgb.Booster:
    """The regressor (deterministic, one thread), algorithm column categorical."""
    params = {**LGBM_BASE_PARAMS, "objective": "regression"}
    data = lgb.Dataset(X, label=y, free_raw_data=False,
                       feature_name=[*ml_features.FEATURE_NAMES, ALGORITHM_FEATURE],
                       categorical_feature=[X.shape[1] - 1], params={"verbosity": -1})
    return lgb.train(params, data, num_boost_round=rounds)


def _errors(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    err = np.abs(pred - y)
    return {"median_abs_log10": float(np.median(err)), "mean_abs_log10": float(err.mean()),
            "within_3x_pct": float(100.0 * np.mean(err <= np.log10(3.0)))}


def lofo_errors(X: np.ndarray, y: np.ndarray, families: Sequence[str],
                rounds: int = RUNTIME_ROUNDS) -> dict[str, Any]:
    """Errors on each family when trained on the others, and pooled."""
    fam = np.asarray(list(families))
    names = sorted(set(fam.tolist()))
    if len(names) < 2:
        return {"families": {}, "pooled": None}
    pred = np.zeros_like(y)
    per: dict[str, dict[str, float]] = {}
    for name in names:
        test = fam == name
        booster = fit_runtime(X[~test], y[~test], rounds)
        pred[test] = booster.predict(X[test], num_threads=1)
        per[name] = {**_errors(pred[test], y[test]), "runs": int(test.sum())}
    return {"families": per, "pooled": _errors(pred, y)}


def train_runtime(records: Sequence[Mapping[str, Any]], time_limit: float,
                  model_dir: str | Path, rounds: int = RUNTIME_ROUNDS,
                  evaluate: bool = True) -> dict[str, Any] | None:
    """Fit on every run, save ``runtime-<sha12>.txt``, describe it (None: no runs)."""
    X, y, families, algorithms = runtime_rows(records, time_limit)
    if len(y) < 10:
        return None
    metrics = {"runs": len(y), "algorithms": algorithms}
    if evaluate:
        metrics["lofo"] = lofo_errors(X, y, families, rounds)
    booster = fit_runtime(X, y, rounds)
    metrics["train"] = _errors(booster.predict(X, num_threads=1), y)
    path, sha = save_booster(booster, model_dir, "runtime")
    return {
        "kind": RUNTIME_KIND, "path": str(path), "sha256": sha,
        "params": {"kind": RUNTIME_KIND, "num_boost_round": rounds, "time_limit": time_limit,
                   "floor_seconds": FLOOR_SECONDS, "rows": len(y),
                   "target": "log10 CPU seconds"},
        "feature_names": list(ml_features.FEATURE_NAMES), "class_order": algorithms,
        "library_versions": library_versions(), "metrics": metrics,
    }
