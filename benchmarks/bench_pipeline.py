"""Pipeline figures: orchestration overhead on the `budget benchmark` defaults, and the speed-up
of two Dask worker processes over one on a CPU-bound benchmark.

    python benchmarks/bench_pipeline.py                      # both parts, SQLite + PostgreSQL
    python benchmarks/bench_pipeline.py --only overhead --backends sqlite
    python benchmarks/bench_pipeline.py --only dask --json

Overhead = (flow wall − solver seconds) / flow wall, measured inside the benchmark flow (the
ephemeral Prefect server's start-up is not part of a run and is reported apart). Each backend
starts from an empty database, so every pair is solved. The Dask part starts a LocalCluster of
1 and then 2 single-threaded worker processes (outside the timing), runs the same brute-force
benchmark through `DaskTaskRunner(address=...)` on a fresh database each, and divides walls.
Side by side on the same cluster (alternating) it solves the same instances in the same number
of batches as plain Dask futures (`Client.submit(tasks.plan.solve_batch)`, no Prefect, no
database): the floor. It reports the flow's speed-up (whole flow wall, and the solving phase's
makespan), the plain futures' speed-up, their ratio, and the flow's gap between one process's
batches (the orchestration per job).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="bench-prefect-home-"))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from db.engine import dispose_engines
from db.migrate import upgrade

PG_ADMIN = os.environ.get("TEST_DATABASE_URL",
                          "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
CPU_BOUND = {"sizes": [22, 23], "per_size": 16, "families": ["psix"],
             "algorithms": ["brute_force"], "time_limit": 120.0, "measure_memory": False,
             "export": False, "plot": False}



@contextmanager
def prefect_server() -> Iterator[None]:
    """`PREFECT_API_URL` when set (a running server), else a temporary Prefect server for this
    script (`prefect_test_harness`, public): Dask workers report their runs to it."""
    if os.environ.get("PREFECT_API_URL"):
        yield
        return
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _fresh(backend: str, folder: Path) -> tuple[str, callable]:
    if backend == "sqlite":
        url = f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        upgrade(url, "head")
        return url, lambda: dispose_engines(url)
    name = f"bench_pipeline_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url, "head")

    def drop() -> None:
        dispose_engines(url)
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return url, drop


def overhead(backends: list[str], folder: Path, repeats: int) -> list[dict]:
    from flows.benchmark import benchmark
    from flows.params import BenchmarkParams

    rows = []
    for backend in backends:
        for i in range(repeats):
            url, drop = _fresh(backend, folder)
            try:
                out = benchmark(BenchmarkParams(database_url=url, data_dir=str(folder)))
            finally:
                drop()
            row = {k: out[k] for k in ("instances", "runs", "skipped", "batches",
                                       "wall_seconds", "solver_seconds",
                                       "orchestration_overhead")}
            rows.append({"backend": backend, "repeat": i, **row})
            print(f"[overhead] {backend} #{i}: wall {row['wall_seconds']:.2f} s, solver "
                  f"{row['solver_seconds']:.2f} s, overhead {row['orchestration_overhead']:.1%} "
                  f"({row['runs']} runs in {row['batches']} batches)", file=sys.stderr)
    return rows


def _spin(_: int) -> float:
    start, total = time.perf_counter(), 0
    for i in range(20_000_000):
        total += i
    return time.perf_counter() - start


def parallel_ceiling() -> float:
    """Speed-up of 2 processes over 1 on a pure-Python loop: what this machine allows now
    (2.0 on two idle cores; less when the vCPUs are shared or other jobs run)."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_spin, [0, 1]))  # warm up both processes
        one = min(_spin(0) for _ in range(2))
        start = time.perf_counter()
        list(pool.map(_spin, [0, 1]))
        two = time.perf_counter() - start
    return round(2 * one / two, 3)


def plain_futures(client, batches: int) -> tuple[float, float]:
    """The CPU-bound workload as plain Dask futures: (wall s, mean gap between one process's
    batches s)."""
    from distributed import as_completed

    import solvers
    from tasks import plan

    w = CPU_BOUND
    jobs = [{"dataset_id": i, "budget_id": i, "family": inst["family"], "n": inst["n"],
             "costs": [p["cost"] for p in inst["projects"]], "budget": inst["budget"],
             "algorithms": list(w["algorithms"])}
            for i, inst in enumerate(plan.generate_instances(plan.instance_specs(
                w["families"], w["sizes"], w["per_size"], seed=7)))]
    split = plan.make_batches(jobs, batches)
    start = time.perf_counter()
    futures = [client.submit(plan.solve_batch, b, {}, w["time_limit"], False,
                             limits=solvers.DEFAULT_LIMITS, pure=False) for b in split]
    spans = [(o["pid"], o["started_at"], o["finished_at"])
             for o in (f.result() for f in as_completed(futures))]
    wall = time.perf_counter() - start
    gaps = plan.batch_gaps(spans)
    return wall, (sum(gaps) / len(gaps) if gaps else 0.0)


def dask_speedup(folder: Path, repeats: int, batches: int | None = None) -> dict:
    import importlib

    from distributed import Client, LocalCluster
    from prefect_dask import DaskTaskRunner

    from flows._runtime import share_api_with_subprocesses
    from flows.benchmark import benchmark
    from flows.params import BenchmarkParams
    from tasks import plan

    share_api_with_subprocesses()  # workers report to this process's server, not their own
    walls: dict[int, list[float]] = {}
    makespans: dict[int, list[float]] = {}
    plain: dict[int, list[float]] = {}
    gaps: dict[int, list[float]] = {}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            client = Client(cluster)  # import the task modules once, outside the timing
            client.run(importlib.import_module, "tasks.solving")
            flow = benchmark.with_options(task_runner=DaskTaskRunner(
                address=cluster.scheduler_address))
            for i in range(repeats):
                split = batches or max(4, plan.BATCHES_PER_WORKER * workers)
                wall, gap = plain_futures(client, split)
                plain.setdefault(workers, []).append(wall)
                print(f"[dask] {workers} worker(s) #{i}: plain futures wall {wall:.2f} s, "
                      f"gap between batches {1000 * gap:.1f} ms", file=sys.stderr)
                url, drop = _fresh("sqlite", folder)
                try:
                    start = time.perf_counter()
                    out = flow(BenchmarkParams(database_url=url, data_dir=str(folder),
                                               workers=workers, batches=batches, seed=7,
                                               **CPU_BOUND))
                    outer = time.perf_counter() - start
                finally:
                    drop()
                walls.setdefault(workers, []).append(out["wall_seconds"])
                makespans.setdefault(workers, []).append(out["makespan_seconds"])
                if out["batch_gap_seconds"] is not None:
                    gaps.setdefault(workers, []).append(out["batch_gap_seconds"])
                print(f"[dask] {workers} worker(s) #{i}: flow wall {out['wall_seconds']:.2f} s "
                      f"(call {outer:.2f} s), solver {out['solver_seconds']:.2f} s, "
                      f"{out['runs']} runs, {out['solver_processes']} solver processes, "
                      f"overhead {out['orchestration_overhead']:.1%}, via {out['dispatch']}, "
                      f"makespan {out['makespan_seconds']:.2f} s, gap between batches "
                      f"{out['batch_gap_seconds']}", file=sys.stderr)
            client.close()
    best = {w: min(v) for w, v in walls.items()}
    best_solve = {w: min(v) for w, v in makespans.items()}
    best_plain = {w: min(v) for w, v in plain.items()}
    flow_gaps = sorted(g for v in gaps.values() for g in v)
    plain_speedup = best_plain[1] / best_plain[2]
    return {"workload": CPU_BOUND, "wall_seconds": walls, "makespan_seconds": makespans,
            "plain_futures_wall_seconds": plain,
            "speedup_2_over_1": round(best[1] / best[2], 3),
            "solving_speedup_2_over_1": round(best_solve[1] / best_solve[2], 3),
            "plain_futures_speedup_2_over_1": round(plain_speedup, 3),
            "flow_over_plain_speedup": round(best[1] / best[2] / plain_speedup, 3),
            "flow_batch_gap_ms_median": (round(1000 * flow_gaps[len(flow_gaps) // 2], 1)
                                         if flow_gaps else None),
            "machine_ceiling_2_over_1": parallel_ceiling(),
            "load_average": os.getloadavg()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["overhead", "dask"], default=None)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--batches", type=int, default=None,
                        help="solver batches of the Dask workload (both dispatches, 1 and 2 "
                             "workers); default: the flow's own (tasks.plan.BATCHES_PER_WORKER)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    started = time.perf_counter()
    report: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "platform": platform.platform()}}
    if args.only in (None, "overhead"):
        report["overhead"] = overhead(args.backends.split(","), folder, args.repeats)
    if args.only in (None, "dask"):
        with prefect_server():
            report["dask"] = dask_speedup(folder, args.repeats, args.batches)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(report, default=str))
    else:
        for row in report.get("overhead", []):
            print(f"overhead {row['backend']:8s} {row['orchestration_overhead']:.1%}  "
                  f"(wall {row['wall_seconds']:.1f} s, solver {row['solver_seconds']:.1f} s)")
        if "dask" in report:
            d = report["dask"]
            print(f"dask speed-up, 2 workers over 1: flow {d['speedup_2_over_1']:.2f}x (solving "
                  f"phase {d['solving_speedup_2_over_1']:.2f}x), plain futures "
                  f"{d['plain_futures_speedup_2_over_1']:.2f}x, flow / plain "
                  f"{d['flow_over_plain_speedup']:.2f}; flow's gap between a process's batches "
                  f"{d['flow_batch_gap_ms_median']} ms (machine ceiling now "
                  f"{d['machine_ceiling_2_over_1']:.2f}x, load {d['load_average']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
