"""Pure plotting: execution time against n, one panel per family, saved as PNG.

A median over *all* families mixes instances that behave nothing alike (dp's line fell from
9.9 ms at n = 10 to 0.23 ms at n = 50 while no family did that), so each family gets its own
panel: one line per requested algorithm (the same colour in every panel), the median time of
its runs at each n. Under each panel a small axis shows the share of runs proven optimal
(`exact`). A cross marks a point where some run stopped at its time limit or failed (its
median is then partly the limit's, not the algorithm's). The legend sits outside the panels.

Matplotlib is imported with this module (about a second, paid once when the pipeline loads,
not inside a run) and used through its object API (no pyplot global state: thread-safe).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # after choosing the backend
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

LIMIT_MARKER = "X"
"""Marker of a point where a run hit its time limit or failed."""
MAX_COLUMNS = 3


def hit_limit(run: Mapping[str, Any]) -> bool:
    """Whether a run stopped at its time limit (status not exact, reason naming the limit) or
    failed."""
    if run["status"] == "failed":
        return True
    return run["status"] != "exact" and "time limit" in str(run.get("reason") or "").lower()


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def points(results: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, dict[int, dict]]]:
    """family -> requested algorithm -> n -> {median_s, exact_share, limit_hits, runs}.

    The median is over runs that returned an answer (a failed run's time says nothing of the
    algorithm); a point with only failed runs has median None."""
    groups: dict[tuple[str, str, int], list[Mapping[str, Any]]] = {}
    for r in results:
        name = r.get("requested_algorithm") or r["algorithm"]
        groups.setdefault((str(r.get("family") or "all"), name, int(r["n"])), []).append(r)
    out: dict[str, dict[str, dict[int, dict]]] = {}
    for (family, name, n), runs in sorted(groups.items()):
        times = [max(float(r["execution_time"]), 1e-7) for r in runs if r["status"] != "failed"]
        out.setdefault(family, {}).setdefault(name, {})[n] = {
            "median_s": _median(times) if times else None,
            "exact_share": sum(r["status"] == "exact" for r in runs) / len(runs),
            "limit_hits": sum(hit_limit(r) for r in runs), "runs": len(runs)}
    return out


def time_vs_n_figure(results: Iterable[Mapping[str, Any]]) -> Figure:
    """The figure (see the module docstring): for each family a time panel (log-log) over an
    exact-share axis (0-100 %), both sharing n."""
    data = points(results)
    families = sorted(data) or ["(no runs)"]
    algorithms = sorted({a for fam in data.values() for a in fam})
    colours = {a: f"C{i % 10}" for i, a in enumerate(algorithms)}
    cols = min(MAX_COLUMNS, len(families))
    rows = math.ceil(len(families) / cols)
    fig = Figure(figsize=(4.2 * cols + 1.9, 4.0 * rows), dpi=100, layout="constrained")
    grid = fig.add_gridspec(2 * rows, cols, height_ratios=[3, 1] * rows)
    time_axes = []
    for k, family in enumerate(families):
        row, col = divmod(k, cols)
        ax = fig.add_subplot(grid[2 * row, col])
        share_ax = fig.add_subplot(grid[2 * row + 1, col], sharex=ax)
        ax.set_gid(f"time:{family}")
        share_ax.set_gid(f"exact:{family}")
        time_axes.append(ax)
        for name, by_n in sorted(data.get(family, {}).items()):
            ns = sorted(by_n)
            timed = [n for n in ns if by_n[n]["median_s"] is not None]
            ax.plot(timed, [by_n[n]["median_s"] for n in timed], marker="o", markersize=4,
                    color=colours[name], label=name)
            hits = [n for n in timed if by_n[n]["limit_hits"]]
            if hits:
                ax.plot(hits, [by_n[n]["median_s"] for n in hits], linestyle="none",
                        marker=LIMIT_MARKER, markersize=9, color=colours[name],
                        markeredgecolor="black", gid=f"limit:{name}")
            share_ax.plot(ns, [100 * by_n[n]["exact_share"] for n in ns], marker="o",
                          markersize=3, linewidth=1, color=colours[name])
        ax.set_xscale("log")
        ax.set_yscale("log")
        sizes = sorted({n for by_n in data.get(family, {}).values() for n in by_n})
        if sizes:  # the benchmark's sizes as plain numbers, no 2×10^1 minor labels
            share_ax.set_xticks(sizes, [str(n) for n in sizes])
            share_ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(family)
        ax.grid(True, which="both", alpha=0.3)
        ax.tick_params(labelbottom=False)
        share_ax.set_ylim(-5, 105)
        share_ax.set_yticks([0, 50, 100])
        share_ax.grid(True, alpha=0.3)
        share_ax.set_xlabel("n (projects)")
        if col == 0:
            ax.set_ylabel("median time (s)")
            share_ax.set_ylabel("exact %")
    handles = [Line2D([], [], color=colours[a], marker="o", markersize=4, label=a)
               for a in algorithms]
    handles.append(Line2D([], [], linestyle="none", marker=LIMIT_MARKER, markersize=9,
                          color="grey", markeredgecolor="black",
                          label="time limit hit\nor failed run"))
    fig.legend(handles=handles, loc="outside right upper", fontsize=8,
               title="requested algorithm", title_fontsize=8)
    fig.suptitle("Solver time against n, per family (lower panels: share proven optimal)")
    return fig


def plot_time_vs_n(results: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """Save `time_vs_n_figure(results)` as a PNG at `path`; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    time_vs_n_figure(results).savefig(path)
    return path
