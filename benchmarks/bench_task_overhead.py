"""What one Prefect task run costs on a Dask worker, apart from its work.

Usage::

    python benchmarks/bench_task_overhead.py [--workers 2,4] [--tasks 16] [--seconds 0.2]
        [--profile]

For each N in ``--workers``: a flow maps ``--tasks`` CPU-bound tasks of ``--seconds`` each on
a LocalCluster of N single-threaded worker processes (the benchmark flow's set-up), twice;
prints the makespan, the ideal makespan (work / N) and the mean and largest gap between one
process's consecutive tasks (what the benchmark flow reports as ``batch_gap_seconds`` and
``BATCH_OVERHEAD_SECONDS`` should match). ``--profile``: cProfile around
``prefect.task_engine.run_task_sync`` on one worker over 40 empty task runs, top entries by
cumulative time.
"""

from __future__ import annotations

import argparse
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

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed

from tasks.plan import batch_gaps


@task(cache_policy=NO_CACHE)
def spin(i: int, seconds: float) -> tuple[int, float, float]:
    """Burn `seconds` of CPU; the process and the task's wall-clock span."""
    started, cpu = time.time(), time.process_time()
    while time.process_time() - cpu < seconds:
        pass
    return os.getpid(), started, time.time()


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="2,4",
                        type=lambda v: [int(x) for x in v.split(",") if x.strip()])
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=0.2)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    from distributed import Client, LocalCluster
    from prefect_dask import DaskTaskRunner

    from flows._runtime import share_api_with_subprocesses

    share_api_with_subprocesses()
    print(f"machine: {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; {args.tasks} tasks of "
          f"{args.seconds:g} s CPU each\n")
    print("| workers | run | makespan s | ideal s | mean gap s | largest gap s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for workers in args.workers:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            @flow(task_runner=DaskTaskRunner(address=cluster.scheduler_address))
            def spin_all(n: int, seconds: float) -> list:
                return [f.result() for f in as_completed(spin.map(list(range(n)), seconds))]

            for run in (1, 2):
                spans = spin_all(args.tasks, args.seconds)
                waits = batch_gaps(spans)
                span = max(e for _, _, e in spans) - min(s for _, s, _ in spans)
                print(f"| {workers} | {run} | {span:.2f} | "
                      f"{args.tasks * args.seconds / workers:.2f} | "
                      f"{sum(waits) / len(waits):.3f} | {max(waits):.3f} |", flush=True)
    if args.profile:
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            with Client(cluster) as client:
                client.run(_install_profiler)

            @flow(task_runner=DaskTaskRunner(address=cluster.scheduler_address))
            def empty(n: int) -> list:
                return [f.result() for f in as_completed(spin.map(list(range(n)), 0.0))]

            empty(20)
            empty(20)
            with Client(cluster) as client:
                print("\n" + next(iter(client.run(_profile_report).values())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
