"""One training run, start to finish, as a pure function of the run history.

``train_selector(records, time_limit=..., model_dir=...)``: build the dataset, evaluate every
model and baseline on the same repeated stratified folds (and the current champion, when one
is given, on those same held-out folds), keep the better LightGBM variant, fit it on every
row, save it, and decide whether it should become the champion: only when its held-out mean
PAR10 beats the champion's on the same folds. (The champion may have been trained on some of
these instances, which favours it: promotion errs on the side of keeping it.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import Dataset, build_dataset
from .evaluate import Evaluation, evaluate
from .history import CANDIDATES
from .models import MODEL_KINDS
from .report import markdown_table, table_rows
from .train import train_and_save

__all__ = [
    "CANDIDATE_SETS",
    "LGBM_KINDS",
    "TrainingOutcome",
    "champion_rows_fn",
    "promotion",
    "train_selector",
]

LGBM_KINDS = ("lgbm_classifier", "lgbm_regression")
CANDIDATE_SETS: dict[str, tuple[str, ...]] = {
    "base": CANDIDATES,
    "base+hybrid": (*CANDIDATES, "hybrid"),
}


@dataclass
class TrainingOutcome:
    """What a training run produced; ``summary()`` is plain data for the registry and CLI."""

    dataset: Dataset
    evaluation: Evaluation
    kind: str
    artifact: dict[str, Any]
    metrics: dict[str, Any]
    promote: bool
    decision: str

    def table(self) -> list[dict[str, Any]]:
        return table_rows(self.evaluation)

    def markdown(self) -> str:
        return markdown_table(self.evaluation)


def champion_rows_fn(champion: Any, names: Sequence[str]
                     ) -> Callable[[np.ndarray], np.ndarray] | None:
    """Wrap a loaded champion (``choose_many``) as rows → indices into ``names``, if it can."""
    if champion is None or any(c not in names for c in champion.class_order):
        return None
    index = {name: i for i, name in enumerate(names)}
    return lambda X: np.array([index[c] for c in champion.choose_many(X)], dtype=np.int64)


def headline(ev: Evaluation, kind: str) -> dict[str, Any]:
    """The metrics ``budget train --json`` prints, plus every method's summary."""
    sel, sbs, vbs, rules = (ev.method(m) for m in (kind, "sbs", "vbs", "rules"))
    return {
        "kind": kind,
        "remaining_gap": sel["remaining_gap"],
        "max_fold_gap": sel["max_fold_gap"],
        "folds_worse_than_sbs": sel["folds_worse_than_sbs"],
        "folds": sel["folds"],
        "selector_par10": sel["par10"],
        "sbs_par10": sbs["par10"],
        "vbs_par10": vbs["par10"],
        "rules_par10": rules["par10"],
        "hybrid_par10": ev.method("hybrid")["par10"],
        "solved_pct": sel["solved_pct"],
        "rules_solved_pct": rules["solved_pct"],
        "methods": {row["method"]: {k: row[k] for k in row if k != "method"}
                    for row in ev.summary},
    }


def promotion(metrics: dict[str, Any], ev: Evaluation, champion: Any, comparable: bool
              ) -> tuple[bool, str]:
    """Promote only a challenger that beats the current champion on the same held-out folds.

    The rule-based auto is what consumers run when there is no champion, so the challenger
    must also beat it: a model that would make ``auto`` slower is registered, not promoted.
    """
    mine, rules = metrics["selector_par10"], metrics["rules_par10"]
    if mine >= rules - 1e-12:
        return False, (f"challenger {mine:.4f} s does not beat the rule-based auto "
                       f"{rules:.4f} s (mean PAR10 on the same held-out folds)")
    if champion is None:
        return True, (f"challenger {mine:.4f} s beats the rule-based auto {rules:.4f} s "
                      "and there is no usable champion")
    if not comparable:
        return True, f"champion {champion.name} picks algorithms without runs here: replaced"
    theirs = ev.method("champion")["par10"]
    metrics["champion_par10"] = theirs
    verb = "beats" if mine < theirs - 1e-12 else "does not beat"
    return verb == "beats", (f"challenger {mine:.4f} s {verb} champion {champion.name} "
                             f"{theirs:.4f} s (mean PAR10 on the same held-out folds)")


def train_selector(records: Iterable[Mapping[str, Any]], *, time_limit: float,
                   model_dir: str | Path, n_splits: int = 5, seeds: Sequence[int] = (0, 1, 2),
                   champion: Any = None, candidates: str = "base") -> TrainingOutcome:
    """Evaluate, fit, save; ``champion``: the current champion (a loaded ModelSelector).

    ``candidates``: ``"base"`` (the issue's protocol: hybrid is compared, never chosen) or
    ``"base+hybrid"`` (hybrid may be chosen too; its column then also enters SBS and VBS).
    """
    if candidates not in CANDIDATE_SETS:
        raise ValueError(f"candidates must be one of {', '.join(CANDIDATE_SETS)}, "
                         f"got {candidates!r}")
    ds = build_dataset(records, time_limit, CANDIDATE_SETS[candidates])
    extra = {}
    fn = champion_rows_fn(champion, ds.pick_names)
    if fn is not None:
        extra["champion"] = fn
    ev = evaluate(ds, MODEL_KINDS, n_splits=n_splits, seeds=seeds, extra=extra)
    kind = ev.best_model(LGBM_KINDS)
    artifact = train_and_save(ds, kind, model_dir)
    artifact["params"]["candidates"] = candidates
    metrics = headline(ev, kind)
    metrics["candidates"] = candidates
    promote, decision = promotion(metrics, ev, champion, fn is not None)
    metrics["decision"] = decision
    return TrainingOutcome(ds, ev, kind, artifact, metrics, promote, decision)
