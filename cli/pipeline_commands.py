"""`budget generate | benchmark | export | replay | serve | demo`: the Prefect pipeline from
the shell.

Each command runs its flow in this process, on the Prefect server `cli.server_commands.
use_server` finds: `PREFECT_API_URL` when set, else the one `budget server start` left running
(about 2 s of Prefect start-up), else a temporary server Prefect starts for this command alone
(15-50 s here; the timeout is raised to 120 s), with a hint on stderr. `DATABASE_URL` points
every command at PostgreSQL (default: the embedded SQLite file). `--json` prints one JSON
object on stdout (logs stay on stderr); on a terminal, long work shows a progress bar.

An expected failure (an unreachable database, bad input, a malformed file) ends a command with
one `error:` line (exit 2). Prefect still logs the failed task and flow runs on stderr, but
without their tracebacks: those records print as their one-line message (the Prefect API still
gets the full record). That, and logs printed above the progress bar, is Prefect's console
handler built from `cli._console.ConsoleHandler`, chosen through Prefect's public logging
override `PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS` before Prefect is first imported.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from contextlib import contextmanager
from typing import Any

# Prefect reads these when first imported, which happens in the handlers below. No telemetry
# and no telemetry notice: the server's analytics are off and the client does not track. The
# console handler is ours (see the module docstring), through Prefect's logging.yml override.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS", "cli._console.ConsoleHandler")

ALL = "all"
MAX_DASK_WORKERS = 64  # local worker processes `--dask-workers` may start


def on_server(handler):
    """Run `handler` on the Prefect server `use_server` finds (decided before Prefect is
    imported); a benchmark on Dask without one gets a server of its own (`temporary_server`),
    since its workers must report to the flow's server."""
    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        from .server_commands import temporary_server, use_server

        if use_server() is None and _wants_dask(args):
            with temporary_server():  # workers must reach the flow's server: one of our own
                return handler(args)
        return handler(args)
    return run


def _wants_dask(args: argparse.Namespace) -> bool:
    """A benchmark on Dask: its worker processes need a Prefect server's URL to report to."""
    if getattr(args, "command", None) != "benchmark":
        return False
    if args.dask_workers or args.dask_address:
        return True
    from config import get_settings

    return bool(get_settings().dask_address)


def _csv_ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers like 10,50,200, got {text!r}") from None


def _csv(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _instances_options(p: argparse.ArgumentParser, sizes: str | None = None) -> None:
    p.add_argument("--sizes", type=_csv_ints, default=None,
                   help=f"comma-separated n, e.g. {sizes or '10,50,200'}")
    p.add_argument("--per-size", type=int, default=None, help="instances per family and size")
    p.add_argument("--families", type=_csv, default=None, help="comma-separated families")
    p.add_argument("--seed", type=int, default=None, help="base seed (default 0)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--data-dir", default=None, help="folder for outputs (default: settings)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the pipeline commands to `subparsers`."""
    g = subparsers.add_parser("generate", help="generate and store seeded datasets")
    _instances_options(g)
    g.add_argument("--no-parquet", action="store_true", help="do not write data/datasets/")
    _common(g)
    g.set_defaults(handler=on_server(handle_generate))

    b = subparsers.add_parser("benchmark", help="benchmark algorithms across sizes (Prefect)")
    _instances_options(b)
    _benchmark_options(b)
    b.add_argument("--dask-address", default=None,
                   help="tcp://HOST:PORT of a Dask scheduler (default: settings.dask_address)")
    b.add_argument("--dask-workers", type=int, default=None,
                   help="start a local Dask cluster with N single-threaded worker processes")
    b.add_argument("--batches", type=int, default=None, help="solver tasks (default 4/worker)")
    b.add_argument("--remeasure", action="store_true",
                   help="run pairs already recorded again (default: add only what is missing)")
    b.add_argument("--no-export", action="store_true", help="skip the Parquet export")
    _common(b)
    b.set_defaults(handler=on_server(handle_benchmark))

    e = subparsers.add_parser("export", help="export runs and snapshots to Parquet")
    e.add_argument("--since-hours", type=float, default=None, help="only the last N hours")
    e.add_argument("--no-snapshots", action="store_true", help="runs only")
    _common(e)
    e.set_defaults(handler=on_server(handle_export))

    r = subparsers.add_parser(
        "replay", help="re-run recently solved user instances across the candidate set")
    r.add_argument("--time-budget", type=float, default=None,
                   help="seconds of solving this run may spend (default 1800)")
    r.add_argument("--since-days", type=float, default=None,
                   help="only instances users solved in the last N days (default 30)")
    r.add_argument("--limit", type=int, default=None,
                   help="most user instances considered (default 1000)")
    r.add_argument("--candidates", default=None,
                   help="base, base+hybrid or portfolio (default portfolio)")
    r.add_argument("--time-limit", type=float, default=None,
                   help="CPU seconds per solve, the PAR10 cutoff (default 2)")
    r.add_argument("--repeats", type=int, default=None,
                   help="timed runs per instance and algorithm, median taken (default 3)")
    _common(r)
    r.set_defaults(handler=on_server(handle_replay))

    s = subparsers.add_parser("serve", help="serve the deployments on PREFECT_API_URL")
    s.add_argument("--keep-schedules", action="store_true",
                   help="leave schedules active when serve stops (default: pause them)")
    s.add_argument("--limit", type=int, default=None, help="most flow runs at once")
    s.add_argument("--nightly-cron", default=None, help="benchmark/nightly cron (0 2 * * *)")
    s.add_argument("--daily-cron", default=None, help="export-metrics/daily cron (30 3 * * *)")
    s.add_argument("--replay-cron", default=None, help="replay/nightly cron (30 0 * * *)")
    s.add_argument("--list", action="store_true", help="print the deployments and exit")
    s.add_argument("--json", action="store_true", help="with --list: one JSON object")
    s.set_defaults(handler=handle_serve)

    d = subparsers.add_parser("demo", help="generate → benchmark → snapshot → export, small")
    _instances_options(d, sizes="10,30,100")
    _benchmark_options(d)
    _common(d)
    d.set_defaults(handler=on_server(handle_demo))


def _benchmark_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--algorithms", type=_csv, default=None,
                   help="comma-separated algorithms, or 'all' (default)")
    p.add_argument("--time-limit", type=float, default=None, help="seconds per solve (> 0)")
    p.add_argument("--no-memory", action="store_true", help="skip the traced memory pass")


def _given(args: argparse.Namespace, **names: str) -> dict[str, Any]:
    """Parameter fields from the options the user gave (others keep the model defaults)."""
    out = {}
    for field, attr in names.items():
        value = getattr(args, attr, None)
        if value is not None:
            out[field] = value
    return out


def _instance_fields(args: argparse.Namespace) -> dict[str, Any]:
    fields = _given(args, sizes="sizes", per_size="per_size", families="families", seed="seed",
                    data_dir="data_dir")
    algorithms = getattr(args, "algorithms", None)
    if algorithms and algorithms != [ALL]:
        fields["algorithms"] = algorithms
    fields.update(_given(args, time_limit="time_limit"))
    if getattr(args, "no_memory", False):
        fields["measure_memory"] = False
    return fields


def _params(model: type, fields: dict[str, Any]):
    """Build flow parameters; a bad value is one `error:` line naming the field (exit 2)."""
    from pydantic import ValidationError

    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "parameters"
        raise ValueError(f"{where}: {first['msg']} (got {first.get('input')!r})") from None


def _emit(args: argparse.Namespace, doc: dict[str, Any], human) -> int:
    if args.json:
        print(json.dumps(doc, default=str))
    else:
        human(doc)
    return 0


def _check_database() -> None:
    """Before Prefect starts (15-50 s for an ephemeral server): an unusable DATABASE_URL or a
    schema revision this code does not know ends the command at once (`db.errors` errors,
    reported by `cli.main` in one line). An unreachable server, or a connection lost during
    the check, is left to the flow, whose tasks retry and report it."""
    from db.engine import DatabaseURLError
    from db.errors import DatabaseUnavailableError
    from tasks._io import is_connection_loss

    from ._errors import check_known_revision

    try:
        check_known_revision()
    except DatabaseURLError:
        raise
    except DatabaseUnavailableError:
        return
    except Exception as exc:  # a connection lost during the check: also the flow's to retry
        if is_connection_loss(exc):
            return
        raise


def _hint_temporary_server() -> None:
    """Say on stderr when Prefect is about to start a temporary server, and how to avoid it."""
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():  # neither the environment nor the active Prefect profile
        print("note: no Prefect server is running, so Prefect starts a temporary one for this "
              "command (15-50 s); `budget server start` keeps one running for every command",
              file=sys.stderr, flush=True)


def _run(flow_call, args: argparse.Namespace | None = None):
    """Run a flow. A database that cannot be reached, or whose connections are lost (killed,
    restarted) after the tasks' retries, or any other `db.errors.DatabaseError` (a schema
    revision this code does not know, ...) becomes one `error:` line on stderr and exit 2; with
    `--json` stdout also gets one JSON object `{"error": {...}}`. Prefect's console logs of
    expected errors carry no traceback (`cli._console.ConsoleHandler`)."""
    from db.errors import DatabaseError
    from tasks._io import is_connection_loss, lost_connection_error

    from ._errors import report

    _check_database()
    _hint_temporary_server()
    try:
        try:
            return flow_call()
        except Exception as exc:
            if is_connection_loss(exc):  # from code outside the tasks' own sessions
                raise lost_connection_error(None, exc) from None
            raise
    except DatabaseError as exc:
        raise SystemExit(report(args, exc)) from None


def _progress_bar(args: argparse.Namespace):
    """A rich progress bar fed by the flow's batch progress, on a terminal without --json.
    Prefect's console logs print above the bar while it is shown (`cli._console.above`; only
    when Prefect's console handler is ours, i.e. PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS was not
    set otherwise)."""
    from contextlib import nullcontext

    if args.json or not sys.stdout.isatty():
        return nullcontext()
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tasks.artifacts import add_progress_listener, remove_progress_listener

    from ._console import above

    @contextmanager
    def bar():
        with Progress(TextColumn("solver batches"), BarColumn(), TextColumn("{task.fields[n]}"),
                      TimeElapsedColumn(), transient=False) as progress, \
                above(progress.console):
            task_id = progress.add_task("batches", total=None, n="starting")

            def listener(done: int, total: int) -> None:
                progress.update(task_id, completed=done, total=total, n=f"{done}/{total}")

            add_progress_listener(listener)
            try:
                yield
            finally:
                remove_progress_listener(listener)

    return bar()


# ------------------------------------------------------------------ handlers


def handle_generate(args: argparse.Namespace) -> int:
    """`budget generate`."""
    from flows.params import GenerateParams

    fields = _given(args, sizes="sizes", per_size="per_size", families="families", seed="seed",
                    data_dir="data_dir")
    if args.no_parquet:
        fields["write_parquet"] = False
    params = _params(GenerateParams, fields)
    from flows.generate import generate_datasets

    out = _run(lambda: generate_datasets(params), args)
    return _emit(args, out, lambda d: print(
        f"{d['datasets']} datasets ({d['created']} new), seed {d['seed']}; "
        f"Parquet: {d['datasets_dir'] or 'not written'}"))


def _runner(args: argparse.Namespace):
    """The solver task runner: Dask (an address, or N local workers) or the default threads."""
    from config import get_settings

    address = args.dask_address or get_settings().dask_address
    if args.dask_workers is not None and not 1 <= args.dask_workers <= MAX_DASK_WORKERS:
        raise ValueError(f"--dask-workers: must be in [1, {MAX_DASK_WORKERS}] "
                         f"(got {args.dask_workers})")
    if not address and not args.dask_workers:
        return None, 1
    from prefect_dask import DaskTaskRunner

    from flows._runtime import share_api_with_subprocesses

    # `on_server` has set PREFECT_API_URL (a running server, or one of this command's own):
    # workers report to it instead of starting their own.
    share_api_with_subprocesses()
    if address:
        if not address.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
            raise ValueError(f"--dask-address: expected tcp://HOST:PORT (got {address!r})")
        from distributed import Client

        with Client(address, timeout=10) as client:
            workers = max(1, len(client.scheduler_info().get("workers", {})))
        return DaskTaskRunner(address=address), workers
    kwargs = {"n_workers": args.dask_workers, "threads_per_worker": 1, "processes": True,
              "dashboard_address": None}
    return DaskTaskRunner(cluster_kwargs=kwargs), args.dask_workers


def _print_benchmark(d: dict[str, Any]) -> None:
    """The plan's runs by n and algorithm (each size's winner starred), then the counts; shares
    and times written by `tasks.summary.fmt_pct`/`fmt_seconds` (as in the flow's log)."""
    from rich.console import Console
    from rich.table import Table

    from tasks.summary import fmt_pct, fmt_seconds

    console = Console()
    table = Table(title=f"benchmark {d['flow_run_id']} (★ winner of its size)")
    for col in ("n", "algorithm", "runs", "exact", "failed", "median time", "accuracy"):
        table.add_column(col, justify="left" if col == "algorithm" else "right")
    for r in d.get("by_size", []):
        acc = r["accuracy_mean"]
        table.add_row(str(r["n"]), ("★ " if r["winner"] else "  ") + r["algorithm"],
                      str(r["runs"]), fmt_pct(r["exact_pct"] / 100), str(r["failed"]),
                      fmt_seconds(r["time_median_s"]), "-" if acc is None else f"{acc:.4f}")
    console.print(table)
    console.print(
        f"{d['instances']} instances; {d.get('plan_runs', d['runs'])} runs in the plan: "
        f"{d['runs']} new, {d['already_recorded']} already recorded; {d['skipped']} pairs "
        f"skipped; wall {fmt_seconds(d['wall_seconds'])}, solver "
        f"{fmt_seconds(d['solver_seconds'])}, orchestration overhead "
        f"{fmt_pct(d['orchestration_overhead'])}", highlight=False)
    if d.get("makespan_ratio") is not None:
        console.print(
            f"{d['batches']} batches planned by {d['batch_plan']}"
            + (f", dispatched via {d['dispatch']}" if d.get("dispatch") else "")
            + f"; solving took {fmt_seconds(d['makespan_seconds'])} on "
            f"{d.get('solver_processes', 1)} process(es), {d['makespan_ratio']:.2f}x the lower "
            f"bound {fmt_seconds(d['makespan_lower_bound'])} of any schedule"
            + ("" if d.get("batch_gap_seconds") is None else
               f"; {fmt_seconds(d['batch_gap_seconds'])} between a process's batches "
               "(orchestration)"), highlight=False)
    console.print(f"export: {d['export_path']}\nplot:   {d['plot_path']}", highlight=False)


def _benchmark_doc(out: dict[str, Any], started: float) -> dict[str, Any]:
    return {**out, "command_seconds": round(time.perf_counter() - started, 3)}


def handle_benchmark(args: argparse.Namespace) -> int:
    """`budget benchmark`."""
    from flows.params import BenchmarkParams

    started = time.perf_counter()
    runner, workers = _runner(args)
    fields = _instance_fields(args) | _given(args, batches="batches")
    fields.update(workers=workers, remeasure=args.remeasure, export=not args.no_export)
    params = _params(BenchmarkParams, fields)
    from flows.benchmark import benchmark

    flow = benchmark if runner is None else benchmark.with_options(task_runner=runner)
    with _progress_bar(args):
        out = _run(lambda: flow(params), args)
    return _emit(args, _benchmark_doc(out, started), _print_benchmark)


def handle_export(args: argparse.Namespace) -> int:
    """`budget export`."""
    from flows.params import ExportParams

    fields = _given(args, since_hours="since_hours", data_dir="data_dir")
    fields["include_snapshots"] = not args.no_snapshots
    params = _params(ExportParams, fields)
    from flows.export import export_metrics

    out = _run(lambda: export_metrics(params), args)
    return _emit(args, out, lambda d: print(
        f"{d['runs']} runs → {d['runs_path']}\n{d['snapshots']} snapshot rows → "
        f"{d['snapshots_path']}"))


def handle_replay(args: argparse.Namespace) -> int:
    """`budget replay`: the `replay` flow in this process."""
    from flows.params import ReplayParams

    fields = _given(args, time_budget="time_budget", since_days="since_days", limit="limit",
                    candidates="candidates", time_limit="time_limit",
                    timing_repeats="repeats", data_dir="data_dir")
    params = _params(ReplayParams, fields)
    from flows.replay import replay
    from tasks.replay import summary_line

    with _progress_bar(args):
        out = _run(lambda: replay(params), args)
    return _emit(args, out, lambda d: print(summary_line(d)))


def handle_demo(args: argparse.Namespace) -> int:
    """`budget demo`: the Quickstart's main job."""
    from flows.params import DemoParams

    started = time.perf_counter()
    params = _params(DemoParams, _instance_fields(args))
    from flows.demo import demo

    with _progress_bar(args):
        out = _run(lambda: demo(params), args)
    bench = _benchmark_doc(out["benchmark"], started)
    doc = {**out, "benchmark": bench}

    def human(d: dict[str, Any]) -> None:
        _print_benchmark(bench)
        g, e = d["generate"], d["export"]
        print(f"datasets: {g['datasets']} ({g['created']} new) → {g['datasets_dir']}")
        print(f"metrics export: {e['runs']} runs → {e['runs_path']}; {e['snapshots']} snapshot "
              f"rows → {e['snapshots_path']}")
        print(f"logs: {(params.data_dir or _data_dir())}/logs/pipeline.jsonl")
        if "train" in d:
            t, m, r = d["train"], d["train"]["metrics"], d["solve"]
            print(f"selector: model v{t['model_version']} ({m.get('kind')}) trained on "
                  f"{t['instances']} instances; remaining gap {m['remaining_gap']:.3f}, PAR10 "
                  f"{m['selector_par10']:.4f} s vs rules {m['rules_par10']:.4f} s; "
                  f"{'promoted to champion' if t['promoted'] else 'not promoted'}: "
                  f"{t['decision']}")
            print(f"solve: example portfolio → {r['status']} total {r['total_cost']} "
                  f"of {r['budget']} by {r['algorithm']} (chosen by {r.get('selector')}), "
                  f"run {r['run_id']}")
            if d.get("solved_with"):
                print(d["solved_with"])

    return _emit(args, doc, human)


def _data_dir() -> str:
    from config import get_settings

    return str(get_settings().data_dir)


def handle_serve(args: argparse.Namespace) -> int:
    """`budget serve`: register the deployments on PREFECT_API_URL (or the server `budget
    server start` runs) and run them until stopped."""
    if not args.list:
        from .server_commands import use_server

        use_server()  # before Prefect is imported
    from flows import deployments as dep

    kwargs = _given(args, nightly_cron="nightly_cron", daily_cron="daily_cron",
                    replay_cron="replay_cron")
    built = dep.build_deployments(**kwargs)
    names = [f"{d.flow_name}/{d.name}" for d in built]
    if args.list:
        return _emit(args, {"deployments": names, "train_included": dep.train_flow() is not None},
                     lambda d: print("\n".join(d["deployments"])))
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():  # from the environment or the active Prefect profile
        from ._errors import CommandError

        raise CommandError("budget serve needs a running Prefect server: `budget server start` "
                           "(or set PREFECT_API_URL, e.g. http://127.0.0.1:4200/api)",
                           kind="NoServer")
    dep.serve_all(built, keep_schedules=args.keep_schedules, limit=args.limit)
    return 0
