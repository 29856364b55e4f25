"""Fit the final selector on all rows and write its artifacts (files named by content hash).

LightGBM models are saved in LightGBM's own text format (``Booster.save_model``); sklearn
baselines with joblib. ``train_and_save`` returns plain data: paths, sha256s, params, class
order, feature names and library versions, everything ``ModelVersion`` records.
"""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path
from typing import Any

import joblib
import lightgbm as lgb
import numpy as np
import sklearn

from .dataset import Dataset
from .models import LGBM_BASE_PARAMS, NUM_ROUNDS, make_model

__all__ = ["file_sha256", "library_versions", "save_booster", "train_and_save"]


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions that decide whether a saved model loads and predicts the same."""
    return {"lightgbm": lgb.__version__, "scikit-learn": sklearn.__version__,
            "numpy": np.__version__, "joblib": joblib.__version__,
            "python": platform.python_version()}


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save_booster(booster: lgb.Booster, directory: str | Path, prefix: str) -> tuple[Path, str]:
    """Save in LightGBM text format as ``<prefix>-<sha12>.txt``; (path, sha256)."""
    text = booster.model_to_string(num_iteration=-1).encode("utf-8")
    sha = hashlib.sha256(text).hexdigest()
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{prefix}-{sha[:12]}.txt"
    _atomic_write(path, text)
    return path, sha


def _save_joblib(model: Any, directory: Path, prefix: str) -> tuple[Path, str]:
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{prefix}.tmp{os.getpid()}.joblib"
    joblib.dump(model, tmp)
    sha = file_sha256(tmp)
    path = directory / f"{prefix}-{sha[:12]}.joblib"
    os.replace(tmp, path)
    return path, sha


def train_and_save(ds: Dataset, kind: str, directory: str | Path,
                   baselines: tuple[str, ...] = ("logistic_regression", "decision_tree"),
                   params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fit ``kind`` (an lgbm kind) and the baselines on every row; save; describe the files."""
    folder = Path(directory)
    model = make_model(kind, **(params or {}))
    model.fit(ds.X, ds.costs, ds.labels)
    path, sha = save_booster(model.booster, folder, f"selector-{kind}")
    trust = None
    if getattr(model, "trust", None) is not None:  # lgbm_gated: its trust region (ml.trust)
        t_path, t_sha = model.trust.save(folder, "trust")
        trust = {"path": str(t_path), "sha256": t_sha, "radius": model.trust.radius,
                 "min_gain": model.min_gain}
    artifacts = {}
    for name in baselines:
        base = make_model(name).fit(ds.X, ds.costs, ds.labels)
        b_path, b_sha = _save_joblib(base.estimator, folder, f"baseline-{name}")
        artifacts[name] = {"path": str(b_path), "sha256": b_sha}
    return {
        "kind": kind,
        "path": str(path),
        "sha256": sha,
        "params": {"kind": kind, "num_boost_round": NUM_ROUNDS,
                   "lightgbm": {**LGBM_BASE_PARAMS, **(params or {})},
                   "time_limit": ds.time_limit, "rows": len(ds),
                   "baseline_artifacts": artifacts,
                   **({"trust": trust} if trust is not None else {})},
        "feature_names": list(ds.feature_names),
        "class_order": list(ds.candidates),
        "library_versions": library_versions(),
    }
