"""One training run, start to finish, as a pure function of the run history (and the clock).

``train_selector(records, time_limit=..., model_dir=...)``: build the dataset, evaluate every
model and baseline on the same repeated stratified folds **and** on leave-one-family-out
folds, keep the LightGBM variant that does better on held-out families, fit it on every row,
save it, measure the re-timing noise floor on a sample of the instances (``ml.noise``), and
decide whether it should become the champion.

The decision uses the held-out-family (LOFO) figures and the noise floor: the model must beat
the rules by more than the relative regret two timings of the same instances show
(``noise_floor["margin"]``), else the rules stay and the decision says so with figures.

Champion vs challenger on the same held-out evaluation: a champion scored on instances it was
trained on would look better than it is, so the comparison uses only the instances whose runs
are newer than the champion's training window (``champion.trained_until``). There the
challenger's score is its out-of-fold cost (mean over the repeats: never a row it trained on)
and the champion's is its choice's cost. No such instance: nothing shows an improvement, the
champion stays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import DEFAULT_CANDIDATES
from .dataset import Dataset, build_dataset
from .evaluate import Evaluation, evaluate
from .history import ALGORITHMS, CANDIDATES, DEFAULT_REPEATS, PORTFOLIO
from .models import MODEL_KINDS, make_model
from .noise import noise_floor, retime, sample_records
from .report import markdown_table, table_rows
from .train import train_and_save

__all__ = [
    "CANDIDATE_SETS",
    "LGBM_KINDS",
    "TrainingOutcome",
    "champion_rows_fn",
    "family_rows",
    "history_algorithms",
    "measure_noise",
    "min_algorithms",
    "oracle_figures",
    "promotion",
    "train_selector",
    "unseen_mask",
]

LGBM_KINDS = ("lgbm_classifier", "lgbm_regression", "lgbm_gated")
SERVED_KIND = "lgbm_gated"
"""The kind registered and served: the cost regression, leaving the rules only inside its trust
region and for a predicted 2× saving (``ml.models.GatedCostRegressor``)."""
USER_FAMILY = "user"
"""The family of replayed user instances (records with ``source == "replay"``)."""
HOLDOUT_SHARE = 0.25
MIN_FUTURE = 4
"""The most recent ``HOLDOUT_SHARE`` of the user's instances (at least ``MIN_FUTURE``; none
with fewer than ``2 × MIN_FUTURE`` user instances) are the time-held-out test set."""
CANDIDATE_SETS: dict[str, tuple[str, ...]] = {
    "base": CANDIDATES,
    "base+hybrid": (*CANDIDATES, "hybrid"),
    "portfolio": PORTFOLIO,  # base + hybrid + the named configurations (solvers.CONFIGURATIONS)
}
_REFUSABLE = ("brute_force", "meet_in_the_middle")  # not run above their size limits


def _check(candidates: str) -> None:
    if candidates not in CANDIDATE_SETS:
        raise ValueError(f"candidates must be one of {', '.join(CANDIDATE_SETS)}, "
                         f"got {candidates!r}")


def history_algorithms(candidates: str = DEFAULT_CANDIDATES) -> tuple[str, ...]:
    """What the covering history must time for ``candidates``: the set plus ``hybrid`` (its
    own baseline), in ``ml.history.PORTFOLIO`` order."""
    _check(candidates)
    wanted = {*CANDIDATE_SETS[candidates], *ALGORITHMS}
    return tuple(a for a in PORTFOLIO if a in wanted)


def min_algorithms(candidates: str = DEFAULT_CANDIDATES) -> int:
    """Distinct algorithms an instance needs in the history to count as a training row for
    ``candidates`` (every one but those that refuse large sizes): 4 for the base sets, 7 for
    the portfolio, so a history timed without the configurations is topped up."""
    algorithms = history_algorithms(candidates)
    return len(algorithms) - sum(a in algorithms for a in _REFUSABLE)


def oracle_figures(ds: Dataset) -> dict[str, Any]:
    """The oracle's view of the dataset: the share of rows each candidate wins (its label),
    and the VBS mean PAR10 of every candidate set contained in ``ds.candidates``."""
    n = max(len(ds), 1)
    wins = {c: float(np.sum(ds.labels == i)) / n for i, c in enumerate(ds.candidates)}
    vbs = {}
    for name, names in CANDIDATE_SETS.items():
        if set(names) <= set(ds.candidates) and len(ds):
            cols = [ds.candidates.index(c) for c in names]
            vbs[name] = float(ds.costs[:, cols].min(axis=1).mean())
    return {"oracle_wins": wins, "vbs_par10_by_candidates": vbs}


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
    lofo: Evaluation | None = None
    runtime: dict[str, Any] | None = None  # the runtime model's artifact (ml.runtime)
    evaluated: Dataset | None = None  # the rows `evaluation`/`lofo` scored (the past)

    def table(self) -> list[dict[str, Any]]:
        return table_rows(self.evaluation, self.lofo)

    def markdown(self) -> str:
        return markdown_table(self.evaluation, self.lofo)


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


def _relative(mine: float, rules: float) -> str:
    """"12.5% faster", "3.0% slower" or "60.0× slower" (a ratio once it is at least 2×)."""
    if rules <= 0 or mine == rules:
        return "no faster"
    if mine < rules:
        return f"{(rules - mine) / rules:.1%} faster"
    ratio = mine / rules
    return f"{ratio:.1f}× slower" if ratio >= 2 else f"{ratio - 1:.1%} slower"


def promotion(mine: float, rules: float, champion: str | None,
              challenger_new: float | None = None, champion_new: float | None = None,
              new_instances: int = 0, margin: float = 0.0, basis: str = "held-out folds"
              ) -> tuple[bool, str]:
    """Promote only a challenger that beats the rules, and the champion on the same instances,
    each by more than ``margin`` (a share: the re-timing noise floor).

    ``mine``, ``rules``: mean held-out PAR10 (``basis`` says which folds). The rule-based auto
    is what consumers run without a champion, so a model that would not make ``auto`` faster by
    more than the noise is registered, not promoted. ``challenger_new``, ``champion_new``: mean
    PAR10 on the ``new_instances`` the champion never saw (None when it cannot be scored).
    """
    gain = (rules - mine) / rules if rules > 0 else 0.0
    noise = f"re-timing noise floor {margin:.1%}"
    if not (mine < rules and gain > margin):
        return False, (f"challenger {mine:.4f} s vs the rule-based auto {rules:.4f} s (mean "
                       f"PAR10 on {basis}): {_relative(mine, rules)}, not a gain above the "
                       f"{noise}; the rules stay")
    if champion is None:
        return True, (f"challenger {mine:.4f} s beats the rule-based auto {rules:.4f} s "
                      f"(mean PAR10 on {basis}) by {gain:.1%} > {noise}, and there is no "
                      "usable champion")
    if challenger_new is None or champion_new is None:
        if new_instances == 0:
            return False, (f"no instance is newer than champion {champion}'s training data: "
                           "nothing to compare on, the champion stays")
        return True, f"champion {champion} picks algorithms without runs here: replaced"
    won = champion_new > 0 and (champion_new - challenger_new) / champion_new > margin
    verb = "beats" if won else "does not beat"
    return won, (
        f"challenger {challenger_new:.4f} s {verb} champion {champion} {champion_new:.4f} s "
        f"by more than the {noise} (mean PAR10 on the {new_instances} instances newer than "
        "the champion's data)")


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
            records: Sequence[Mapping[str, Any]], margin: float) -> tuple[bool, str]:
    basis = ("held-out families (leave-one-family-out)" if ev.protocol == "lofo"
             else "held-out stratified folds (fewer than 2 families: no LOFO)")
    if champion is None:
        return promotion(metrics["selector_par10"], metrics["rules_par10"], None,
                         margin=margin, basis=basis)
    # one entry per dataset row: records the dataset left out (ds.skipped) have no row
    mask = unseen_mask(ds.kept(records), getattr(champion, "trained_until", None))
    metrics["new_instances"] = int(mask.sum())
    fn = champion_rows_fn(champion, ds.pick_names)
    challenger_new = champion_new = None
    if fn is not None and mask.any():
        chosen = ds.gate(np.flatnonzero(mask), fn(ds.X[mask]))  # as served: trivial → rules
        champion_new = float(ds.pick_costs[mask][np.arange(int(mask.sum())), chosen].mean())
        challenger_new = float(ev.oof_cost[kind][:, mask].mean())
        metrics["champion_par10_new"] = champion_new
        metrics["selector_par10_new"] = challenger_new
    return promotion(metrics["selector_par10"], metrics["rules_par10"], champion.name,
                     challenger_new, champion_new, int(mask.sum()), margin=margin, basis=basis)


def _against_champion(ds: Dataset, future: np.ndarray, held: Mapping[str, Any], kind: str,
                      champion: Any, margin: float, text: str, metrics: dict[str, Any]
                      ) -> tuple[bool, str]:
    """Both checks passed: the challenger must also beat the current champion on the user's
    future instances by more than ``margin`` (no usable champion: promoted)."""
    fn = champion_rows_fn(champion, ds.pick_names)
    if champion is None or fn is None:
        return True, text + ("" if champion is None else
                             f"; champion {champion.name} picks outside these candidates")
    rows = np.flatnonzero(future)
    chosen = ds.gate(rows, fn(ds.X[rows]))
    theirs = float(ds.pick_costs[rows][np.arange(len(rows)), chosen].mean())
    mine = float(held["methods"][kind]["par10"])
    metrics["champion_par10_future"] = theirs
    won = theirs > 0 and (theirs - mine) / theirs > margin
    verb = "and beats" if won else "but does not beat"
    return won, (f"{text}; {verb} champion {champion.name} ({theirs:.4f} s) on the user's "
                 f"future by more than the noise floor {margin:.1%}"
                 + ("" if won else ": the champion stays"))


def family_rows(lofo: Evaluation, kind: str) -> list[dict[str, Any]]:
    """Per held-out family: instances and mean PAR10 of the model, the rules, SBS and VBS."""
    by = {(r["fold"], r["method"]): r for r in lofo.fold_rows}
    out = []
    for k, family in enumerate(lofo.fold_names):
        row = {"family": family, "instances": by[(k, "vbs")]["instances"]}
        for m, key in ((kind, "selector_par10"), ("rules", "rules_par10"),
                       ("hybrid", "hybrid_par10"), ("sbs", "sbs_par10"), ("vbs", "vbs_par10")):
            row[key] = by[(k, m)]["par10"]
        row["selector_gap"] = by[(k, kind)]["remaining_gap"]
        row["winner"] = "model" if row["selector_par10"] < row["rules_par10"] else (
            "tie" if row["selector_par10"] == row["rules_par10"] else "rules")
        out.append(row)
    return out


def is_user(record: Mapping[str, Any]) -> bool:
    """A replayed user instance (``source == "replay"``), not a generated one."""
    return record.get("source") == "replay"


def user_time(record: Mapping[str, Any]) -> datetime | None:
    """When the user solved the instance (``user_time``), else its earliest run."""
    when = _as_utc(record.get("user_time"))
    if when is not None:
        return when
    times = [_as_utc(r.get("created_at")) for r in record["runs"]]
    return min((t for t in times if t is not None), default=None)


def time_split(kept: Sequence[Mapping[str, Any]], share: float = HOLDOUT_SHARE,
               minimum: int = MIN_FUTURE) -> tuple[np.ndarray, np.ndarray]:
    """(user, future) boolean masks over ``kept``: the user's rows, and the most recent
    ``share`` of them by ``user_time`` (ties by position; none when too few)."""
    user = np.array([is_user(r) for r in kept], dtype=bool)
    future = np.zeros(len(kept), dtype=bool)
    rows = np.flatnonzero(user)
    if len(rows) < 2 * minimum:
        return user, future
    floor = datetime.min.replace(tzinfo=UTC)
    order = sorted(rows.tolist(), key=lambda i: (user_time(kept[i]) or floor, i))
    count = max(minimum, round(share * len(rows)))
    future[order[-count:]] = True
    return user, future


def _pick_rows(costs: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    return costs[np.arange(len(chosen)), chosen]


def deviations(ds: Dataset, rows: np.ndarray, chosen: np.ndarray) -> list[dict[str, Any]]:
    """Where ``chosen`` (candidate indices for ``rows``) differs from the rules: per (rules'
    choice → model's choice), instances, both mean PAR10s and the seconds saved in total."""
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for row, pick in zip(rows.tolist(), chosen.tolist(), strict=True):
        model = ds.candidates[pick]
        ruled = ds.rules_choice[row]
        if model == ruled:
            continue
        groups.setdefault((ruled, model), []).append(
            (float(ds.rules_cost[row]), float(ds.costs[row, pick])))
    out = []
    for (ruled, model), pairs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        r = np.array(pairs)
        out.append({"rules": ruled, "model": model, "instances": len(pairs),
                    "rules_par10": float(r[:, 0].mean()), "model_par10": float(r[:, 1].mean()),
                    "saved_s": float((r[:, 0] - r[:, 1]).sum()),
                    "better": int((r[:, 1] < r[:, 0]).sum()),
                    "worse": int((r[:, 1] > r[:, 0]).sum())})
    return out


def time_holdout(ds: Dataset, future: np.ndarray, kinds: Sequence[str] = (SERVED_KIND,)
                 ) -> dict[str, Any]:
    """Train on every row but ``future`` (the user's most recent instances), score on them:
    each kind's mean PAR10 next to the rules, hybrid and the oracle, and the served kind's
    deviations from the rules."""
    tr, te = np.flatnonzero(~future), np.flatnonzero(future)
    methods: dict[str, dict[str, float]] = {}
    served = None
    for kind in kinds:
        model = make_model(kind).fit(ds.X[tr], ds.costs[tr], ds.labels[tr])
        if hasattr(model, "predict_gated") and ds.rules_index is not None:
            raw = model.predict_gated(ds.X[te], ds.rules_index[te])
        else:
            raw = model.predict(ds.X[te])
        chosen = ds.gate(te, raw)
        if kind == SERVED_KIND or served is None:
            served = chosen
        picked = _pick_rows(ds.costs[te], chosen)
        methods[kind] = {"par10": float(picked.mean()),
                         "solved_pct": float(100 * np.mean(picked < ds.par10))}
    for name, picked in (("rules", ds.rules_cost[te]), ("hybrid", ds.hybrid_cost[te]),
                         ("vbs", ds.costs[te].min(axis=1))):
        methods[name] = {"par10": float(picked.mean()),
                         "solved_pct": float(100 * np.mean(picked < ds.par10))}
    return {"instances": len(te), "train_rows": len(tr), "methods": methods,
            "deviations": deviations(ds, te, served) if served is not None else []}


def _pct(share: float) -> str:
    """A share as a percentage that stays readable when tiny ("0.0023%")."""
    return f"{share:.1%}" if abs(share) >= 0.001 or share == 0 else f"{share * 100:.2g}%"


def promotion_checks(user_future: Mapping[str, Any] | None, lofo: Mapping[str, Any] | None,
                     kind: str, margin: float) -> tuple[bool | None, str, dict[str, Any]]:
    """The two comparisons of issue 16: on the user's future, the model must beat the rules
    by more than ``margin`` (a share); on the generated families (LOFO), it must not be worse
    than the rules by more than ``margin``. (None, why, figures) when there is no user
    future to test on (the caller then decides on LOFO alone, as before)."""
    figures: dict[str, Any] = {"margin": margin}
    lofo_ok = True
    lofo_text = "no leave-one-family-out figures (fewer than 2 generated families)"
    if lofo is not None:
        mine, rules = lofo["selector_par10"], lofo["rules_par10"]
        loss = (mine - rules) / rules if rules > 0 else 0.0
        lofo_ok = loss <= margin
        figures["generated_lofo"] = {"model_par10": mine, "rules_par10": rules,
                                     "relative_loss": loss, "passed": lofo_ok}
        lofo_text = (f"on the generated families held out one at a time the model is "
                     f"{mine:.4f} s against the rules' {rules:.4f} s ({_relative(mine, rules)}; "
                     f"allowed: at most {_pct(margin)} slower)")
    if not user_future or not user_future.get("instances"):
        return None, "no replayed user instances to hold out by time", figures
    m = user_future["methods"]
    mine, rules = m[kind]["par10"], m["rules"]["par10"]
    gain = (rules - mine) / rules if rules > 0 else 0.0
    user_ok = gain > margin
    figures["user_future"] = {"instances": user_future["instances"], "model_par10": mine,
                              "rules_par10": rules, "vbs_par10": m["vbs"]["par10"],
                              "relative_gain": gain, "passed": user_ok}
    user_text = (f"on the user's {user_future['instances']} most recent instances (trained "
                 f"on the past only) the model is {mine:.4f} s against the rules' {rules:.4f} s "
                 f"({_relative(mine, rules)}; needed: more than {_pct(margin)} faster)")
    if user_ok and lofo_ok:
        return True, f"promoted: {user_text}, and {lofo_text}", figures
    why = "; ".join(t for ok, t in ((user_ok, user_text), (lofo_ok, lofo_text)) if not ok)
    return False, f"the rules stay: {why}", figures


def measure_noise(records: Sequence[Mapping[str, Any]], ds: Dataset, time_limit: float,
                  sample: int, repeats: int, seed: int = 0) -> dict[str, Any]:
    """The noise floor on up to ``sample`` of the dataset's instances, timed once more (half
    of them replayed user instances when there are any)."""
    if sample <= 0:
        return {"instances": 0, "label_agreement": None, "oracle_gap": None,
                "oracle_regret_s": None, "margin": 0.0, "note": "not measured (sample 0)"}
    kept = ds.kept(records)
    users = [r for r in kept if is_user(r)]
    picked = sample_records(users, sample // 2, seed) if users else []
    others = [r for r in kept if not is_user(r)]
    picked += sample_records(others, sample - len(picked), seed)
    algorithms = sorted({r["algorithm"] for rec in picked for r in rec["runs"]})
    again = retime(picked, time_limit, algorithms, repeats)
    return {**noise_floor(picked, again, time_limit, ds.candidates), "repeats": repeats}


def train_selector(records: Iterable[Mapping[str, Any]], *, time_limit: float,
                   model_dir: str | Path, n_splits: int = 5, seeds: Sequence[int] = (0, 1, 2),
                   champion: Any = None, candidates: str = DEFAULT_CANDIDATES,
                   noise_sample: int = 40,
                   timing_repeats: int = DEFAULT_REPEATS, runtime_model: bool = True,
                   feature_names: tuple[str, ...] | None = None) -> TrainingOutcome:
    """Evaluate (CV and LOFO), fit, save; ``champion``: the current champion (a loaded
    ModelSelector).

    ``candidates``: ``"base"`` (hybrid is compared, never chosen), ``"base+hybrid"``
    (hybrid may be chosen too; its column then also enters SBS and VBS) or ``"portfolio"``
    (base, hybrid and the named configurations of ``solvers.CONFIGURATIONS``: the model may
    pick ``"hybrid[exact-first]"``, which ``auto`` runs). The records must hold runs of every
    candidate (``history_algorithms``); records without them are left out (``left_out``).
    ``noise_sample``: instances timed again for the noise floor (0: margin 0, not measured).
    ``runtime_model``: also fit the per-(instance, algorithm) runtime model (``ml.runtime``).
    ``feature_names``: the selector's feature set (default ``ml.features.FEATURE_NAMES``;
    ``FEATURE_NAMES_V1`` measures what the shape features add).
    """
    _check(candidates)
    records = list(records)
    ds = build_dataset(records, time_limit, CANDIDATE_SETS[candidates],
                       **({"feature_names": feature_names} if feature_names else {}))
    kept = ds.kept(records)
    user, future = time_split(kept)
    if user.any():  # replayed user instances are one family of their own
        ds = replace(ds, families=[USER_FAMILY if u else f
                                   for u, f in zip(user.tolist(), ds.families, strict=True)])
    past = np.flatnonzero(~future)
    ds_past = ds.take(past) if future.any() else ds
    user_past = user[past] if future.any() else user
    ev = evaluate(ds_past, MODEL_KINDS, n_splits=n_splits, seeds=seeds)
    generated = set(np.asarray(ds_past.families)[~user_past].tolist())
    lofo = (evaluate(ds_past, MODEL_KINDS, protocol="lofo",
                     always_train=user_past if user_past.any() else None)
            if len(generated) >= 2 else None)
    decisive = lofo if lofo is not None else ev
    kind = SERVED_KIND
    held = time_holdout(ds, future, (SERVED_KIND, "lgbm_regression")) if future.any() else None
    artifact = train_and_save(ds, kind, model_dir)
    artifact["params"]["candidates"] = candidates
    noise = measure_noise(records, ds, time_limit, noise_sample, timing_repeats)
    margin = max(0.0, float(noise.get("margin") or 0.0))
    metrics = headline(decisive, kind)
    metrics["evaluation"] = decisive.protocol
    metrics["cv"] = headline(ev, kind)
    metrics["lofo"] = headline(lofo, kind) if lofo is not None else None
    if lofo is not None:
        metrics["lofo_families"] = family_rows(lofo, kind)
        scored = np.flatnonzero(~user_past)
        metrics["lofo_deviations"] = deviations(ds_past, scored,
                                                lofo.oof_choice[kind][0, scored])
    metrics["user_instances"] = int(user.sum())
    metrics["time_holdout"] = held
    metrics["noise_floor"] = noise
    metrics["promotion_margin"] = margin
    metrics["time_limit"] = time_limit
    metrics["candidates"] = candidates
    metrics["rows"], metrics["left_out"] = len(ds), ds.skipped
    metrics["refused_runs"] = ds.refused  # not run (size refusals), not failures
    metrics.update(oracle_figures(ds))
    verdict, text, figures = promotion_checks(held, metrics["lofo"], kind, margin)
    metrics["promotion_checks"] = figures
    if verdict is None:  # no user future: LOFO against the rules, and the champion (as before)
        promote, decision = _decide(ds_past, decisive, kind, metrics, champion, records,
                                    margin)
    elif not verdict:
        promote, decision = False, text
    else:
        promote, decision = _against_champion(ds, future, held, kind, champion, margin, text,
                                              metrics)
    metrics["decision"] = decision
    runtime = None
    if runtime_model:
        from .runtime import train_runtime

        runtime = train_runtime(records, time_limit, model_dir)
        metrics["runtime_model"] = runtime["metrics"] if runtime else None
    return TrainingOutcome(ds, ev, kind, artifact, metrics, promote, decision, lofo, runtime,
                           ds_past)
