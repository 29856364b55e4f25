"""Pure plotting: execution time against n per algorithm, log scale, saved as PNG.

Matplotlib is imported with this module (about a second, paid once when the pipeline loads,
not inside a run) and used through its object API (no pyplot global state: thread-safe).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # after choosing the backend


def plot_time_vs_n(results: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """Median time per (algorithm, n) as one line per requested algorithm; returns the path."""
    series: dict[str, dict[int, list[float]]] = {}
    for r in results:
        if r["status"] == "failed":
            continue
        name = r.get("requested_algorithm") or r["algorithm"]
        series.setdefault(name, {}).setdefault(int(r["n"]), []).append(
            max(float(r["execution_time"]), 1e-7)
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(7, 4.5), dpi=100)
    ax = fig.subplots()
    for name in sorted(series):
        ns = sorted(series[name])
        medians = [sorted(series[name][n])[len(series[name][n]) // 2] for n in ns]
        ax.plot(ns, medians, marker="o", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n (projects)")
    ax.set_ylabel("execution time, median (s)")
    ax.set_title("Solver time against instance size")
    ax.grid(True, which="both", alpha=0.3)
    if series:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return path
