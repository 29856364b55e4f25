"""Pure benchmark planning and bookkeeping: instances, skip rules, batches, accuracy, alerts.

No Prefect, no database: every function takes plain data and returns plain data, so it is
tested directly and runs unchanged on a Dask worker.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np

import solvers
from solvers.instances import FAMILIES, generate

__all__ = [
    "accuracy_by_run",
    "alerts_for",
    "batch_count",
    "batch_gaps",
    "derive_seed",
    "dispatch_makespan",
    "generate_instances",
    "instance_specs",
    "job_seconds",
    "make_batches",
    "makespan",
    "makespan_lower_bound",
    "plan_jobs",
    "proxy_cost",
    "run_rows",
    "solve_batch",
    "summarize",
    "would_refuse",
]

SEEDS_PER_BASE = 1000  # k < per_size <= 1000
FAMILY_STRIDE = 16  # > len(FAMILIES): each family draws from its own seeds


def derive_seed(day: date) -> int:
    """A base seed from a calendar day (YYYYMMDD): a nightly run draws new instances each night and
    the same instances when that night is run again."""
    return day.year * 10_000 + day.month * 100 + day.day


def instance_specs(
    families: Sequence[str], sizes: Sequence[int], per_size: int, seed: int
) -> list[dict[str, Any]]:
    """(family, n, seed) for every instance of a benchmark, in a stable order.

    Instance seeds are ``(base * 1000 + k) * 16 + family index``: families that draw costs the
    same way (uniform and pthree both draw U[1, 1000]) would otherwise produce identical
    projects from one seed, and identical projects are one dataset.
    """
    return [
        {"family": family, "n": n,
         "seed": (seed * SEEDS_PER_BASE + k) * FAMILY_STRIDE + FAMILIES.index(family)}
        for family in families
        for n in sizes
        for k in range(per_size)
    ]


def generate_instances(specs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Generate each spec with `solvers.instances.generate` (plain dicts, names included)."""
    out = []
    for spec in specs:
        inst = generate(spec["family"], spec["n"], spec["seed"])
        out.append(
            {
                "name": f"{inst.family}-n{inst.n}-s{inst.seed}",
                "family": inst.family,
                "n": inst.n,
                "seed": inst.seed,
                "params": inst.params,
                "projects": inst.projects(),
                "budget": inst.budget,
            }
        )
    return out


def would_refuse(algorithm: str, n_fit: int, all_fit: bool, limits: solvers.Limits) -> str | None:
    """Why `algorithm` would refuse an instance with `n_fit` items after preprocessing, or None."""
    if all_fit:
        return None
    if algorithm == "brute_force" and n_fit > limits.brute_force_max_n:
        return f"skipped: brute force refuses n={n_fit} > {limits.brute_force_max_n}"
    if algorithm == "meet_in_the_middle" and n_fit > limits.mitm_max_n:
        return f"skipped: meet in the middle refuses n={n_fit} > {limits.mitm_max_n}"
    return None


def plan_jobs(
    datasets: Sequence[Mapping[str, Any]],
    algorithms: Sequence[str],
    recorded: Iterable[tuple[int, int, str]] = (),
    *,
    limits: solvers.Limits,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Jobs to run, pairs skipped (with the reason), and how many pairs were already recorded.

    `limits` decide the skips (the caller resolves them from settings).

    `datasets` carry `dataset_id`, `budget_id`, `family`, `n`, `costs`, `budget`. The natural
    key of a run is (dataset, budget, requested algorithm): pairs in `recorded` are not run
    again, so a rerun after a crash adds only what is missing. The same dataset listed twice
    (equal content) is planned once.
    """
    done = set(recorded)
    jobs, skipped, already = [], [], 0
    seen: set[tuple[int, int]] = set()
    for ds in datasets:
        key = (ds["dataset_id"], ds["budget_id"])
        if key in seen:
            continue
        seen.add(key)
        feats = solvers.features(ds["costs"], ds["budget"], limits)
        n_fit, all_fit = int(feats["n_fit"]), bool(feats["all_fit"])
        todo = []
        for algorithm in algorithms:
            if (*key, algorithm) in done:
                already += 1
                continue
            reason = would_refuse(algorithm, n_fit, all_fit, limits)
            if reason is None:
                todo.append(algorithm)
            else:
                skipped.append({"dataset_id": key[0], "budget_id": key[1], "family": ds["family"],
                                "n": ds["n"], "algorithm": algorithm, "reason": reason})
        if todo:
            jobs.append({**{k: ds[k] for k in ("dataset_id", "budget_id", "family", "n",
                                               "costs", "budget")}, "algorithms": todo})
    return jobs, skipped, already


PredictSeconds = Callable[[Mapping[str, float], str], float]
"""``predict_seconds(features, algorithm) -> seconds`` (``ml.serving.RuntimeModel``)."""


def proxy_cost(job: Mapping[str, Any]) -> float:
    """The size proxy of a job's cost, (n + 10) × algorithms (no model needed)."""
    return float((job["n"] + 10) * len(job["algorithms"]))


PROBE_SECONDS = 0.002
"""Time limit of the verification probe (`job_seconds`)."""
PROBED = ("backtracking", "hybrid")
"""Algorithms whose time is probed: the searches with no analytic bound (brute force, meet in
the middle and dp cost what their size says, and their clock checks are too coarse for a
2 ms probe)."""
PROBE_SHARE = 0.5
"""Only predictions of at least this share of their time limit are probed (predicted to run
into the limit: where an over-estimate costs a plan the most)."""


def _probe(job: Mapping[str, Any], algorithm: str, seconds: float,
           limits: solvers.Limits | None) -> float | None:
    """Run `algorithm` for at most `seconds`: its CPU seconds if it finished (proved, refused,
    or returned) before the time limit stopped it, else None."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = solvers.solve(job["costs"], job["budget"], algorithm=algorithm, time_limit=seconds,
                           measure_memory=False, limits=limits or solvers.DEFAULT_LIMITS)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if "time limit" in str(result.get("reason") or "") or wall >= 0.9 * seconds:
        return None
    return cpu


def job_seconds(job: Mapping[str, Any], predict_seconds: PredictSeconds,
                time_limits: Mapping[str, float] | None = None,
                default_time_limit: float | None = None,
                probe_seconds: float = PROBE_SECONDS,
                limits: solvers.Limits | None = None) -> float:
    """Predicted seconds of a job: each algorithm's predicted time, capped at its time limit
    (a solve stops there).

    **Verification probe.** A prediction for a search (`PROBED`) above 4 × `probe_seconds`
    and at least half its time limit is checked by running it for `probe_seconds`: if it
    finishes, its measured CPU time replaces the prediction. The model errs on the safe side
    on families it never saw (backtracking is predicted at its time limit whenever greedy
    misses the budget, and it often proves in a millisecond); each probe costs at most
    `probe_seconds` (0 disables them)."""
    owner = getattr(predict_seconds, "__self__", predict_seconds)
    features_of = getattr(owner, "features_of", None)  # the model's own (richer) features
    feats = (features_of(job["costs"], job["budget"]) if features_of is not None
             else solvers.features(job["costs"], job["budget"]))
    algorithms = list(job["algorithms"])
    caps = [(time_limits or {}).get(a, default_time_limit) for a in algorithms]
    many = getattr(owner, "predict_many", None)  # one model call for all algorithms
    predicted = (many(feats, algorithms, caps) if many is not None
                 else [predict_seconds(feats, a) for a in algorithms])
    total = 0.0
    for algorithm, seconds, cap in zip(algorithms, predicted, caps, strict=True):
        seconds = float(seconds)
        seconds = min(seconds, cap) if cap is not None else seconds
        if (algorithm in PROBED and probe_seconds > 0
                and seconds > max(4 * probe_seconds, PROBE_SHARE * (cap or 0))):
            measured = _probe(job, algorithm, probe_seconds, limits)
            if measured is not None:
                seconds = measured
        total += seconds
    return total


def makespan(batches: Sequence[Sequence[Mapping[str, Any]]],
             seconds: Callable[[Mapping[str, Any]], float]) -> float:
    """The longest batch's total ``seconds(job)``: the wall time with one worker per batch."""
    return max((sum(seconds(j) for j in b) for b in batches), default=0.0)


def makespan_lower_bound(durations: Iterable[float], workers: int) -> float:
    """A lower bound on the makespan of *any* schedule of these jobs on ``workers`` workers
    (jobs are not split): the largest of

    * total / workers (perfect balance);
    * for every k ≥ 0, the k + 1 shortest of the k × workers + 1 longest jobs: by pigeonhole
      one worker runs k + 1 of those (k = 0 is the longest job; k = 1 the workers-th and
      (workers + 1)-th longest, Martello and Toth's L2 for P||Cmax).

    With many jobs stopped at the same time limit the first two terms alone cannot be reached
    by any schedule (5 one-second jobs on 4 workers take 2 s); this bound can.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    ds = sorted((float(d) for d in durations), reverse=True)
    if not ds:
        return 0.0
    bound = sum(ds) / workers
    k = 0
    while k * workers < len(ds):
        top = ds[: k * workers + 1]
        bound = max(bound, sum(top[-(k + 1):]))
        k += 1
    return bound


def dispatch_makespan(batch_seconds: Iterable[float], workers: int) -> float:
    """The makespan when each free worker takes the next batch in plan order (how Dask's
    scheduler queue and the thread runner hand out mapped tasks)."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    free = [0.0] * workers
    for seconds in batch_seconds:
        start = heapq.heappop(free)
        heapq.heappush(free, start + float(seconds))
    return max(free)


BATCHES_PER_WORKER = 16
"""Most batches per worker a benchmark splits into when it is not told a number. Finer batches
balance better (a batch that ran long is absorbed by the others), which matters most without a
runtime model, when the size proxy's estimates are rough: 32 brute-force jobs on 2 Dask workers
ran 1.74x faster than on one in 8 batches and 1.85x in 32 (the workload's own 2-process
ceiling 1.86-1.97x; docs/benchmarks/pipeline.md). A batch costs a few ms on the Dask path and
4-7 ms as a task run on threads."""
BATCH_ERROR_DECADES = 0.3
"""Spread (standard deviation, decades) of the runtime model's error that `batch_count`
plans against: held-out families are predicted within 3x (0.48 decades) 93 % of the time,
median error 0.17 decades (docs/benchmarks/selector.md)."""
BATCH_SAMPLES = 32
"""Draws of that error `batch_count` averages over (seeded: a plan is reproducible)."""


def _lpt(costs: Sequence[float], n_batches: int) -> list[list[int]]:
    """Longest processing time first: job indices in at most `n_batches` batches, each job to
    the lightest batch; batches heaviest first (a task runner with fewer workers than batches
    takes them in this order), empty ones dropped."""
    loads = [0.0] * min(n_batches, max(len(costs), 1))
    batches: list[list[int]] = [[] for _ in loads]
    for k in sorted(range(len(costs)), key=lambda k: -costs[k]):
        i = loads.index(min(loads))
        batches[i].append(k)
        loads[i] += costs[k]
    order = sorted(range(len(batches)), key=lambda i: -loads[i])
    return [batches[i] for i in order if batches[i]]


def batch_count(estimates: Sequence[float], workers: int, overhead_seconds: float,
                most: int, least: int = 4, error_decades: float = BATCH_ERROR_DECADES,
                samples: int = BATCH_SAMPLES, seed: int = 0) -> int:
    """How many batches to split jobs of these predicted seconds into, for `workers`.

    Candidates: 1, 2, 4, 8 or 16 batches per worker (at least `least`, for progress; at most
    `most`).
    Each costs `overhead_seconds` of orchestration per batch (a few ms for a plain Dask job
    through the runner's client, the benchmark flow's Dask path; 20 to 50 ms for a task run
    on threads; 0.4 to 0.7 s for a Prefect task run on a Dask worker, the old path:
    docs/benchmarks/pipeline.md), and more batches
    absorb mispredictions better: each candidate's LPT plan is scored by its mean dispatch
    makespan (`dispatch_makespan`) when every job's true time is its estimate times a
    log-normal error of `error_decades`, over `samples` seeded draws. The smallest score
    wins; ties go to more batches."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if not estimates:
        return max(1, min(least, most))
    costs = [max(float(c), 0.0) for c in estimates]
    rng = np.random.default_rng(seed)
    noise = 10.0 ** (error_decades * rng.standard_normal((max(samples, 1), len(costs))))
    true = noise * np.asarray(costs)
    candidates = sorted({min(most, max(least, b * workers)) for b in (1, 2, 4, 8, 16)})
    best, best_score = candidates[-1], float("inf")
    for n in reversed(candidates):  # more batches first: they keep a tie
        plan_ = _lpt(costs, n)
        score = float(np.mean([
            dispatch_makespan([row[b].sum() + overhead_seconds for b in plan_], workers)
            for row in true]))
        if score < best_score - 1e-9:
            best, best_score = n, score
    return best


def batch_gaps(spans: Iterable[tuple[int, float, float]]) -> list[float]:
    """Seconds each process waited between consecutive spans ``(pid, start, end)`` (epoch
    seconds): the orchestration cost per batch (a span starting before the previous one of its
    process ended counts 0)."""
    last: dict[int, float] = {}
    out = []
    for pid, start, end in sorted(spans, key=lambda span: span[1]):
        if pid in last:
            out.append(max(0.0, start - last[pid]))
        last[pid] = end
    return out


def make_batches(jobs: Sequence[Mapping[str, Any]], n_batches: int,
                 predict_seconds: PredictSeconds | None = None,
                 time_limits: Mapping[str, float] | None = None,
                 default_time_limit: float | None = None,
                 probe_seconds: float = PROBE_SECONDS,
                 limits: solvers.Limits | None = None, *,
                 workers: int | None = None,
                 overhead_seconds: float = 0.0) -> list[list[dict[str, Any]]]:
    """Split jobs into at most `n_batches` batches of similar estimated cost: longest
    processing time first, each job to the lightest batch (LPT, within 4/3 of the optimal
    makespan for the estimates).

    The estimate is the runtime model's predicted seconds when `predict_seconds` is given
    (`ml.serving.runtime_model(url)`; each algorithm capped at its time limit), else the size
    proxy (n + 10) × algorithms. A job the model cannot estimate (it raises) falls back to
    the proxy for the whole plan, so the two units never mix. Long predictions are checked by
    a `probe_seconds` run (`job_seconds`; `limits` are the solvers'). Each job carries its estimate
    in `estimated_seconds` when the model planned it. Batches come heaviest first.

    With `workers`, a model-planned split uses `batch_count` batches (at most `n_batches`):
    fewer when `overhead_seconds` per batch outweighs the balance more batches buy.
    """
    if n_batches < 1:
        raise ValueError(f"n_batches must be >= 1, got {n_batches}")
    estimates: list[float] | None = None
    if predict_seconds is not None:
        try:
            estimates = [job_seconds(j, predict_seconds, time_limits, default_time_limit,
                                     probe_seconds, limits) for j in jobs]
        except Exception:  # an unusable model must not stop a benchmark: plan by size
            estimates = None
    costs = estimates if estimates is not None else [proxy_cost(j) for j in jobs]
    if estimates is not None and workers is not None:
        n_batches = batch_count(estimates, workers, overhead_seconds, most=n_batches)
    out = []
    for batch in _lpt(costs, n_batches):
        rows = [dict(jobs[k]) for k in batch]
        if estimates is not None:
            for row, k in zip(rows, batch, strict=True):
                row["estimated_seconds"] = estimates[k]
        out.append(rows)
    return out


def solve_batch(
    batch: Sequence[Mapping[str, Any]],
    time_limits: Mapping[str, float],
    default_time_limit: float,
    measure_memory: bool = True,
    *,
    limits: solvers.Limits,
) -> dict[str, Any]:
    """Solve every (instance, algorithm) of a batch; results plus the seconds spent solving,
    each job's seconds (``job_seconds``) and the batch's wall-clock start and end
    (``started_at``/``finished_at``, epoch seconds: comparable across worker processes).

    `solvers.solve` times an untraced pass and, when `measure_memory`, measures memory in a
    second tracemalloc pass; `solver_seconds` counts both (it is solver work, not overhead).
    `limits` are the solvers' guard rails (the caller resolves them from settings).
    """
    results, job_seconds_measured = [], []
    started_at = time.time()
    start = time.perf_counter()
    for job in batch:
        job_start = time.perf_counter()
        for algorithm in job["algorithms"]:
            limit = time_limits.get(algorithm, default_time_limit)
            result = solvers.solve(job["costs"], job["budget"], algorithm=algorithm,
                                   time_limit=limit, measure_memory=measure_memory,
                                   limits=limits)
            results.append({**result, "dataset_id": job["dataset_id"],
                            "budget_id": job["budget_id"], "family": job["family"],
                            "n": job["n"], "requested_algorithm": algorithm})
        job_seconds_measured.append(time.perf_counter() - job_start)
    return {"results": results, "solver_seconds": time.perf_counter() - start,
            "pid": os.getpid(), "started_at": started_at, "finished_at": time.time(),
            "job_seconds": job_seconds_measured}


def run_rows(results: Iterable[Mapping[str, Any]], flow_run_id: str | None) -> list[dict]:
    """Rows for `db.record_runs`: each result with its set, budget and lineage."""
    return [{**r, "project_set_id": r["dataset_id"], "budget_id": r["budget_id"],
             "requested_algorithm": r["requested_algorithm"], "flow_run_id": flow_run_id}
            for r in results]


def accuracy_by_run(results: Sequence[Mapping[str, Any]]) -> list[float | None]:
    """Each result's total over the best *proven* total of the same instance (an exact run's
    total), 1.0 when that optimum is 0; None for failed runs or when nothing was proven."""
    best: dict[tuple[int, int], float] = {}
    for r in results:
        if r["status"] == "exact":
            best[(r["dataset_id"], r["budget_id"])] = float(r["total_cost"])
    out: list[float | None] = []
    for r in results:
        opt = best.get((r["dataset_id"], r["budget_id"]))
        if r["status"] == "failed" or opt is None:
            out.append(None)
        else:
            out.append(float(r["total_cost"]) / opt if opt > 0 else 1.0)
    return out


def alerts_for(
    results: Sequence[Mapping[str, Any]],
    *,
    time_seconds: float,
    memory_mb: float,
    fallback_count: int,
    flow_run_id: str | None = None,
) -> list[dict[str, Any]]:
    """Alerts for a set of results: failed runs, slow or memory-hungry runs, and the hybrid
    answering approximately `fallback_count` times or more."""
    alerts = []

    def ctx(r: Mapping[str, Any]) -> dict[str, Any]:
        return {"flow_run_id": flow_run_id, "dataset_id": r.get("dataset_id"),
                "algorithm": r.get("algorithm"), "n": r.get("n"),
                "execution_time": r.get("execution_time"), "memory_used": r.get("memory_used")}

    for r in results:
        where = f"{r.get('requested_algorithm') or r.get('algorithm')} on dataset " \
                f"{r.get('dataset_id')} (n={r.get('n')})"
        if r["status"] == "failed":
            alerts.append({"kind": "run_failed", "severity": "error", "context": ctx(r),
                           "message": f"{where} failed: {r.get('reason')}"})
        if (r.get("execution_time") or 0.0) > time_seconds:
            alerts.append({"kind": "slow_run", "severity": "warning", "context": ctx(r),
                           "message": f"{where} took {r['execution_time']:.2f} s "
                                      f"(threshold {time_seconds:g} s)"})
        if (r.get("memory_used") or 0.0) > memory_mb:
            alerts.append({"kind": "high_memory", "severity": "warning", "context": ctx(r),
                           "message": f"{where} peaked at {r['memory_used']:.1f} MiB "
                                      f"(threshold {memory_mb:g} MiB)"})
    fallbacks = [r for r in results
                 if r.get("requested_algorithm") == "hybrid" and r["status"] == "approximate"]
    if len(fallbacks) >= fallback_count:
        alerts.append({
            "kind": "hybrid_fallback", "severity": "warning",
            "message": f"hybrid answered approximately {len(fallbacks)} times in one run "
                       f"(threshold {fallback_count})",
            "context": {"flow_run_id": flow_run_id, "count": len(fallbacks),
                        "dataset_ids": sorted({r["dataset_id"] for r in fallbacks})[:50]},
        })
    return alerts


def summarize(
    results: Sequence[Mapping[str, Any]],
    *,
    wall_seconds: float,
    solver_seconds: float,
    workers: int = 1,
) -> dict[str, Any]:
    """Counts and the orchestration overhead: the share of wall time not spent solving,
    (wall − solver_seconds / workers) / wall, floored at 0."""
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    busy = solver_seconds / max(workers, 1)
    overhead = max(0.0, wall_seconds - busy) / wall_seconds if wall_seconds > 0 else 0.0
    return {"runs": len(results), "statuses": statuses, "wall_seconds": round(wall_seconds, 4),
            "solver_seconds": round(solver_seconds, 4),
            "orchestration_overhead": round(overhead, 4)}


def params_key(params: Mapping[str, Any]) -> str:
    """A short stable hash of JSON-able parameters (for file names and artifact keys)."""
    blob = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
