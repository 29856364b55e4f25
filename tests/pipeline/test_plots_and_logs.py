"""Benchmark results people read: the plot per family, the flow's INFO lines, one formatting."""

from __future__ import annotations

import re

import pytest
from matplotlib.lines import Line2D

from flows.benchmark import benchmark
from flows.params import BenchmarkParams
from tasks.plotting import LIMIT_MARKER, hit_limit, plot_time_vs_n, time_vs_n_figure
from tasks.summary import fmt_pct, fmt_seconds, skipped_lines, table_row

LIMIT = "time limit reached before all subsets were seen"


def _run(family: str, n: int, alg: str, t: float, status: str = "exact",
         reason: str | None = None) -> dict:
    return {"family": family, "n": n, "requested_algorithm": alg, "algorithm": alg,
            "status": status, "reason": reason, "execution_time": t}


RUNS = [
    # dp is slow on avis and fast on uniform: one median over both would describe neither
    *[_run("avis", n, "dp", 0.01 * n) for n in (10, 20) for _ in range(3)],
    *[_run("uniform", n, "dp", 0.0001) for n in (10, 20) for _ in range(3)],
    # brute force hits its limit on avis n=20 in 2 of 3 runs; greedy never proves
    _run("avis", 20, "brute_force", 1.0, "approximate", LIMIT),
    _run("avis", 20, "brute_force", 1.0, "approximate", LIMIT),
    _run("avis", 20, "brute_force", 0.4),
    _run("avis", 10, "brute_force", 0.001),
    _run("uniform", 10, "greedy", 1e-5, "approximate", "no proof of optimality"),
    _run("uniform", 20, "greedy", 1e-5, "approximate", "no proof of optimality"),
    _run("evenodd", 10, "dp", 0.002, "failed", "boom"),
    _run("evenodd", 10, "dp", 0.003),
]


def _axes(fig) -> dict[str, object]:
    return {ax.get_gid(): ax for ax in fig.axes if ax.get_gid()}


def _line(ax, label: str) -> Line2D:
    return next(line for line in ax.get_lines() if line.get_label() == label)


def test_one_time_panel_and_one_exact_share_axis_per_family() -> None:
    """Each family has its own time panel and exact-share axis; a family's line holds that
    family's medians only."""
    axes = _axes(time_vs_n_figure(RUNS))
    assert set(axes) == {f"{kind}:{fam}" for kind in ("time", "exact")
                         for fam in ("avis", "evenodd", "uniform")}
    assert list(_line(axes["time:avis"], "dp").get_ydata()) == pytest.approx([0.1, 0.2])
    assert list(_line(axes["time:uniform"], "dp").get_ydata()) == pytest.approx([1e-4, 1e-4])
    assert axes["time:avis"].get_title() == "avis"


def test_exact_share_axis_plots_the_share_of_proven_runs() -> None:
    """The small axis shows the percentage of runs with status exact at each n."""
    axes = _axes(time_vs_n_figure(RUNS))
    shares = {tuple(line.get_ydata()) for line in axes["exact:avis"].get_lines()}
    assert (100.0, round(100.0 / 3, 6)) in {tuple(round(v, 6) for v in s) for s in shares}
    greedy = [tuple(line.get_ydata()) for line in axes["exact:uniform"].get_lines()]
    assert (0.0, 0.0) in greedy and (100.0, 100.0) in greedy  # greedy never proves; dp does


def test_limit_hits_and_failures_are_marked_only_where_they_happened() -> None:
    """A cross marks (family, algorithm, n) points where a run hit its time limit or failed;
    greedy's approximate answers (no limit involved) are not marked."""
    axes = _axes(time_vs_n_figure(RUNS))
    marks = {(fam, line.get_gid(), tuple(line.get_xdata()))
             for fam in ("avis", "evenodd", "uniform")
             for line in axes[f"time:{fam}"].get_lines()
             if line.get_marker() == LIMIT_MARKER}
    assert marks == {("avis", "limit:brute_force", (20,)), ("evenodd", "limit:dp", (10,))}
    assert hit_limit(RUNS[-2]) and not hit_limit(_run("u", 1, "greedy", 1, "approximate", "x"))


def test_legend_is_outside_every_panel(tmp_path) -> None:
    """One figure legend (algorithms and the limit marker), drawn outside every axis."""
    fig = time_vs_n_figure(RUNS)
    plot_time_vs_n(RUNS, tmp_path / "p.png")  # also saves
    fig.canvas.draw()
    assert [ax for ax in fig.axes if ax.get_legend() is not None] == []
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[:3] == ["brute_force", "dp", "greedy"] and "time limit" in labels[-1]
    box = legend.get_window_extent()
    assert not any(box.overlaps(ax.get_window_extent()) for ax in fig.axes)
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(("value", "text"), [
    (9.7e-05, "97 µs"), (0.00013, "130 µs"), (0.00023, "230 µs"), (0.0099, "9.9 ms"),
    (1.234, "1.23 s"), (123.4, "123 s"), (0, "0 s"), (None, "–")])
def test_times_have_one_format_with_units(value, text) -> None:
    """Times are written with a unit and three significant digits, never 9.7e-05."""
    assert fmt_seconds(value) == text


def test_shares_are_percentages_with_one_decimal() -> None:
    """An overhead of 0.3831 reads 38.3%; table rows format times and shares the same way."""
    assert fmt_pct(0.3831) == "38.3%" and fmt_pct(None) == "–"
    row = table_row({"n": 10, "exact_pct": 66.7, "time_median_s": 9.7e-05, "exact_rate": 0.5,
                     "accuracy_mean": 0.99871234})
    assert row == {"n": 10, "exact_pct": "66.7%", "time_median_s": "97 µs",
                   "exact_rate": "50.0%", "accuracy_mean": 0.998712}


def test_skipped_pairs_are_grouped_by_reason() -> None:
    """One line per (algorithm, reason) with the count, families and sizes."""
    skipped = [{"algorithm": "brute_force", "family": f, "n": 40,
                "reason": "skipped: brute force refuses n=40 > 24"} for f in ("b", "a")]
    assert skipped_lines(skipped) == [
        "skipped: 2 pairs of brute_force (brute force refuses n=40 > 24; families a, b; "
        "n = 40), never recorded as failures"]


def _flow_logs(flow_run_id: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(
            flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return [log.message for log in logs if log.level == 20]


@pytest.mark.usefixtures("prefect_harness")
def test_benchmark_flow_logs_plan_batches_runs_winners_skips_and_files(sqlite_migrated_url,
                                                                       tmp_path) -> None:
    """The flow's INFO log (Prefect API) names the plan and run counts, each batch, the winner
    of each size, the skipped pairs with their reason, the export path; shares and times are
    written by the one formatting helper."""
    params = BenchmarkParams(database_url=sqlite_migrated_url, data_dir=str(tmp_path),
                             sizes=[8, 30], per_size=1, families=["uniform"],
                             algorithms=["brute_force", "dp", "greedy"], time_limit=2.0,
                             measure_memory=False, batches=2, plot=False)
    out = benchmark(params)
    lines = _flow_logs(out["flow_run_id"])
    text = "\n".join(lines)
    assert ("plan: 2 instances (2 new datasets); 5 runs to solve in 2 batches" in text)
    assert "1 pairs skipped" in text
    assert any(line.startswith("skipped: 1 pairs of brute_force (brute force refuses n=30")
               for line in lines)
    assert sum(line.startswith("batch ") for line in lines) == 2
    assert "runs: 5 solved by this run (exact " in text and "5 runs in the plan" in text
    assert f"orchestration overhead {fmt_pct(out['orchestration_overhead'])}" in text
    assert {line.split(":")[0] for line in lines if line.startswith("winner n=")} == {
        "winner n=8", "winner n=30"}
    assert f"export: 5 runs of the plan written to the runs dataset {out['export_path']}" in text
    assert not re.search(r"\d\.?\d*e-\d", text)  # no 9.7e-05 anywhere (paths may hold "e-0")
