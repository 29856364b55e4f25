"""Per-job orchestration on a Dask cluster: the project's dispatch against plain Dask futures
(and Prefect task runs), and the speed-up of 2 workers over 1, side by side in one run.

Usage::

    python benchmarks/bench_task_overhead.py [--workers 1,2] [--tasks 16] [--seconds 0.2]
        [--repeats 2] [--modes project,plain,prefect-task] [--json] [--profile]

For each N in ``--workers`` a LocalCluster of N single-threaded worker processes (the
benchmark flow's set-up) runs ``--tasks`` CPU-bound jobs of ``--seconds`` each, ``--repeats``
times, in each mode (all clusters start first; worker counts and modes alternate within each
repeat, since the machine's load drifts):

* ``project``: a Prefect flow on ``DaskTaskRunner(address=...)`` dispatching through
  ``tasks.solving.dask_jobs`` on the runner's own client (``tasks.solving.dask_client``): the
  path the benchmark flow's solver batches take;
* ``plain``: ``distributed.Client.submit`` + ``as_completed``, no Prefect (the floor);
* ``prefect-task``: the same jobs as a Prefect task ``.map`` on the DaskTaskRunner (one task
  run per job: what the flow did before).

Per-job orchestration = the mean gap between one process's consecutive jobs (``batch_gaps``;
what the flow reports as ``batch_gap_seconds``) and (dispatch wall × N − the jobs' own wall
spans) / jobs: the worker time per job not spent inside a job (first dispatch and the last
result's return included; a job slowed by other load on the machine is not counted as
orchestration). The speed-up is the best 1-worker dispatch wall over the best 2-worker one.
``--profile``: cProfile around ``prefect.task_engine.run_task_sync`` on one worker over 40
empty task runs, top entries by cumulative time (why a task run costs what it does).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="bench-prefect-home-"))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_pipeline import prefect_server
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed

from tasks.plan import batch_gaps
from tasks.solving import dask_client, dask_jobs


def burn(i: int, seconds: float) -> tuple[int, float, float]:
    """Burn `seconds` of CPU; the process and the job's wall-clock span (epoch seconds)."""
    started, cpu = time.time(), time.process_time()
    while time.process_time() - cpu < seconds:
        pass
    return os.getpid(), started, time.time()


spin = task(burn, name="spin", cache_policy=NO_CACHE)


@flow(name="bench-project-dispatch")
def project_dispatch(n: int, seconds: float) -> tuple[list, float]:
    """The project's path: plain jobs through the DaskTaskRunner's client."""
    client = dask_client()
    assert client is not None, "run with a DaskTaskRunner"
    start = time.perf_counter()
    spans = [out for _, out in dask_jobs(client, burn, list(range(n)), seconds)]
    return spans, time.perf_counter() - start


@flow(name="bench-prefect-tasks")
def prefect_tasks(n: int, seconds: float) -> tuple[list, float]:
    """One Prefect task run per job on the DaskTaskRunner."""
    start = time.perf_counter()
    spans = [f.result() for f in as_completed(spin.map(list(range(n)), seconds))]
    return spans, time.perf_counter() - start


def plain(client, n: int, seconds: float) -> tuple[list, float]:
    """Plain Dask futures, no Prefect."""
    from distributed import as_completed as dask_as_completed

    start = time.perf_counter()
    futures = [client.submit(burn, i, seconds, pure=False) for i in range(n)]
    spans = [f.result() for f in dask_as_completed(futures, loop=client.loop)]
    return spans, time.perf_counter() - start


def _figures(spans: list, wall: float, workers: int, seconds: float) -> dict:
    gaps = batch_gaps(spans)
    return {"wall_s": round(wall, 4),
            "makespan_s": round(max(e for _, _, e in spans) - min(s for _, s, _ in spans), 4),
            "mean_gap_ms": round(1000 * sum(gaps) / len(gaps), 2) if gaps else None,
            "per_job_ms": round(1000 * (wall * workers - sum(e - s for _, s, e in spans))
                                / len(spans), 2),
            "processes": len({p for p, _, _ in spans})}


def _install_profiler() -> bool:
    import builtins
    import cProfile

    import prefect.task_engine as engine

    profiler, original = cProfile.Profile(), engine.run_task_sync

    def profiled(*args, **kwargs):
        profiler.enable()
        try:
            return original(*args, **kwargs)
        finally:
            profiler.disable()

    engine.run_task_sync = profiled
    builtins._bench_task_profiler = profiler
    return True


def _profile_report() -> str:
    import builtins
    import io
    import pstats

    out = io.StringIO()
    pstats.Stats(builtins._bench_task_profiler, stream=out).sort_stats("cumulative").print_stats(25)
    return out.getvalue()


def measure(workers_list: list[int], modes: list[str], n: int, seconds: float,
            repeats: int) -> list[dict]:
    """Every (workers, mode, repeat) row. One cluster per worker count, all started first, so
    worker counts and modes alternate within each repeat (the machine's load drifts)."""
    from contextlib import ExitStack

    from distributed import Client, LocalCluster
    from prefect_dask import DaskTaskRunner

    rows = []
    with ExitStack() as stack:
        setups = {}
        for workers in workers_list:
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=None))
            client = stack.enter_context(Client(cluster, set_as_default=False))
            client.run(__import__, "tasks.solving")  # imports outside the timing
            plain(client, workers, 0.01)  # warm the workers' function cache
            runner = DaskTaskRunner(address=cluster.scheduler_address)
            setups[workers] = (client, {
                "project": project_dispatch.with_options(task_runner=runner),
                "prefect-task": prefect_tasks.with_options(task_runner=runner)})
        for repeat in range(repeats):
            for workers in workers_list:
                client, flows = setups[workers]
                for mode in modes:
                    spans, wall = (plain(client, n, seconds) if mode == "plain"
                                   else flows[mode](n, seconds))
                    row = {"workers": workers, "mode": mode, "repeat": repeat,
                           "load": round(os.getloadavg()[0], 1),
                           **_figures([tuple(s) for s in spans], wall, workers, seconds)}
                    rows.append(row)
                    print(f"[dask] {row}", file=sys.stderr, flush=True)
    return rows


def ratios(rows: list[dict], modes: list[str]) -> dict:
    """Best-of-repeats figures per (mode, workers), the speed-ups and the ratios to plain."""
    best: dict[tuple[str, int], dict] = {}
    for r in rows:
        key = (r["mode"], r["workers"])
        if key not in best or r["wall_s"] < best[key]["wall_s"]:
            best[key] = r
    out: dict = {}
    for mode in modes:
        walls = {w: best[(mode, w)]["wall_s"] for m, w in best if m == mode}
        gaps = [r["mean_gap_ms"] for r in rows if r["mode"] == mode and r["workers"] > 1
                and r["mean_gap_ms"] is not None]
        per_job = [r["per_job_ms"] for r in rows if r["mode"] == mode]
        out[mode] = {"best_wall_s": walls,
                     "speedup_2_over_1": (round(walls[1] / walls[2], 3)
                                          if 1 in walls and 2 in walls else None),
                     "mean_gap_ms_median": (sorted(gaps)[len(gaps) // 2] if gaps else None),
                     "per_job_ms_median": sorted(per_job)[len(per_job) // 2]}
    if "plain" in out:
        for mode in modes:
            base, this = out["plain"], out[mode]
            if base["speedup_2_over_1"] and this["speedup_2_over_1"]:
                this["speedup_vs_plain"] = round(this["speedup_2_over_1"]
                                                 / base["speedup_2_over_1"], 3)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2",
                        type=lambda v: [int(x) for x in v.split(",") if x.strip()])
    parser.add_argument("--modes", default="project,plain,prefect-task",
                        type=lambda v: [x for x in v.split(",") if x.strip()])
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=0.2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    with prefect_server():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from flows._runtime import share_api_with_subprocesses

    share_api_with_subprocesses()
    load_before = os.getloadavg()
    rows = measure(args.workers, args.modes, args.tasks, args.seconds, args.repeats)
    summary = ratios(rows, args.modes)
    report = {"machine": {"cpus": os.cpu_count(), "load_before": load_before,
                          "load_after": os.getloadavg()},
              "jobs": args.tasks, "seconds_per_job": args.seconds, "rows": rows,
              "summary": summary}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"machine: {os.cpu_count()} CPUs, load average before "
              f"{', '.join(f'{x:.1f}' for x in load_before)}, after "
              f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; {args.tasks} jobs of "
              f"{args.seconds:g} s CPU, best of {args.repeats}\n")
        print("| mode | wall 1 worker s | wall 2 workers s | speed-up 2/1 | vs plain | "
              "gap between jobs ms (median) | per-job orchestration ms (median) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for mode, s in summary.items():
            w = s["best_wall_s"]
            print(f"| {mode} | {w.get(1, '–')} | {w.get(2, '–')} | "
                  f"{s['speedup_2_over_1'] or '–'} | {s.get('speedup_vs_plain', '–')} | "
                  f"{s['mean_gap_ms_median'] if s['mean_gap_ms_median'] is not None else '–'} | "
                  f"{s['per_job_ms_median']} |")
        if "plain" in summary and "project" in summary:
            p, q = summary["project"], summary["plain"]
            print(f"\nproject / plain per-job orchestration: "
                  f"{p['per_job_ms_median']:.1f} ms / {q['per_job_ms_median']:.1f} ms")
    if args.profile:
        from distributed import Client, LocalCluster
        from prefect_dask import DaskTaskRunner

        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            with Client(cluster) as client:
                client.run(_install_profiler)
            empty = prefect_tasks.with_options(
                task_runner=DaskTaskRunner(address=cluster.scheduler_address))
            empty(20, 0.0)
            empty(20, 0.0)
            with Client(cluster) as client:
                print("\n" + next(iter(client.run(_profile_report).values())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
