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

__all__ = ["markdown_table", "plot_selector_vs_vbs", "table_rows", "write_metrics_parquet"]

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
