"""The ML algorithm selector: history, features, labels, training, evaluation, serving.

Pure modules (no database, no Prefect): ``features``, ``history``, ``labels``, ``evaluate``,
``train``, ``report``. ``serving`` is the one module that reads the model registry (through
``db.model_registry``) to load the champion for the consumers of ``solvers.solve``.
Submodules are imported on demand: ``import ml`` stays cheap.
"""

DEFAULT_MODEL_NAME = "selector"
"""Registry name of the selector model (``ModelVersion.name``)."""

DEFAULT_CANDIDATES = "portfolio"
"""The candidate set `budget train` uses by default: the base algorithms, `hybrid` and its
named configurations (without hybrid the oracle itself is worse than the rules)."""

RUNTIME_MODEL_NAME = "runtime"
"""Registry name of the runtime model (``ml.runtime``); here so a registry check needs no
LightGBM."""

__all__ = ["DEFAULT_CANDIDATES", "DEFAULT_MODEL_NAME", "RUNTIME_MODEL_NAME"]
