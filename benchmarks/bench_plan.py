"""Makespan of a benchmark plan on held-out families: the size proxy vs the runtime model.

Usage::

    python benchmarks/bench_plan.py [--url DATABASE_URL] [--held-out pthree,somatoth,...]
        [--plans 5] [--instances 32] [--workers 4] [--time-limit 1.0] [--train 240]

1. A runtime model: the one registered at ``--url`` (``budget train`` registers it), or, without
   one, a fresh model trained on a covering history of every family **except** the held-out
   ones (``--train`` instances, CPU time, one timing each).
2. ``--plans`` random plans of ``--instances`` instances drawn from the held-out families (sizes
   as the benchmark flow uses them, 10 to 2,000), each job = every algorithm that does not refuse
   the instance, each algorithm within ``--time-limit``. Every (instance, algorithm) is timed
   once (CPU seconds): the "true" durations of the simulation.
3. Each plan is split by ``tasks.plan.make_batches`` (LPT) into ``--workers`` batches, once with
   the proxy (n + 10) × algorithms and once with the model's predicted seconds, and the makespan
   (longest batch, one batch per worker) is divided by its lower bound
   max(total / workers, longest job). The same with 4 batches per worker dispatched greedily in
   plan order (what the benchmark flow's task runner does with ``max(4, 4 × workers)``
   batches).

Prints one row per plan and the mean/worst ratios (target: ≤ 1.3× with the model).
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import solvers  # noqa: E402
from ml.history import plan_instances, refusal, run_history  # noqa: E402
from ml.runtime import train_runtime  # noqa: E402
from ml.serving import load_runtime, runtime_model  # noqa: E402
from solvers.instances import FAMILIES, generate  # noqa: E402
from tasks import plan  # noqa: E402

ALGORITHMS = ("brute_force", "dp", "backtracking", "greedy", "meet_in_the_middle", "hybrid")
DEFAULT_HELD_OUT = ("pthree", "somatoth", "avis")


def _fresh_model(held_out: tuple[str, ...], count: int, time_limit: float, tmp: Path):
    families = tuple(f for f in FAMILIES if f not in held_out)
    started = time.perf_counter()
    records = list(run_history(plan_instances(count, seed=7, families=families, max_n=2000),
                               time_limit, ALGORITHMS, repeats=1))
    art = train_runtime(records, time_limit, tmp, evaluate=False)
    model = load_runtime({"name": "fresh-runtime", "version": 0, **art})
    print(f"runtime model: fresh, trained on {len(records)} instances of {', '.join(families)} "
          f"({art['params']['rows']} runs, {time.perf_counter() - started:.0f} s)")
    return model


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


def _dispatch(batches: list[list[dict]], seconds, workers: int) -> float:
    """Greedy dispatch in plan order: each free worker takes the next batch."""
    free = [0.0] * workers
    for batch in batches:
        start = heapq.heappop(free)
        heapq.heappush(free, start + sum(seconds(j) for j in batch))
    return max(free)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=None,
                        help="use the runtime model registered here (default: train a fresh one)")
    parser.add_argument("--held-out", default=",".join(DEFAULT_HELD_OUT))
    parser.add_argument("--plans", type=int, default=5)
    parser.add_argument("--instances", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=1.0)
    parser.add_argument("--train", type=int, default=240)
    args = parser.parse_args(argv)
    held_out = tuple(f.strip() for f in args.held_out.split(",") if f.strip())

    with tempfile.TemporaryDirectory() as tmp:
        model = runtime_model(args.url) if args.url else None
        if model is None:
            model = _fresh_model(held_out, args.train, args.time_limit, Path(tmp))
        else:
            print(f"runtime model: {model.name} from the registry")
        limits = solvers.DEFAULT_LIMITS
        print(f"\n{args.plans} plans of {args.instances} instances of {', '.join(held_out)} "
              f"(held out), {args.workers} workers, {args.time_limit:g} s per solve; makespan "
              "/ lower bound max(total / workers, longest job):\n")
        print("| plan | total CPU s | lower bound s | proxy, 1 batch/worker "
              "| model, 1 batch/worker | proxy, 4 batches/worker | model, 4 batches/worker |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        ratios: dict[str, list[float]] = {k: [] for k in ("p1", "m1", "p4", "m4")}
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
            bound = max(total / args.workers, max(true.values()))
            row = {}
            for key, n_batches in (("1", args.workers), ("4", 4 * args.workers)):
                by_proxy = plan.make_batches(jobs, n_batches)
                by_model = plan.make_batches(jobs, n_batches, predict_seconds=model,
                                             default_time_limit=args.time_limit)
                if key == "1":
                    row["p1"] = plan.makespan(by_proxy, seconds) / bound
                    row["m1"] = plan.makespan(by_model, seconds) / bound
                else:
                    row["p4"] = _dispatch(by_proxy, seconds, args.workers) / bound
                    row["m4"] = _dispatch(by_model, seconds, args.workers) / bound
            for k, v in row.items():
                ratios[k].append(v)
            print(f"| {p + 1} | {total:.2f} | {bound:.2f} | {row['p1']:.2f}× | {row['m1']:.2f}× "
                  f"| {row['p4']:.2f}× | {row['m4']:.2f}× |")
        mean = {k: statistics.mean(v) for k, v in ratios.items()}
        worst = {k: max(v) for k, v in ratios.items()}
        print(f"| mean | | | {mean['p1']:.2f}× | {mean['m1']:.2f}× | {mean['p4']:.2f}× | "
              f"{mean['m4']:.2f}× |")
        print(f"| worst | | | {worst['p1']:.2f}× | {worst['m1']:.2f}× | {worst['p4']:.2f}× | "
              f"{worst['m4']:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
