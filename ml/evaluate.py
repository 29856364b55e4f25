"""Side-by-side evaluation on repeated stratified K-fold, as in ASlib / OASC, and on
leave-one-family-out (LOFO) folds.

Stratified K-fold puts every family in every fold, and the families are easy to recognise from
the features, so it measures how well a model remembers families it has seen. LOFO holds out
one whole family per fold (``lofo_splits``): the figure for instances of a kind the history
does not contain. Training reports both and decides on LOFO.

Every method is scored on the same held-out folds: the learned selectors (fitted on the
training folds), the rule-based ``auto``, ``hybrid`` (its own runs), the single best solver
(SBS: the candidate with the lowest mean cost on the *training* folds) and the virtual best
solver (VBS: the per-instance oracle over the candidates).

The **remaining gap** is (selector − VBS) / (SBS − VBS) on mean PAR10: 0 is the oracle, 1 is
no better than always running the SBS. When SBS == VBS there is nothing to close: the gap is 0
for a method that matches them and +inf for one that is worse (negative values mean better
than the VBS, possible for ``rules``/``hybrid``, which may run ``hybrid``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from .dataset import Dataset
from .models import make_model

__all__ = [
    "BASELINES",
    "Evaluation",
    "evaluate",
    "folds",
    "lofo_splits",
    "remaining_gap",
    "score",
]

BASELINES = ("rules", "hybrid", "sbs", "vbs")


def remaining_gap(selector: float, vbs: float, sbs: float) -> float:
    """(selector − vbs) / (sbs − vbs); 0 or +inf when sbs == vbs (see module docstring)."""
    if math.isclose(sbs, vbs, rel_tol=1e-12, abs_tol=1e-12):
        return 0.0 if selector <= vbs + 1e-12 else math.inf
    return (selector - vbs) / (sbs - vbs)


def folds(labels: np.ndarray, n_splits: int = 5, seeds: Sequence[int] = (0, 1, 2)
          ) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """(seed, fold, train_idx, test_idx) for stratified K-fold repeated over ``seeds``.

    Labels rarer than ``n_splits`` are pooled into one stratum so stratification never fails.
    """
    values, counts = np.unique(labels, return_counts=True)
    rare = set(values[counts < n_splits].tolist())
    strata = np.array([-1 if y in rare else y for y in labels.tolist()])
    if len(labels) < n_splits:
        raise ValueError(f"need at least {n_splits} instances to evaluate, got {len(labels)}")
    if 0 < (strata == -1).sum() < n_splits and (strata >= 0).any():
        strata[strata == -1] = np.bincount(strata[strata >= 0]).argmax()
    out = []
    for seed in seeds:
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        for k, (tr, te) in enumerate(splitter.split(np.zeros(len(labels)), strata)):
            out.append((seed, k, tr, te))
    return out


def lofo_splits(families: Sequence[str], always_train: np.ndarray | None = None
                ) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """(0, k, train_idx, test_idx): fold k holds out the k-th family (sorted by name).

    ``always_train``: rows never held out (e.g. the user's past instances: the held-out
    families are the generated ones) and in every training fold. Raises ValueError with fewer
    than two families to hold out.
    """
    fam = np.asarray(list(families))
    keep = np.ones(len(fam), dtype=bool) if always_train is None else ~np.asarray(always_train)
    names = sorted(set(fam[keep].tolist()))
    if len(names) < 2:
        raise ValueError(f"leave-one-family-out needs at least 2 families, got {names}")
    return [(0, k, np.flatnonzero(~keep | (fam != name)), np.flatnonzero(keep & (fam == name)))
            for k, name in enumerate(names)]


def score(picked: np.ndarray, par10: float) -> tuple[float, float]:
    """(mean PAR10, % solved to the proven optimum) of the costs a method incurred."""
    return float(np.mean(picked)), float(100.0 * np.mean(picked < par10))


@dataclass
class Evaluation:
    """Per-fold rows and the pooled summary per method."""

    fold_rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    oof_choice: dict[str, np.ndarray] = field(default_factory=dict)  # method -> (repeat, n)
    oof_cost: dict[str, np.ndarray] = field(default_factory=dict)
    protocol: str = "cv"  # "cv" (repeated stratified K-fold) or "lofo"
    fold_names: list[str] = field(default_factory=list)  # LOFO: the held-out family per fold

    def method(self, name: str) -> dict[str, Any]:
        return next(row for row in self.summary if row["method"] == name)

    def best_model(self, kinds: Sequence[str]) -> str:
        rows = [self.method(k) for k in kinds]
        return min(rows, key=lambda r: (r["par10"], kinds.index(r["method"])))["method"]


def _pick(costs: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    return costs[np.arange(len(chosen)), chosen]


def evaluate(ds: Dataset, kinds: Sequence[str], n_splits: int = 5,
             seeds: Sequence[int] = (0, 1, 2),
             extra: dict[str, Callable[[np.ndarray], np.ndarray]] | None = None,
             model_params: dict[str, dict[str, Any]] | None = None,
             protocol: str = "cv", always_train: np.ndarray | None = None) -> Evaluation:
    """Fit each model kind on every training fold and score every method on its test fold.

    ``extra``: fixed selectors (e.g. the current champion) mapping feature rows to indices into
    ``ds.pick_names``; they are scored on the same test folds without fitting.
    ``protocol``: ``"cv"`` (stratified ``n_splits``-fold repeated over ``seeds``) or
    ``"lofo"`` (one fold per held-out family; ``n_splits`` and ``seeds`` unused;
    ``always_train`` rows are trained on in every fold and never scored).
    """
    if protocol not in ("cv", "lofo"):
        raise ValueError(f"protocol must be 'cv' or 'lofo', got {protocol!r}")
    scored = np.ones(len(ds), dtype=bool)
    if protocol == "lofo":
        splits = lofo_splits(ds.families, always_train)
        seeds = (0,)
        if always_train is not None:
            scored = ~np.asarray(always_train, dtype=bool)
        fold_names = sorted(set(np.asarray(ds.families)[scored].tolist()))
    else:
        splits = folds(ds.labels, n_splits, seeds)
        fold_names = []
    extra = extra or {}
    model_params = model_params or {}
    methods = [*kinds, *extra, *BASELINES]
    fold_rows: list[dict[str, Any]] = []
    n = len(ds)
    n_rep = len(seeds)
    oof_cost = {m: np.zeros((n_rep, n)) for m in methods}
    oof_choice = {m: np.full((n_rep, n), -1, dtype=np.int64) for m in [*kinds, *extra, "sbs"]}
    rep_of = {s: i for i, s in enumerate(seeds)}
    for seed, k, tr, te in splits:
        r = rep_of[seed]
        test_costs = ds.costs[te]
        per: dict[str, np.ndarray] = {}
        for kind in kinds:
            model = make_model(kind, **model_params.get(kind, {}))
            model.fit(ds.X[tr], ds.costs[tr], ds.labels[tr])
            if hasattr(model, "predict_gated") and ds.rules_index is not None:
                raw = model.predict_gated(ds.X[te], ds.rules_index[te])
            else:
                raw = model.predict(ds.X[te])
            chosen = ds.gate(te, raw)  # trivial rows: the rules' answer
            oof_choice[kind][r, te] = chosen
            per[kind] = _pick(test_costs, chosen)
        for name, fn in extra.items():
            chosen = fn(ds.X[te])
            oof_choice[name][r, te] = chosen
            per[name] = _pick(ds.pick_costs[te], chosen)
        sbs = int(np.argmin(ds.costs[tr].mean(axis=0)))
        oof_choice["sbs"][r, te] = sbs
        per["sbs"] = test_costs[:, sbs]
        per["vbs"] = test_costs.min(axis=1)
        per["rules"] = ds.rules_cost[te]
        per["hybrid"] = ds.hybrid_cost[te]
        sbs_m, vbs_m = per["sbs"].mean(), per["vbs"].mean()
        for m in methods:
            oof_cost[m][r, te] = per[m]
            par10, solved = score(per[m], ds.par10)
            fold_rows.append({"seed": seed, "fold": k, "method": m, "par10": par10,
                              "held_out": fold_names[k] if fold_names else None,
                              "instances": len(te),
                              "solved_pct": solved,
                              "remaining_gap": remaining_gap(par10, vbs_m, sbs_m),
                              "worse_than_sbs": bool(par10 > sbs_m + 1e-12)})
    summary = []
    sbs_all, vbs_all = oof_cost["sbs"][:, scored].mean(), oof_cost["vbs"][:, scored].mean()
    for m in methods:
        rows = [row for row in fold_rows if row["method"] == m]
        mean = float(oof_cost[m][:, scored].mean())
        summary.append({
            "method": m,
            "par10": mean,
            "solved_pct": float(100.0 * np.mean(oof_cost[m][:, scored] < ds.par10)),
            "remaining_gap": remaining_gap(mean, vbs_all, sbs_all),
            "max_fold_gap": max(row["remaining_gap"] for row in rows),
            "folds_worse_than_sbs": sum(row["worse_than_sbs"] for row in rows),
            "folds": len(rows),
        })
    return Evaluation(fold_rows, summary, oof_choice, oof_cost, protocol, fold_names)
