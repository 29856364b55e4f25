"""Evaluation outputs: the side-by-side table, a plot, and Parquet rows of the metrics."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .dataset import Dataset
from .evaluate import Evaluation

__all__ = [
    "decision_markdown",
    "markdown_table",
    "plot_selector_vs_vbs",
    "table_rows",
    "write_metrics_parquet",
]

_LABELS = {
    "lgbm_classifier": "LightGBM classifier", "lgbm_regression": "LightGBM cost regression",
    "lgbm_gated": "LightGBM cost regression, gated by the rules and its trust region",
    "logistic_regression": "logistic regression", "decision_tree": "decision tree",
    "rules": "rule-based auto", "hybrid": "hybrid (own runs)", "sbs": "SBS (single best)",
    "vbs": "VBS (oracle)", "champion": "current champion",
}


def _num(x: float, digits: int = 4) -> float | str:
    return "inf" if isinstance(x, float) and math.isinf(x) else round(float(x), digits)


def table_rows(ev: Evaluation, lofo: Evaluation | None = None) -> list[dict[str, Any]]:
    """One row per method: mean PAR10, % solved, remaining gap, worst fold, folds > SBS on the
    stratified folds, and the same on leave-one-family-out folds (``lofo_*``) when given."""
    held = {row["method"]: row for row in lofo.summary} if lofo is not None else {}
    out = []
    for row in ev.summary:
        item = {"method": row["method"], "label": _LABELS.get(row["method"], row["method"]),
                "par10_s": _num(row["par10"]), "solved_pct": _num(row["solved_pct"], 2),
                "remaining_gap": _num(row["remaining_gap"], 3),
                "max_fold_gap": _num(row["max_fold_gap"], 3),
                "folds_worse_than_sbs": f"{row['folds_worse_than_sbs']}/{row['folds']}"}
        h = held.get(row["method"])
        if lofo is not None:
            item.update({
                "lofo_par10_s": _num(h["par10"]) if h else None,
                "lofo_solved_pct": _num(h["solved_pct"], 2) if h else None,
                "lofo_remaining_gap": _num(h["remaining_gap"], 3) if h else None,
                "lofo_max_fold_gap": _num(h["max_fold_gap"], 3) if h else None,
                "lofo_folds_worse_than_sbs":
                    f"{h['folds_worse_than_sbs']}/{h['folds']}" if h else None})
        out.append(item)
    return out


def markdown_table(ev: Evaluation, lofo: Evaluation | None = None) -> str:
    """The table as markdown (docs and the Prefect artifact): stratified CV, then LOFO."""
    if lofo is None:
        head = ("| method | CV mean PAR10 (s) | CV solved % | CV remaining gap | "
                "CV worst fold gap | CV folds worse than SBS |\n|---|---:|---:|---:|---:|---:|")
    else:
        head = ("| method | CV mean PAR10 (s) | CV solved % | CV remaining gap | "
                "CV worst fold gap | CV folds worse than SBS | LOFO mean PAR10 (s) | "
                "LOFO solved % | LOFO remaining gap | LOFO worst family gap | "
                "LOFO families worse than SBS |\n"
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    lines = [head]
    for r in table_rows(ev, lofo):
        line = (f"| {r['label']} | {r['par10_s']} | {r['solved_pct']} | "
                f"{r['remaining_gap']} | {r['max_fold_gap']} | {r['folds_worse_than_sbs']} |")
        if lofo is not None:
            line += (f" {r['lofo_par10_s']} | {r['lofo_solved_pct']} | "
                     f"{r['lofo_remaining_gap']} | {r['lofo_max_fold_gap']} | "
                     f"{r['lofo_folds_worse_than_sbs']} |")
        lines.append(line)
    return "\n".join(lines)


def plot_selector_vs_vbs(ds: Dataset, ev: Evaluation, method: str, path: str | Path) -> Path:
    """Scatter of per-instance held-out cost: ``method`` against the VBS (log-log), PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    vbs = ds.costs.min(axis=1)
    sel = ev.oof_cost[method].mean(axis=0)
    lo = max(min(vbs.min(), sel.min()), 1e-6)
    fig, ax = plt.subplots(figsize=(6, 6), dpi=110)
    families = sorted(set(ds.families))
    fam = np.array(ds.families)
    for f in families:
        mask = fam == f
        ax.scatter(np.maximum(vbs[mask], 1e-6), np.maximum(sel[mask], 1e-6), s=8, alpha=0.6,
                   label=f)
    ax.plot([lo, ds.par10 * 1.2], [lo, ds.par10 * 1.2], color="grey", lw=1)
    ax.axhline(ds.par10, color="red", lw=0.8, ls="--")
    ax.set(xscale="log", yscale="log", xlabel="VBS cost (s)",
           ylabel=f"{_LABELS.get(method, method)} cost (s, held-out, mean over repeats)",
           title=f"Held-out cost per instance (PAR10 line = {ds.par10:g} s)")
    ax.legend(fontsize=7, markerscale=2, loc="upper left")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def write_metrics_parquet(ev: Evaluation, path: str | Path, extra: Mapping[str, Any],
                          lofo: Evaluation | None = None) -> Path:
    """Every fold row (protocol, held-out family, method, seed, fold, PAR10, solved %, gap)
    of the stratified folds and, when given, the leave-one-family-out folds; plus ``extra``."""
    rows: Sequence[dict[str, Any]] = [
        {**r, "protocol": e.protocol} for e in (ev, lofo) if e is not None for r in e.fold_rows]
    table = pa.table({
        "protocol": [r["protocol"] for r in rows],
        "held_out": pa.array([r.get("held_out") for r in rows], pa.string()),
        "method": [r["method"] for r in rows],
        "seed": pa.array([r["seed"] for r in rows], pa.int32()),
        "fold": pa.array([r["fold"] for r in rows], pa.int32()),
        "par10": [r["par10"] for r in rows],
        "solved_pct": [r["solved_pct"] for r in rows],
        "remaining_gap": [None if math.isinf(r["remaining_gap"]) else r["remaining_gap"]
                          for r in rows],
        "worse_than_sbs": [r["worse_than_sbs"] for r in rows],
        **{k: [v] * len(rows) for k, v in extra.items()},
    })
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out)
    return out


def _s(x: Any) -> str:
    return "–" if x is None else f"{float(x):.4f}"


def decision_markdown(metrics: dict[str, Any], promoted: bool, version: int, kind: str,
                      plot_png: bytes | None = None) -> str:
    """The training artifact: the decision in plain words first, then the two promotion
    comparisons (user's future by time, generated families held out one at a time), the
    deviations from the rules with the seconds each saved, what the oracle covers, the plot."""
    checks = metrics.get("promotion_checks") or {}
    margin = float(metrics.get("promotion_margin") or 0.0)
    head = ("**Promoted: `auto` now uses this model.**" if promoted else
            "**Not promoted: `auto` keeps its current choice (the rules, or the champion).**")
    lines = [f"# Selector v{version}: {'promoted' if promoted else 'not promoted'}", "", head,
             "", f"Why: {metrics.get('decision')}", "",
             f"Noise floor (the same instances timed again): {margin:.1%} of the rules' PAR10; "
             f"a comparison inside it is a tie.", "", "## The two comparisons", "",
             "| test set | instances | model PAR10 (s) | rules PAR10 (s) | oracle PAR10 (s) "
             "| verdict |", "|---|---:|---:|---:|---:|---|"]
    fut = checks.get("user_future")
    held = metrics.get("time_holdout") or {}
    if fut:
        lines.append(f"| user's most recent instances (trained on the past) | {fut['instances']} "
                     f"| {_s(fut['model_par10'])} | {_s(fut['rules_par10'])} | "
                     f"{_s(fut['vbs_par10'])} | {'passed' if fut['passed'] else 'failed'}: "
                     f"{fut['relative_gain']:+.1%} vs needed > {margin:.1%} |")
    else:
        lines.append("| user's most recent instances | 0 | – | – | – | no replayed user "
                     "instances yet (`budget replay`) |")
    lofo = checks.get("generated_lofo")
    lofo_m = metrics.get("lofo") or {}
    if lofo:
        lines.append(f"| generated families, each held out | "
                     f"{sum(r['instances'] for r in metrics.get('lofo_families') or [])} | "
                     f"{_s(lofo['model_par10'])} | {_s(lofo['rules_par10'])} | "
                     f"{_s(lofo_m.get('vbs_par10'))} | {'passed' if lofo['passed'] else 'failed'}"
                     f": {lofo['relative_loss']:+.1%} slower vs allowed ≤ {margin:.1%} |")
    lines += ["", "## Where the model leaves the rules, and what it saved", ""]
    for title, devs in (("user's future", held.get("deviations")),
                        ("generated families (LOFO)", metrics.get("lofo_deviations"))):
        if not devs:
            lines.append(f"- {title}: never (it runs the rules' choice everywhere)")
            continue
        lines += [f"**{title}**", "", "| rules' choice | model's choice | instances | better | "
                  "worse | saved in total (s) |", "|---|---|---:|---:|---:|---:|"]
        lines += [f"| {d['rules']} | {d['model']} | {d['instances']} | {d['better']} | "
                  f"{d['worse']} | {d['saved_s']:+.4f} |" for d in devs[:12]]
        lines.append("")
    fams = metrics.get("lofo_families") or []
    if fams:
        lines += ["## Held-out generated families", "", "| family | instances | model | rules "
                  "| oracle | winner |", "|---|---:|---:|---:|---:|---|"]
        lines += [f"| {r['family']} | {r['instances']} | {_s(r['selector_par10'])} | "
                  f"{_s(r['rules_par10'])} | {_s(r['vbs_par10'])} | {r['winner']} |"
                  for r in fams]
    vbs = metrics.get("vbs_par10_by_candidates") or {}
    wins = metrics.get("oracle_wins") or {}
    lines += ["", "## What the oracle covers", "",
              f"The oracle (virtual best) picks, per instance, the fastest of the candidate set "
              f"`{metrics.get('candidates')}` that proved the optimum within the "
              f"{metrics.get('time_limit')} s cutoff (else PAR10). It does not cover anything "
              "outside that set, nor instances no candidate proved.",
              "VBS mean PAR10 by candidate set: " + ", ".join(
                  f"{k} {v:.4f} s" for k, v in vbs.items()),
              "Share of instances each candidate wins: " + ", ".join(
                  f"{k} {v:.0%}" for k, v in sorted(wins.items(), key=lambda kv: -kv[1])
                  if v > 0), "", f"Served kind: {_LABELS.get(kind, kind)}."]
    if plot_png:
        import base64

        lines += ["", "## Held-out cost per instance against the oracle", "",
                  "![held-out cost per instance](data:image/png;base64,"
                  + base64.b64encode(plot_png).decode("ascii") + ")"]
    return "\n".join(lines)
