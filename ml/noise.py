"""The re-timing noise floor: how much of a selector's measured advantage is just the clock.

Two independent labelings of the same instances (the recorded history, and the same instances
timed again with the same protocol) disagree where algorithms are about as fast; an oracle
built from one labeling then pays a regret on the other. A selector whose advantage over the
rules is smaller than that regret cannot be told apart from a re-run of the benchmark, so the
promotion margin is set at it.

``retime(records, ...)`` times a deterministic sample of records again (pure apart from the
clock; the same protocol as ``ml.history``: median CPU seconds of ``repeats`` runs).
``noise_floor(first, second, ...)`` compares two labelings of the same instances:

* ``label_agreement``: share of instances whose best candidate is the same;
* ``oracle_gap``: remaining gap, on one labeling, of the oracle built from the other (mean of
  both directions; 0 would be a clock without noise);
* ``oracle_regret_s``: the same regret in mean PAR10 seconds;
* ``margin``: that regret as a share of the rules' mean PAR10 on the same instances: the
  relative improvement over the rules a selector must exceed to be promoted.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .dataset import Dataset, build_dataset
from .evaluate import remaining_gap
from .history import ALGORITHMS, DEFAULT_REPEATS, run_instance

__all__ = ["noise_floor", "retime", "sample_records"]


def sample_records(records: Sequence[Mapping[str, Any]], size: int, seed: int = 0
                   ) -> list[Mapping[str, Any]]:
    """Up to ``size`` records drawn without replacement, deterministic in ``seed``."""
    picked = random.Random(seed).sample(range(len(records)), min(size, len(records)))
    return [records[i] for i in sorted(picked)]


def retime(records: Sequence[Mapping[str, Any]], time_limit: float,
           algorithms: Sequence[str] = ALGORITHMS, repeats: int = DEFAULT_REPEATS
           ) -> list[dict[str, Any]]:
    """The same instances (same keys and families), every algorithm timed again."""
    return [{"key": rec["key"], "family": rec.get("family", "custom"),
             "projects": rec["projects"], "budget": rec["budget"],
             "runs": run_instance(list(rec["projects"]), rec["budget"], time_limit, algorithms,
                                  repeats=repeats)}
            for rec in records]


def _regret(a: Dataset, b: Dataset) -> tuple[float, float, float]:
    """(mean PAR10 on b of a's oracle, b's VBS, b's SBS)."""
    picked = b.costs[np.arange(len(b)), a.labels]
    return float(picked.mean()), float(b.costs.min(axis=1).mean()), float(
        b.costs.mean(axis=0).min())


def noise_floor(first: Sequence[Mapping[str, Any]], second: Sequence[Mapping[str, Any]],
                time_limit: float, candidates: Sequence[str]) -> dict[str, Any]:
    """Label agreement and oracle-vs-oracle regret of two labelings of the same instances.

    ``first``/``second``: records with the same keys (in any order); instances either labeling
    leaves out are ignored.
    """
    a = build_dataset(first, time_limit, candidates)
    b = build_dataset(second, time_limit, candidates)
    common = [k for k in a.keys if k in set(b.keys)]
    if not common:
        return {"instances": 0, "label_agreement": None, "oracle_gap": None,
                "oracle_regret_s": None, "margin": 0.0}
    a, b = _subset(a, common), _subset(b, common)
    ab, b_vbs, b_sbs = _regret(a, b)
    ba, a_vbs, a_sbs = _regret(b, a)
    gaps = [remaining_gap(ab, b_vbs, b_sbs), remaining_gap(ba, a_vbs, a_sbs)]
    finite = [g for g in gaps if np.isfinite(g)]
    regret = ((ab - b_vbs) + (ba - a_vbs)) / 2
    rules = (float(a.rules_cost.mean()) + float(b.rules_cost.mean())) / 2
    return {
        "instances": len(common),
        "label_agreement": float(np.mean(a.labels == b.labels)),
        "oracle_gap": float(np.mean(finite)) if finite else 0.0,
        "oracle_regret_s": float(regret),
        "rules_par10_s": rules,
        "margin": float(regret / rules) if rules > 0 else 0.0,
    }


def _subset(ds: Dataset, keys: Sequence[str]) -> Dataset:
    pos = {k: i for i, k in enumerate(ds.keys)}
    idx = np.array([pos[k] for k in keys], dtype=np.int64)
    return Dataset(
        keys=list(keys), families=[ds.families[i] for i in idx], X=ds.X[idx],
        feature_names=ds.feature_names, candidates=ds.candidates, costs=ds.costs[idx],
        times=ds.times[idx], labels=ds.labels[idx], hybrid_cost=ds.hybrid_cost[idx],
        rules_cost=ds.rules_cost[idx], rules_choice=[ds.rules_choice[i] for i in idx],
        time_limit=ds.time_limit,
        trivial=None if ds.trivial is None else ds.trivial[idx],
        rules_index=None if ds.rules_index is None else ds.rules_index[idx])
