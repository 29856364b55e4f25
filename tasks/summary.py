"""Pure helpers for what a benchmark reports: the table by n, each size's winner, the markdown.

`by_size(runs)` groups a plan's runs (new and already recorded) by (n, requested algorithm);
`fmt_pct` and `fmt_seconds` are the one way shares and times are written (logs, artifacts,
CLI); `plan_lines`, `batch_line`, `result_lines` and `file_lines` are the benchmark flow's INFO
log lines. `winners(rows)` names, for each n, the algorithm that proved the most optima (share of
`exact`), then had the best mean accuracy, then the lowest median time. `summary_markdown`
renders the Prefect markdown artifact: counts (new runs and already recorded ones stated
apart), statuses as a table, the winners, the plot embedded as a PNG data URI (the UI renders
markdown images; a local file link would be dead in the browser) and where the files are.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from ml.serving import describe_actual, describe_forecast
from tasks import plan

MAX_EMBED_BYTES = 1_500_000  # larger plots are named, not embedded


def fmt_pct(share: float | None) -> str:
    """A share (0.172) as a percentage with one decimal ("17.2%"); None as "–". The one way
    percentages are written in logs, artifacts and the CLI."""
    return "–" if share is None else f"{100.0 * share:.1f}%"


def _sig3(value: float) -> str:
    text = f"{value:.3g}"
    return f"{value:.0f}" if "e" in text else text


def fmt_seconds(seconds: float | None) -> str:
    """Seconds with a unit and three significant digits: "97 µs", "230 µs", "9.87 ms",
    "1.23 s", "123 s"; None as "–". The one way times are written in logs,
    artifacts and the CLI (no `9.7e-05` next to `0.00013`)."""
    if seconds is None:
        return "–"
    value = float(seconds)
    if value == 0:
        return "0 s"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if abs(value) >= scale * 0.9995:
            return f"{_sig3(value / scale)} {unit}"
    return f"{_sig3(value / 1e-6)} µs"


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def statuses(runs: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Runs per status, in the order exact, approximate, failed (then any other)."""
    counts: dict[str, int] = {}
    for r in runs:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return statuses_in(counts)


def by_size(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per (n, requested algorithm): runs, exact share, failures, median and max time,
    mean accuracy (total / proven optimum; None when nothing was proven), and `winner`."""
    accuracy = plan.accuracy_by_run(runs)
    groups: dict[tuple[int, str], list[tuple[Mapping[str, Any], float | None]]] = {}
    for r, a in zip(runs, accuracy, strict=True):
        name = r.get("requested_algorithm") or r["algorithm"]
        groups.setdefault((int(r["n"]), name), []).append((r, a))
    rows = []
    for (n, name), members in sorted(groups.items()):
        times = [float(r["execution_time"]) for r, _ in members]
        accs = [a for _, a in members if a is not None]
        rows.append({
            "n": n, "algorithm": name, "runs": len(members),
            "exact_pct": round(100.0 * sum(r["status"] == "exact" for r, _ in members)
                               / len(members), 1),
            "failed": sum(r["status"] == "failed" for r, _ in members),
            "time_median_s": round(_median(times), 6), "time_max_s": round(max(times), 6),
            "accuracy_mean": round(sum(accs) / len(accs), 6) if accs else None,
            "winner": False,
        })
    best = {w["n"]: w["algorithm"] for w in winners(rows)}
    for row in rows:
        row["winner"] = best.get(row["n"]) == row["algorithm"]
    return rows


def winners(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """For each n: the row with the highest exact share, then mean accuracy, then the lowest
    median time."""
    best: dict[int, Mapping[str, Any]] = {}

    def key(r: Mapping[str, Any]) -> tuple:
        return (r["exact_pct"], r["accuracy_mean"] or 0.0, -r["time_median_s"])

    for r in rows:
        if r["n"] not in best or key(r) > key(best[r["n"]]):
            best[r["n"]] = r
    return [{"n": n, "algorithm": r["algorithm"], "exact_pct": r["exact_pct"],
             "time_median_s": r["time_median_s"], "accuracy_mean": r["accuracy_mean"]}
            for n, r in sorted(best.items())]


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value).replace("|", "\\|")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]]


def png_data_uri(png: bytes) -> str:
    """`data:image/png;base64,...` for a markdown image."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def summary_markdown(summary: Mapping[str, Any], skipped: Sequence[Mapping[str, Any]],
                     size_rows: Sequence[Mapping[str, Any]], plot_png: bytes | None) -> str:
    """The benchmark's summary as markdown (see the module docstring)."""
    lines = ["# Benchmark summary", ""]
    lines += _table(["metric", "value"], [
        ("flow run", summary.get("flow_run_id")),
        ("instances", summary.get("instances")),
        ("runs in the plan (recorded)", summary.get("plan_runs")),
        ("… solved by this run", summary.get("runs")),
        ("… already recorded by an earlier run", summary.get("already_recorded")),
        ("pairs skipped (refused by design)", summary.get("skipped")),
        ("wall time", fmt_seconds(summary.get("wall_seconds"))),
        ("solver time", fmt_seconds(summary.get("solver_seconds"))),
        ("orchestration overhead", fmt_pct(summary.get("orchestration_overhead"))),
        ("batches (planned by)", f"{summary.get('batches')} ({summary.get('batch_plan')})"),
        ("batches dispatched via", summary.get("dispatch")),
        ("solving makespan", fmt_seconds(summary.get("makespan_seconds"))),
        ("… lower bound of any schedule", fmt_seconds(summary.get("makespan_lower_bound"))),
        ("… makespan / lower bound", summary.get("makespan_ratio")),
        ("… mean gap between one process's batches",
         fmt_seconds(summary.get("batch_gap_seconds"))),
        ("snapshot rows", summary.get("snapshot_rows")),
    ])
    plan_statuses = summary.get("plan_statuses") or {}
    new_statuses = summary.get("statuses") or {}
    if plan_statuses:
        lines += ["", "## Statuses", ""]
        lines += _table(["status", "runs in the plan", "solved by this run"],
                        [(k, v, new_statuses.get(k, 0)) for k, v in plan_statuses.items()])
    best = winners(size_rows)
    if best:
        lines += ["", "## Winner by size", "",
                  "Most optima proven (share `exact`), then best mean accuracy, then lowest "
                  "median time.", ""]
        lines += _table(["n", "winner", "exact", "median time", "accuracy"],
                        [(w["n"], w["algorithm"], fmt_pct(w["exact_pct"] / 100),
                          fmt_seconds(w["time_median_s"]), w["accuracy_mean"]) for w in best])
    if plot_png and len(plot_png) <= MAX_EMBED_BYTES:
        lines += ["", "## Time against n, per family", "",
                  "One panel per family; under each, the share of runs proven optimal; a cross "
                  "marks a point where a run hit its time limit or failed.", "",
                  f"![median time against n per family and algorithm, log-log]"
                  f"({png_data_uri(plot_png)})"]
    files = []
    if summary.get("export_path"):
        files.append(f"- Parquet runs of this database (every run of the plan; the dataset "
                     f"holds all of this database's runs, partitioned by requested_algorithm): "
                     f"`{summary['export_path']}`, read with "
                     f"`pandas.read_parquet(\"{summary['export_path']}\")`")
    if summary.get("snapshots_path"):
        files.append(f"- Parquet snapshots of this database: `{summary['snapshots_path']}`")
    if summary.get("plot_path"):
        files.append(f"- Plot (PNG): `{summary['plot_path']}`")
    if files:
        lines += ["", "## Files (on the machine that ran the flow)", "", *files]
    if skipped:
        lines += ["", f"Skipped pairs ({len(skipped)}), never recorded as failures; "
                      f"e.g. {skipped[0]['reason']}"]
    return "\n".join(lines)


def table_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A by-size or snapshot row for a table artifact: times (`time_*`) with units, shares
    (`exact_pct`, `exact_rate`) as percentages, other floats to 6 significant digits."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is not None and key.startswith("time_"):
            out[key] = fmt_seconds(value)
        elif value is not None and key == "exact_pct":
            out[key] = fmt_pct(value / 100)
        elif value is not None and key == "exact_rate":
            out[key] = fmt_pct(value)
        elif isinstance(value, float):
            out[key] = float(f"{value:.6g}")
        else:
            out[key] = value
    return out


# --- INFO lines of the benchmark flow's log: one fact a line, grep-able by its first word ---

def plan_lines(instances: int, created: int, work: Mapping[str, Any]) -> list[str]:
    """What the benchmark will do: instances, pairs to solve in how many batches (planned by
    what), pairs already recorded and skipped, then each skip reason with its count."""
    batches = work["batches"]
    pairs = sum(len(job["algorithms"]) for batch in batches for job in batch)
    lines = [f"plan: {instances} instances ({created} new datasets); {pairs} runs to solve in "
             f"{len(batches)} batches (balanced by {work['batch_plan']}); "
             f"{work['already_recorded']} pairs already recorded; "
             f"{len(work['skipped'])} pairs skipped"]
    return lines + skipped_lines(work["skipped"])


def skipped_lines(skipped: Sequence[Mapping[str, Any]], most: int = 12) -> list[str]:
    """One line per (algorithm, reason): how many pairs, which families and sizes (at most
    `most` lines, then how many reasons were left out)."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for s in skipped:
        reason = str(s["reason"]).removeprefix("skipped: ")
        groups.setdefault((s["algorithm"], reason), []).append(s)
    lines = []
    for (algorithm, reason), pairs in sorted(groups.items())[:most]:
        families = ", ".join(sorted({str(p["family"]) for p in pairs}))
        sizes = ", ".join(str(n) for n in sorted({int(p["n"]) for p in pairs}))
        lines.append(f"skipped: {len(pairs)} pairs of {algorithm} ({reason}; families "
                     f"{families}; n = {sizes}), never recorded as failures")
    if len(groups) > most:
        lines.append(f"skipped: {len(groups) - most} more reasons (see the summary artifact)")
    return lines


def batch_line(out: Mapping[str, Any], done: int, total: int) -> str:
    """One finished batch: its index, runs, solving time, process and how it was dispatched."""
    return (f"batch {out['batch'] + 1} of {total} solved and recorded ({done} of {total} "
            f"done): {len(out['results'])} runs in {fmt_seconds(out['solver_seconds'])} on "
            f"process {out['pid']} via {out['via']}")


def result_lines(summary: Mapping[str, Any], size_rows: Sequence[Mapping[str, Any]]
                 ) -> list[str]:
    """Runs (new, by status; in the plan), times and overhead, then the winner of each n."""
    new = ", ".join(f"{k} {v}" for k, v in statuses_in(summary.get("statuses") or {}).items())
    lines = [f"runs: {summary['runs']} solved by this run ({new or 'none'}); "
             f"{summary['plan_runs']} runs in the plan; "
             f"wall {fmt_seconds(summary['wall_seconds'])}, "
             f"solver {fmt_seconds(summary['solver_seconds'])}, orchestration overhead "
             f"{fmt_pct(summary['orchestration_overhead'])}"]
    for w in winners(size_rows):
        accuracy = "–" if w["accuracy_mean"] is None else f"{w['accuracy_mean']:.4f}"
        lines.append(f"winner n={w['n']}: {w['algorithm']} (exact {fmt_pct(w['exact_pct'] / 100)}"
                     f", median {fmt_seconds(w['time_median_s'])}, accuracy {accuracy})")
    return lines


def file_lines(summary: Mapping[str, Any]) -> list[str]:
    """Where the export (runs and snapshots datasets) and the plot were written, or why not."""
    if summary.get("export_path"):
        export = (f"export: {summary['export_rows']} runs of the plan written to the runs "
                  f"dataset {summary['export_path']}; snapshots dataset "
                  f"{summary.get('snapshots_path') or '(none)'}")
    else:
        export = "export: not written (export off, or no runs in the plan)"
    plot = summary.get("plot_path")
    return [export, f"plot: {plot}" if plot else "plot: not drawn (plot off, or no runs)"]


def statuses_in(counts: Mapping[str, int]) -> dict[str, int]:
    """`counts` in the order exact, approximate, failed, then any other."""
    order = ["exact", "approximate", "failed"]
    return {k: counts[k] for k in [*order, *sorted(set(counts) - set(order))] if k in counts}


def _exact(result: Mapping[str, Any], key: str) -> Any:
    return result.get(f"{key}_exact") or result.get(key)


def solve_answer(result: Mapping[str, Any], projects: Sequence[Mapping[str, Any]],
                 run_id: int | None = None) -> dict[str, Any]:
    """What a solve run shows: `rows` (the chosen projects: index, name, cost), `markdown`
    (the answer in a few lines: status, total, budget, upper bound, algorithm) and `line`
    (the same answer on one line, for the run log). Money is the exact decimal text."""
    chosen = [{"index": i, "name": str(projects[i].get("name", f"project-{i}")),
               "cost": str(projects[i]["cost"])} for i in result["selected_indices"]]
    algorithm = result["algorithm"]
    requested = result.get("requested_algorithm")
    how = algorithm
    if requested and requested != algorithm:
        selector = f", selector {result['selector']}" if result.get("selector") else ""
        how = f"{algorithm} (requested {requested}{selector})"
    total, budget, bound = (_exact(result, k) for k in ("total_cost", "budget", "upper_bound"))
    line = (f"answer: {result['status']}: {len(chosen)} of {len(projects)} projects chosen, "
            f"total {total} of budget {budget}, upper bound {bound}, by {how}"
            + (f", run {run_id}" if run_id is not None else ""))
    if result.get("reason"):
        line += f"; {result['reason']}"
    rows = [("total", total), ("budget", budget), ("upper bound", bound),
            ("status", result["status"]), ("algorithm", how), ("run id", run_id)]
    if "forecast" in result or "forecast_note" in result:
        predicted = describe_forecast(result.get("forecast"), result.get("forecast_note"))
        rows += [("forecast", predicted), ("actual", describe_actual(result))]
        line += f"; {predicted}; actual {describe_actual(result)}"
    markdown = "\n".join([
        f"**{result['status']}**: {len(chosen)} of {len(projects)} projects chosen", "",
        *_table(["answer", "value"], rows),
        *(["", f"Note: {result['reason']}"] if result.get("reason") else []),
    ])
    return {"rows": chosen, "markdown": markdown, "line": line}
