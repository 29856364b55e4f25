"""Makespan of a benchmark plan on held-out families: the size proxy vs the runtime model.

Usage::

    python benchmarks/bench_plan.py [--url DATABASE_URL] [--held-out pthree,somatoth,avis,evenodd]
        [--plans 8] [--instances 32] [--workers 4] [--time-limit 1.0] [--train 150]
        [--dask] [--dask-workers 4,2]

1. A runtime model: the one registered at ``--url`` (``budget train`` registers it), or, without
   one, a fresh model trained on a covering history of every family **except** the held-out
   ones (``--train`` instances, CPU time, one timing each).
2. **Simulation.** ``--plans`` random plans of ``--instances`` instances drawn from the held-out
   families (sizes 10 to 2,000), each job = every algorithm that does not refuse the instance,
   each within ``--time-limit``. Every job is timed once (CPU seconds): the "true" durations.
   Each plan is split by ``tasks.plan.make_batches`` (LPT) once by the proxy (n + 10) ×
   algorithms and once by the model's predicted seconds (with its verification probes), into
   one batch per worker, into 4 batches per worker and (model only) into the count
   ``tasks.plan.batch_count`` chooses for ``--overhead`` seconds per batch (what the flow
   does), handed to the first free worker in plan order (``tasks.plan.dispatch_makespan``:
   how Dask's queue hands out batches); every batch costs ``--overhead`` seconds. Makespans
   are divided by two lower bounds on **any** schedule of the true durations: the simple
   max(total / workers, longest job) and ``tasks.plan.makespan_lower_bound`` (adds the
   pigeonhole terms: 5 one-second jobs on 4 workers take 2 s). Planning seconds (features,
   model, probes) are reported apart.
3. **Real Dask run** (``--dask``): the ``benchmark`` flow itself on a LocalCluster of N
   single-threaded worker processes, for each N in ``--dask-workers``, on the held-out
   families (``--instances`` instances: sizes × per_size), twice on fresh SQLite databases:
   one where the fresh runtime model is registered (batches planned by it) and one without
   (size proxy). The flow's own summary gives the solving makespan (first batch start to last
   batch end, wall) over the lower bound of the jobs' measured wall seconds.

4. **Forecasts**: ``ml.serving.forecast`` of ``auto`` on the simulation's instances against the
   real ``auto`` solve: how often "expected proven" is right, and the time error.

Prints markdown tables and the mean/worst ratios (target: ≤ 1.3× with the model).
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="bench-prefect-home-"))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import solvers  # noqa: E402
from ml.history import plan_instances, refusal, run_history  # noqa: E402
from ml.runtime import train_runtime  # noqa: E402
from ml.serving import load_runtime, runtime_model  # noqa: E402
from solvers.instances import FAMILIES, generate  # noqa: E402
from tasks import plan  # noqa: E402

ALGORITHMS = ("brute_force", "dp", "backtracking", "greedy", "meet_in_the_middle", "hybrid")
DEFAULT_HELD_OUT = ("pthree", "somatoth", "avis", "evenodd")


def _fresh_model(held_out: tuple[str, ...], count: int, time_limit: float, tmp: Path):
    families = tuple(f for f in FAMILIES if f not in held_out)
    started = time.perf_counter()
    records = list(run_history(plan_instances(count, seed=7, families=families, max_n=2000),
                               time_limit, ALGORITHMS, repeats=1))
    art = train_runtime(records, time_limit, tmp, evaluate=False)
    model = load_runtime({"name": "fresh-runtime", "version": 0, **art})
    print(f"runtime model: fresh, trained on {len(records)} instances of {', '.join(families)} "
          f"({art['params']['rows']} runs, {time.perf_counter() - started:.0f} s)")
    return model, art


def _plan_instances(held_out: tuple[str, ...], count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        family = held_out[i % len(held_out)]
        n = rng.choice([10, 20, 30, 50, 100, 200, 500, 1000, 2000])
        if family == "todd":
            n = min(n, 30)
        inst = generate(family, n, seed * 1000 + i)
        out.append({"dataset_id": i, "budget_id": i, "family": family, "n": inst.n,
                    "costs": inst.projects(), "budget": inst.budget})
    return out


def _true_seconds(jobs: list[dict], time_limit: float) -> dict[int, float]:
    """CPU seconds of every job (all its algorithms), each solve timed once."""
    out = {}
    for job in jobs:
        total = 0.0
        for algorithm in job["algorithms"]:
            start = time.process_time()
            solvers.solve(job["costs"], job["budget"], algorithm=algorithm,
                          time_limit=time_limit, measure_memory=False)
            total += time.process_time() - start
        out[job["dataset_id"]] = total
    return out


def simulate(model, args, held_out: tuple[str, ...]) -> None:
    limits = solvers.DEFAULT_LIMITS
    w = args.workers
    print(f"\n{args.plans} plans of {args.instances} instances of {', '.join(held_out)} "
          f"(held out), {w} workers, {args.time_limit:g} s per solve; makespan / lower bound "
          "(simple: max(total / workers, longest job); tight: tasks.plan.makespan_lower_bound):"
          "\n")
    o = args.overhead
    print(f"Every batch costs {o:g} s of orchestration on top of its jobs (--overhead; the "
          "flow's batch_gap_seconds measures it). 'chosen': tasks.plan.batch_count picks 1-4 "
          "batches per worker for that overhead.\n")
    cols = [("p1", "proxy, 1 batch/worker"), ("m1", "model, 1 batch/worker"),
            ("p4", "proxy, 4 batches/worker"), ("m4", "model, 4 batches/worker"),
            ("mc", "model, chosen batches/worker")]
    print("| plan | total CPU s | simple bound s | tight bound s | planning s | "
          + " | ".join(f"{name} (tight)" for _, name in cols)
          + " | chosen/worker | model, chosen, planning included (tight) "
          "| model, chosen (simple) |")
    print("|---:" * (8 + len(cols)) + "|")
    ratios: dict[str, list[float]] = {k: [] for k, _ in cols}
    ratios["mcp"], ratios["mcs"] = [], []
    for p in range(args.plans):
        datasets = _plan_instances(held_out, args.instances, seed=100 + p)
        jobs = []
        for ds in datasets:
            n_fit = int(solvers.features(ds["costs"], ds["budget"])["n_fit"])
            algos = [a for a in ALGORITHMS if not refusal(a, n_fit, limits)]
            jobs.append({**ds, "algorithms": algos})
        true = _true_seconds(jobs, args.time_limit)
        seconds = lambda job, true=true: true[job["dataset_id"]]  # noqa: E731
        total = sum(true.values())
        simple = max(total / w, max(true.values()))
        tight = plan.makespan_lower_bound(true.values(), w)
        row, chosen = {}, 0
        for key, n_batches, workers in (("1", w, None), ("4", 4 * w, None), ("c", 4 * w, w)):
            by_proxy = plan.make_batches(jobs, n_batches) if workers is None else None
            started = time.perf_counter()
            by_model = plan.make_batches(jobs, n_batches, predict_seconds=model,
                                         default_time_limit=args.time_limit, workers=workers,
                                         overhead_seconds=o)
            planning = time.perf_counter() - started
            for tag, batches in (("p", by_proxy), ("m", by_model)):
                if batches is None:
                    continue
                span = plan.dispatch_makespan(
                    [sum(seconds(j) for j in b) + o for b in batches], w)
                row[tag + key] = span / tight
                if tag + key == "mc":
                    chosen = len(batches) / w
                    row["mcs"] = span / simple
                    row["mcp"] = (span + planning) / tight
        for k, v in row.items():
            ratios[k].append(v)
        print(f"| {p + 1} | {total:.2f} | {simple:.2f} | {tight:.2f} | {planning:.2f} | "
              + " | ".join(f"{row[k]:.2f}×" for k, _ in cols)
              + f" | {chosen:g} | {row['mcp']:.2f}× | {row['mcs']:.2f}× |")
    for label, fn in (("mean", statistics.mean), ("worst", max)):
        print(f"| {label} | | | | | " + " | ".join(f"{fn(ratios[k]):.2f}×" for k, _ in cols)
              + f" | | {fn(ratios['mcp']):.2f}× | {fn(ratios['mcs']):.2f}× |")


def forecasts(model, args, held_out: tuple[str, ...]) -> None:
    """``ml.serving.forecast`` for ``auto`` against the real ``auto`` solve on held-out
    instances: is "expected proven" right, and how far is the predicted time off?"""
    import math

    from ml.serving import forecast

    counts = {(True, True): 0, (True, False): 0, (False, True): 0, (False, False): 0}
    errors, same = [], 0
    for p in range(args.plans):
        for ds in _plan_instances(held_out, args.instances, seed=100 + p):
            fc = forecast(model, ds["costs"], ds["budget"], "auto", args.time_limit)
            start = time.process_time()
            result = solvers.solve(ds["costs"], ds["budget"], algorithm="auto",
                                   time_limit=args.time_limit, measure_memory=False)
            seconds = time.process_time() - start
            counts[(fc["expected_proven"], result["status"] == "exact")] += 1
            same += fc["predicted_algorithm"] == result["algorithm"]
            errors.append(abs(math.log10(max(fc["predicted_seconds"], 1e-5))
                              - math.log10(max(seconds, 1e-5))))
    total = sum(counts.values())
    errors.sort()
    print(f"\nForecast of auto on the same {total} held-out instances ({args.time_limit:g} s "
          "limit), against the real solve:\n")
    print("| forecast \\ actual | proven | not proven |\n|---|---:|---:|")
    print(f"| expected proven | {counts[(True, True)]} | {counts[(True, False)]} |")
    print(f"| not expected proven | {counts[(False, True)]} | {counts[(False, False)]} |")
    right = counts[(True, True)] + counts[(False, False)]
    print(f"\ncorrect {right}/{total} ({100 * right / total:.1f} %); predicted algorithm = the "
          f"one that ran {same}/{total}; predicted seconds within 3x of the CPU time "
          f"{100 * sum(e <= math.log10(3) for e in errors) / total:.1f} %, median error "
          f"{errors[len(errors) // 2]:.2f} decades")


def _register(url: str, art: dict) -> None:
    from db import model_registry as registry
    from db.engine import session_scope
    from ml.runtime import RUNTIME_MODEL_NAME

    with session_scope(url) as session:
        row = registry.register_version(
            session=session, name=RUNTIME_MODEL_NAME, sha256=art["sha256"], path=art["path"],
            params=art["params"], metrics=art["metrics"], feature_names=art["feature_names"],
            class_order=art["class_order"], library_versions=art["library_versions"])
        registry.promote(session=session, name=RUNTIME_MODEL_NAME, version=row.version)


def dask_runs(art: dict, args, held_out: tuple[str, ...], folder: Path) -> None:
    """The benchmark flow on a LocalCluster, planned by the runtime model and by the proxy
    (on the Prefect server of PREFECT_API_URL, else a temporary one)."""
    from bench_pipeline import prefect_server

    per_size = 2
    sizes = [20, 200, 1000, 2000][: max(1, args.instances // (per_size * len(held_out)))]
    with prefect_server():
        _dask_runs(art, args, held_out, folder, sizes, per_size)


def _dask_runs(art: dict, args, held_out: tuple[str, ...], folder: Path, sizes: list[int],
               per_size: int) -> None:
    from distributed import Client, LocalCluster
    from prefect_dask import DaskTaskRunner

    from db.engine import dispose_engines
    from db.migrate import upgrade
    from flows._runtime import share_api_with_subprocesses
    from flows.benchmark import benchmark
    from flows.params import BenchmarkParams

    share_api_with_subprocesses()
    print(f"\nReal Dask runs of the benchmark flow: {', '.join(held_out)} × sizes {sizes} × "
          f"{per_size} = {len(held_out) * len(sizes) * per_size} instances, "
          f"{args.time_limit:g} s per solve, up to 4 batches per worker (the model's plan "
          "chooses by the settings' batch_overhead_seconds), no memory pass; solving "
          "makespan (wall, first batch start to last batch end) / tight lower bound of the "
          "jobs' measured wall seconds:\n")
    print("| workers | plan | batches | makespan s | lower bound s | ratio | "
          "busiest process s | gap between batches s | solver s | flow wall s |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for workers in args.dask_workers:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            with Client(cluster) as client:  # import the task modules once, outside the timing
                client.run(importlib.import_module, "tasks.solving")
            flow = benchmark.with_options(task_runner=DaskTaskRunner(
                address=cluster.scheduler_address))
            for label in ("model", "proxy"):
                url = f"sqlite:///{folder / f'plan-{label}-{workers}.db'}"
                upgrade(url, "head")
                if label == "model":
                    _register(url, art)
                out = flow(BenchmarkParams(
                    database_url=url, data_dir=str(folder), workers=workers, seed=4242,
                    families=list(held_out), sizes=sizes, per_size=per_size,
                    algorithms=list(ALGORITHMS), time_limit=args.time_limit,
                    measure_memory=False, export=False, plot=False))
                dispose_engines(url)
                gap = out["batch_gap_seconds"]
                print(f"| {workers} | {out['batch_plan']} | {out['batches']} | "
                      f"{out['makespan_seconds']:.2f} | {out['makespan_lower_bound']:.2f} | "
                      f"{out['makespan_ratio']:.2f}× | {out['busiest_process_seconds']:.2f} | "
                      f"{'-' if gap is None else f'{gap:.2f}'} | {out['solver_seconds']:.2f} | "
                      f"{out['wall_seconds']:.2f} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=None,
                        help="use the runtime model registered here (default: train a fresh one)")
    parser.add_argument("--held-out", default=",".join(DEFAULT_HELD_OUT))
    parser.add_argument("--plans", type=int, default=8)
    parser.add_argument("--instances", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=1.0)
    parser.add_argument("--train", type=int, default=150)
    parser.add_argument("--overhead", type=float, default=None,
                        help="orchestration seconds per batch in the simulation (default: the "
                             "settings' batch_overhead_seconds)")
    parser.add_argument("--dask", action="store_true", help="also run the benchmark flow on Dask")
    parser.add_argument("--dask-workers", default="4,2",
                        type=lambda v: [int(x) for x in v.split(",") if x.strip()])
    args = parser.parse_args(argv)
    held_out = tuple(f.strip() for f in args.held_out.split(",") if f.strip())
    if args.overhead is None:
        from config import get_settings

        args.overhead = get_settings().batch_overhead_seconds
    print(f"machine: {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")

    with tempfile.TemporaryDirectory() as tmp:
        model, art = (runtime_model(args.url), None) if args.url else (None, None)
        if model is None:
            model, art = _fresh_model(held_out, args.train, args.time_limit, Path(tmp))
        else:
            print(f"runtime model: {model.name} from the registry")
        if args.plans:
            simulate(model, args, held_out)
            forecasts(model, args, held_out)
        if args.dask:
            if art is None:
                print("--dask needs a fresh model (omit --url)")
                return 2
            dask_runs(art, args, held_out, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
