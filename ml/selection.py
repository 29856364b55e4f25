"""One training run, start to finish, as a pure function of the run history.

``train_selector(records, time_limit=..., model_dir=...)``: build the dataset, evaluate every
model and baseline on the same repeated stratified folds, keep the better LightGBM variant,
fit it on every row, save it, and decide whether it should become the champion.

Champion vs challenger on the same held-out evaluation: a champion scored on instances it was
trained on would look better than it is, so the comparison uses only the instances whose runs
are newer than the champion's training window (``champion.trained_until``). There the
challenger's score is its out-of-fold cost (mean over the repeats: never a row it trained on)
and the champion's is its choice's cost. No such instance: nothing shows an improvement, the
champion stays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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
    "unseen_mask",
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


def promotion(mine: float, rules: float, champion: str | None,
              challenger_new: float | None = None, champion_new: float | None = None,
              new_instances: int = 0) -> tuple[bool, str]:
    """Promote only a challenger that beats the rules, and the champion on the same instances.

    ``mine``, ``rules``: mean held-out PAR10 over every fold. The rule-based auto is what
    consumers run without a champion, so a model that would make ``auto`` slower is registered,
    not promoted. ``challenger_new``, ``champion_new``: mean PAR10 on the ``new_instances``
    the champion never saw (None when the champion cannot be scored here).
    """
    if not mine < rules:
        return False, (f"challenger {mine:.4f} s does not beat the rule-based auto "
                       f"{rules:.4f} s (mean PAR10 on the same held-out folds)")
    if champion is None:
        return True, (f"challenger {mine:.4f} s beats the rule-based auto {rules:.4f} s "
                      "and there is no usable champion")
    if challenger_new is None or champion_new is None:
        if new_instances == 0:
            return False, (f"no instance is newer than champion {champion}'s training data: "
                           "nothing to compare on, the champion stays")
        return True, f"champion {champion} picks algorithms without runs here: replaced"
    verb = "beats" if challenger_new < champion_new else "does not beat"
    return verb == "beats", (
        f"challenger {challenger_new:.4f} s {verb} champion {champion} {champion_new:.4f} s "
        f"(mean PAR10 on the {new_instances} instances newer than the champion's data)")


def _as_utc(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def unseen_mask(records: Sequence[Mapping[str, Any]], trained_until: datetime | None
                ) -> np.ndarray:
    """Rows whose every run is newer than ``trained_until`` (rows without times: unknown)."""
    limit = _as_utc(trained_until)
    out = []
    for rec in records:
        times = [_as_utc(r.get("created_at")) for r in rec["runs"]]
        out.append(limit is not None and bool(times) and all(t is not None and t > limit
                                                             for t in times))
    return np.array(out, dtype=bool)


def _decide(ds: Dataset, ev: Evaluation, kind: str, metrics: dict[str, Any], champion: Any,
            records: Sequence[Mapping[str, Any]]) -> tuple[bool, str]:
    if champion is None:
        return promotion(metrics["selector_par10"], metrics["rules_par10"], None)
    # one entry per dataset row: records the dataset left out (ds.skipped) have no row
    mask = unseen_mask(ds.kept(records), getattr(champion, "trained_until", None))
    metrics["new_instances"] = int(mask.sum())
    fn = champion_rows_fn(champion, ds.pick_names)
    challenger_new = champion_new = None
    if fn is not None and mask.any():
        chosen = fn(ds.X[mask])
        champion_new = float(ds.pick_costs[mask][np.arange(int(mask.sum())), chosen].mean())
        challenger_new = float(ev.oof_cost[kind][:, mask].mean())
        metrics["champion_par10_new"] = champion_new
        metrics["selector_par10_new"] = challenger_new
    return promotion(metrics["selector_par10"], metrics["rules_par10"], champion.name,
                     challenger_new, champion_new, int(mask.sum()))


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
    records = list(records)
    ds = build_dataset(records, time_limit, CANDIDATE_SETS[candidates])
    ev = evaluate(ds, MODEL_KINDS, n_splits=n_splits, seeds=seeds)
    kind = ev.best_model(LGBM_KINDS)
    artifact = train_and_save(ds, kind, model_dir)
    artifact["params"]["candidates"] = candidates
    metrics = headline(ev, kind)
    metrics["candidates"] = candidates
    metrics["rows"], metrics["left_out"] = len(ds), ds.skipped
    metrics["refused_runs"] = ds.refused  # not run (size refusals), not failures
    promote, decision = _decide(ds, ev, kind, metrics, champion, records)
    metrics["decision"] = decision
    return TrainingOutcome(ds, ev, kind, artifact, metrics, promote, decision)
