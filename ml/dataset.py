"""Turn instance records with their runs into the arrays training and evaluation use.

A record is ``{"key", "family", "projects", "budget", "runs": [run, ...]}`` (what
``ml.history.run_history`` yields and ``db.model_registry.load_training_history`` returns).
When an algorithm ran twice on the same instance, its fastest solving run counts.

Only instances on which every candidate ran are rows (a candidate the solvers would refuse
for its size, brute force above 24 fitting projects or meet in the middle above 64, is not
run and not recorded; it counts as run and costs PAR10, and ``Dataset.refused`` counts such
pairs; a configuration such as ``"hybrid[exact-first]"`` refuses what its algorithm refuses).
Single solves recorded by the API or the ``solve`` flow, with one
algorithm each, would otherwise teach that the algorithm that happened to run is the best.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

import solvers

from . import features as ml_features
from .history import CANDIDATES, base_algorithm
from .labels import PAR_FACTOR, best_proven_total, label, run_cost

__all__ = ["Dataset", "build_dataset"]


@dataclass(frozen=True)
class Dataset:
    """Rows are instances; cost/time columns follow ``candidates``."""

    keys: list[str]
    families: list[str]
    X: np.ndarray  # (n, f) float64
    feature_names: tuple[str, ...]
    candidates: tuple[str, ...]
    costs: np.ndarray  # (n, k) PAR10 costs
    times: np.ndarray  # (n, k) raw times (0 where not run)
    labels: np.ndarray  # (n,) int index into candidates
    hybrid_cost: np.ndarray  # (n,) cost of hybrid's own runs (PAR10 when none)
    rules_cost: np.ndarray  # (n,) cost of what the rule-based auto would run
    rules_choice: list[str]
    time_limit: float
    skipped: int = 0  # records left out: some candidate never ran on them
    trivial: np.ndarray | None = None  # (n,) bool: ml.features.is_trivial (rules answer)
    rules_index: np.ndarray | None = None  # (n,) index of rules_choice in candidates or -1
    refused: int = 0  # (row, candidate) pairs not run because the candidate refuses the size
    record_index: tuple[int, ...] = ()  # row i came from the record_index[i]-th record

    def kept(self, records: Sequence[Any]) -> list[Any]:
        """The records this dataset's rows came from, in row order (``skipped`` left out)."""
        return [records[i] for i in self.record_index]

    @property
    def pick_names(self) -> tuple[str, ...]:
        """Names a fixed selector may pick: the candidates, plus ``hybrid`` if not one."""
        return self.candidates if "hybrid" in self.candidates else (*self.candidates, "hybrid")

    @property
    def pick_costs(self) -> np.ndarray:
        """Costs with one column per ``pick_names``."""
        if "hybrid" in self.candidates:
            return self.costs
        return np.hstack([self.costs, self.hybrid_cost.reshape(-1, 1)])

    @property
    def par10(self) -> float:
        return PAR_FACTOR * self.time_limit

    def gate(self, rows: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """``chosen`` (indices into candidates) for ``rows``, with the rules' choice on the
        trivial rows, as the served selector does (``ml.features.is_trivial``)."""
        if self.trivial is None or self.rules_index is None:
            return chosen
        use = self.trivial[rows] & (self.rules_index[rows] >= 0)
        out = np.array(chosen, dtype=np.int64, copy=True)
        out[use] = self.rules_index[rows][use]
        return out

    def __len__(self) -> int:
        return len(self.keys)

    def take(self, rows: Sequence[int] | np.ndarray) -> Dataset:
        """The dataset restricted to ``rows`` (in that order)."""
        idx = np.asarray(rows, dtype=np.int64)
        return replace(
            self, keys=[self.keys[i] for i in idx], families=[self.families[i] for i in idx],
            X=self.X[idx], costs=self.costs[idx], times=self.times[idx],
            labels=self.labels[idx], hybrid_cost=self.hybrid_cost[idx],
            rules_cost=self.rules_cost[idx], rules_choice=[self.rules_choice[i] for i in idx],
            skipped=0, trivial=None if self.trivial is None else self.trivial[idx],
            rules_index=None if self.rules_index is None else self.rules_index[idx],
            record_index=tuple(self.record_index[i] for i in idx) if self.record_index else ())


def _costs_of(runs: Sequence[Mapping[str, Any]], best: Any, time_limit: float
              ) -> tuple[dict[str, float], dict[str, float]]:
    costs: dict[str, float] = {}
    times: dict[str, float] = {}
    for run in runs:
        name = run["algorithm"]
        cost = run_cost(run, best, time_limit)
        if name not in costs or (cost, run["execution_time"]) < (costs[name], times[name]):
            costs[name], times[name] = cost, float(run["execution_time"])
    return costs, times


def _refused(algorithm: str, feats: Mapping[str, float]) -> bool:
    limits = solvers.DEFAULT_LIMITS
    n_fit = feats["n_fit"]
    algorithm = base_algorithm(algorithm)
    return (algorithm == "brute_force" and n_fit > limits.brute_force_max_n) or (
        algorithm == "meet_in_the_middle" and n_fit > limits.ss_max_n)


def build_dataset(records: Iterable[Mapping[str, Any]], time_limit: float,
                  candidates: Sequence[str] = CANDIDATES,
                  feature_names: tuple[str, ...] = ml_features.FEATURE_NAMES) -> Dataset:
    """Features (``feature_names``: one of ``ml.features.KNOWN_FEATURE_SETS``), PAR10 costs,
    labels and baseline costs for every record."""
    cands = tuple(candidates)
    par10 = PAR_FACTOR * time_limit
    keys, families, rows, cost_rows, time_rows, labels = [], [], [], [], [], []
    hybrid, rules_cost, rules_choice, trivial, rules_index = [], [], [], [], []
    skipped = 0
    kept: list[int] = []
    refused = 0
    for position, rec in enumerate(records):
        runs = list(rec["runs"])
        base = solvers.features(rec["projects"], rec["budget"])
        ran = {r["algorithm"] for r in runs}
        if any(a not in ran and not _refused(a, base) for a in cands):
            skipped += 1
            continue
        refused += sum(a not in ran for a in cands)
        best = best_proven_total(runs)
        costs, times = _costs_of(runs, best, time_limit)
        full = {a: costs.get(a, par10) for a in cands}
        choice = solvers.rules(base)
        kept.append(position)
        keys.append(rec["key"])
        families.append(rec.get("family", "custom"))
        rows.append(ml_features.vector(base, feature_names))
        cost_rows.append([full[a] for a in cands])
        time_rows.append([times.get(a, 0.0) for a in cands])
        labels.append(cands.index(label(full, times, cands)))
        hybrid.append(costs.get("hybrid", par10))
        rules_choice.append(choice)
        trivial.append(ml_features.is_trivial(base))
        rules_index.append(cands.index(choice) if choice in cands else -1)
        rules_cost.append(costs.get(choice, par10))
    f = len(feature_names)
    return Dataset(
        keys=keys, families=families,
        X=np.array(rows, dtype=np.float64).reshape(-1, f),
        feature_names=feature_names, candidates=cands,
        costs=np.array(cost_rows, dtype=np.float64).reshape(-1, len(cands)),
        times=np.array(time_rows, dtype=np.float64).reshape(-1, len(cands)),
        labels=np.array(labels, dtype=np.int64),
        hybrid_cost=np.array(hybrid, dtype=np.float64),
        rules_cost=np.array(rules_cost, dtype=np.float64),
        rules_choice=rules_choice, time_limit=time_limit, skipped=skipped,
        trivial=np.array(trivial, dtype=bool),
        rules_index=np.array(rules_index, dtype=np.int64),
        refused=refused, record_index=tuple(kept),
    )
