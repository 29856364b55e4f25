"""The selectors compared: LightGBM (classifier, cost regression) and sklearn baselines.

Every model is fitted on a training slice of a ``Dataset`` and predicts candidate indices.
LightGBM runs with fixed seeds, ``deterministic=True``, ``force_row_wise=True`` and one
thread, so the same data gives byte-identical model files. Sizes suit a few thousand rows:
``num_leaves`` 15 and ``min_data_in_leaf`` 10 instead of the defaults (31 and 20).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier

__all__ = [
    "CANDIDATE_FEATURE",
    "LGBM_BASE_PARAMS",
    "MIN_GAIN",
    "MODEL_KINDS",
    "GatedCostRegressor",
    "LightGBMClassifier",
    "LightGBMCostRegressor",
    "SklearnSelector",
    "gate",
    "make_model",
    "regret_weights",
]

LGBM_BASE_PARAMS: dict[str, Any] = {
    "learning_rate": 0.08,
    "num_leaves": 15,
    "min_data_in_leaf": 10,
    "lambda_l2": 1.0,
    "feature_fraction": 1.0,
    "bagging_fraction": 1.0,
    "max_bin": 255,
    "seed": 20240229,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbosity": -1,
}
NUM_ROUNDS = 200
CANDIDATE_FEATURE = "candidate"
"""Name of the regressor's last column: the candidate's index in the class order."""


def _names(f: int) -> list[str]:
    from .features import KNOWN_FEATURE_SETS  # the model files carry the feature names

    for names in KNOWN_FEATURE_SETS:
        if f == len(names):
            return list(names)
    return [f"f{i}" for i in range(f)]


def regret_weights(costs: np.ndarray) -> np.ndarray:
    """Cost-sensitive sample weights: how much a wrong pick loses on average, normalised.

    An instance where every candidate is about as fast matters little; one where a wrong pick
    pays the PAR10 penalty matters a lot. A floor of 0.05 keeps every row in play.
    """
    regret = (costs - costs.min(axis=1, keepdims=True)).mean(axis=1)
    scale = regret.mean() or 1.0
    return 0.05 + regret / scale


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


@dataclass
class LightGBMClassifier:
    """Multiclass LightGBM over the best-candidate label, weighted by what a mistake costs."""

    kind: str = "lgbm_classifier"
    rounds: int = NUM_ROUNDS
    params: dict[str, Any] = field(default_factory=dict)
    booster: lgb.Booster | None = None

    def all_params(self, k: int) -> dict[str, Any]:
        return {**LGBM_BASE_PARAMS, "objective": "multiclass", "num_class": k, **self.params}

    def fit(self, X: np.ndarray, costs: np.ndarray, labels: np.ndarray) -> LightGBMClassifier:
        weight = regret_weights(costs)
        data = lgb.Dataset(X, label=labels, weight=weight, free_raw_data=False,
                           feature_name=_names(X.shape[1]), params={"verbosity": -1})
        self.booster = lgb.train(self.all_params(costs.shape[1]), data,
                                 num_boost_round=self.rounds)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        assert self.booster is not None
        return np.argmax(self.booster.predict(X, num_threads=1), axis=1)


@dataclass
class LightGBMCostRegressor:
    """One LightGBM regressor of log10 cost over (instance features, candidate index) rows.

    The candidate index is a categorical feature (the last column); the choice is the candidate
    with the lowest predicted cost. One model file serves every candidate.
    """

    kind: str = "lgbm_regression"
    rounds: int = NUM_ROUNDS
    params: dict[str, Any] = field(default_factory=dict)
    booster: lgb.Booster | None = None
    k: int = 0

    def all_params(self) -> dict[str, Any]:
        return {**LGBM_BASE_PARAMS, "objective": "regression", **self.params}

    @staticmethod
    def expand(X: np.ndarray, k: int) -> np.ndarray:
        rows = np.repeat(X, k, axis=0)
        algo = np.tile(np.arange(k, dtype=np.float64), len(X)).reshape(-1, 1)
        return np.hstack([rows, algo])

    def fit(self, X: np.ndarray, costs: np.ndarray, labels: np.ndarray) -> LightGBMCostRegressor:
        self.k = costs.shape[1]
        target = np.log10(costs.reshape(-1) + 1e-5)
        data = lgb.Dataset(self.expand(X, self.k), label=target, free_raw_data=False,
                           feature_name=[*_names(X.shape[1]), CANDIDATE_FEATURE],
                           categorical_feature=[X.shape[1]], params={"verbosity": -1})
        self.booster = lgb.train(self.all_params(), data, num_boost_round=self.rounds)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        assert self.booster is not None
        pred = self.booster.predict(self.expand(X, self.k), num_threads=1)
        return np.argmin(pred.reshape(-1, self.k), axis=1)


MIN_GAIN = 2.0
"""The gated selector leaves the rules only where it predicts the rules' choice to cost at
least this many times its own pick ..."""
MIN_SAVING_S = 0.01
"""... and at least this many seconds more: savings of microseconds are within the timing
noise of a shared machine, and a wrong deviation can cost the whole cutoff (measured: on
held-out generated families every deviation that lost time was one where the rules' choice
took under 10 ms)."""


def gate(pred: np.ndarray, rules_idx: np.ndarray, seen: np.ndarray,
         min_gain: float = MIN_GAIN, min_saving: float = MIN_SAVING_S) -> np.ndarray:
    """Choices from predicted log10 costs ``pred`` (n, k): the model's argmin where the row is
    ``seen`` (inside the trust region) and the rules' choice is predicted ``min_gain`` times
    dearer and ``min_saving`` seconds dearer, else the rules' choice (``rules_idx``; -1: not
    a candidate, the model's pick)."""
    best = np.argmin(pred, axis=1)
    rows = np.arange(len(pred))
    r = np.asarray(rules_idx, dtype=np.int64)
    has = r >= 0
    theirs = pred[rows, np.where(has, r, 0)]
    mine = pred[rows, best]
    ratio = np.where(has, theirs - mine, np.inf)
    seconds = np.where(has, 10.0 ** theirs - 10.0 ** mine, np.inf)
    deviate = ~has | (np.asarray(seen, dtype=bool) & (ratio > np.log10(min_gain))
                      & (seconds >= min_saving))
    return np.where(deviate, best, r)


@dataclass
class GatedCostRegressor(LightGBMCostRegressor):
    """The cost regression, deviating from the rules only inside its trust region
    (``ml.trust``) and only for a predicted saving of ``MIN_GAIN``× or more.

    ``predict`` without the rules' choices is the plain regression; evaluation and serving
    call ``predict_gated`` with them.
    """

    kind: str = "lgbm_gated"
    trust: Any = None
    min_gain: float = MIN_GAIN

    def fit(self, X: np.ndarray, costs: np.ndarray, labels: np.ndarray) -> GatedCostRegressor:
        from .trust import fit_trust

        super().fit(X, costs, labels)
        self.trust = fit_trust(X)
        return self

    def predict_costs(self, X: np.ndarray) -> np.ndarray:
        assert self.booster is not None
        return self.booster.predict(self.expand(X, self.k), num_threads=1).reshape(-1, self.k)

    def predict_gated(self, X: np.ndarray, rules_idx: np.ndarray) -> np.ndarray:
        return gate(self.predict_costs(X), rules_idx, self.trust.seen(X), self.min_gain)


@dataclass
class SklearnSelector:
    """A scikit-learn classifier over the best-candidate label (logistic regression, tree)."""

    kind: str
    estimator: Any = None

    def fit(self, X: np.ndarray, costs: np.ndarray, labels: np.ndarray) -> SklearnSelector:
        if self.kind == "logistic_regression":
            self.estimator = make_pipeline(
                FunctionTransformer(_signed_log), StandardScaler(),
                LogisticRegression(max_iter=3000, C=1.0))
        else:
            self.estimator = DecisionTreeClassifier(min_samples_leaf=5, random_state=0)
        if len(np.unique(labels)) == 1:  # one class only: a constant choice
            self.estimator = _Constant(int(labels[0]))
        if isinstance(self.estimator, _Constant):
            self.estimator.fit(X, labels)
        elif self.kind == "logistic_regression":
            self.estimator.fit(X, labels, logisticregression__sample_weight=regret_weights(costs))
        else:
            self.estimator.fit(X, labels, sample_weight=regret_weights(costs))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator.predict(X), dtype=np.int64)


@dataclass
class _Constant:
    value: int

    def fit(self, X: np.ndarray, y: np.ndarray) -> _Constant:
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.value, dtype=np.int64)


MODEL_KINDS = ("lgbm_classifier", "lgbm_regression", "lgbm_gated", "logistic_regression",
               "decision_tree")


def make_model(kind: str, **params: Any) -> Any:
    """A fresh, unfitted model of ``kind`` (one of MODEL_KINDS)."""
    if kind == "lgbm_classifier":
        return LightGBMClassifier(params=params)
    if kind == "lgbm_regression":
        return LightGBMCostRegressor(params=params)
    if kind == "lgbm_gated":
        return GatedCostRegressor(params=params)
    if kind in ("logistic_regression", "decision_tree"):
        return SklearnSelector(kind=kind)
    raise ValueError(f"unknown model kind {kind!r}; valid kinds: {', '.join(MODEL_KINDS)}")
