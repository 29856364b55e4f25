"""Tasks of the `replay` flow, and the pure helpers they wrap.

A replay re-runs recently solved user instances with every candidate of a set
(`ml.selection.history_algorithms`: the set plus `hybrid`) by the honest protocol of the
training history, `ml.history.run_instance`: CPU seconds (`time.process_time`), the median of
`repeats` runs, the cutoff `time_limit` in seconds; candidates that refuse the instance's size
(`ml.history.refusal`) are not run. Runs are recorded with `kind="replay"`, once per (budget,
requested algorithm): the database's unique key skips a pair another replay recorded first.

Time budget: a candidate is started only if its worst case (`repeats × time_limit`) ends before
the flow's deadline, so solving never runs past it (up to the solvers' own overshoot of their
limit). What is not replayed by then stays pending for the next run.

Retries only on the I/O tasks (database, files); solving is never retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

import solvers
from db.replay import load_replay_instances, pending_replays, replayed_by_flow_run
from db.runs import record_runs
from ml.history import DEFAULT_REPEATS, refusal, run_instance
from tasks import jsonlog
from tasks._io import IO_RETRIES, db_session
from tasks.records import log_path
from tasks.solving import solver_limits

BATCH_INSTANCES = 10
"""Instances solved per `replay-batch` task (their runs are recorded together)."""
BATCH_PROJECTS = 200_000
"""At most this many projects loaded per batch (one large instance forms a batch alone)."""


# ------------------------------------------------------------------ pure helpers


def max_fit(algorithm: str, limits: solvers.Limits) -> int | None:
    """The largest number of fitting projects `algorithm` runs on (`ml.history.refusal`, found
    by bisection), None when it refuses no size up to `limits.max_n`."""
    if refusal(algorithm, limits.max_n, limits) is None:
        return None
    low, high = 0, limits.max_n  # refusal is monotone in n_fit: low runs, high refuses
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if refusal(algorithm, mid, limits) is None else (low, mid)
    return low


def candidate_caps(candidates: str, limits: solvers.Limits) -> dict[str, int | None]:
    """Each algorithm a replay of `candidates` runs → its `max_fit`."""
    from ml.selection import history_algorithms  # LightGBM comes with it: only when run

    return {a: max_fit(a, limits) for a in history_algorithms(candidates)}


def replay_batches(pending: Sequence[Mapping[str, Any]], max_instances: int = BATCH_INSTANCES,
                   max_projects: int = BATCH_PROJECTS) -> list[list[Mapping[str, Any]]]:
    """Consecutive groups of the pending instances (order kept), each at most `max_instances`
    instances and `max_projects` projects (a larger instance alone)."""
    batches: list[list[Mapping[str, Any]]] = []
    current: list[Mapping[str, Any]] = []
    size = 0
    for item in pending:
        if current and (len(current) >= max_instances or size + item["n"] > max_projects):
            batches.append(current)
            current, size = [], 0
        current.append(item)
        size += item["n"]
    if current:
        batches.append(current)
    return batches


def worst_case_seconds(time_limit: float, repeats: int) -> float:
    """The longest one candidate's measurement may take: `repeats` runs up to the cutoff."""
    return time_limit * repeats


def replay_instances(instances: Sequence[Mapping[str, Any]], time_limit: float,
                     repeats: int, deadline: float, limits: solvers.Limits,
                     clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """Run each instance's `missing` candidates (`ml.history.run_instance`, one candidate at
    a time) while the next one's worst case ends before `deadline` (a `clock()` value).

    Returns `rows` (run rows to record: solver vocabulary, `project_set_id`, `budget_id`,
    `requested_algorithm` the candidate, `kind` "replay"), `instances` (instances whose
    candidates all ran), `refused` (candidates the instance's size rules out), `invalid`
    (instances the solvers reject as input), `stopped` (the deadline came first) and
    `solver_seconds` (wall-clock)."""
    rows: list[dict[str, Any]] = []
    finished = refused = invalid = 0
    stopped = False
    started = time.perf_counter()
    worst = worst_case_seconds(time_limit, repeats)
    for inst in instances:
        try:
            for algorithm in inst["missing"]:
                if clock() + worst > deadline:
                    stopped = True
                    break
                got = run_instance(inst["costs"], inst["budget"], time_limit, [algorithm],
                                   limits, repeats)
                if not got:
                    refused += 1
                    continue
                rows.append({**got[0], "project_set_id": inst["project_set_id"],
                             "budget_id": inst["budget_id"], "requested_algorithm": algorithm,
                             "kind": "replay", "n": inst["n"]})
        except solvers.InvalidInputError:  # stored before today's checks: not replayable
            invalid += 1
            continue
        if stopped:
            break
        finished += 1
    return {"rows": rows, "instances": finished, "refused": refused, "invalid": invalid,
            "stopped": stopped, "solver_seconds": time.perf_counter() - started}


def out_of_time(deadline: float, time_limit: float, repeats: int,
                clock: Callable[[], float] = time.time) -> bool:
    """True when not even one candidate's worst case fits before `deadline`."""
    return clock() + worst_case_seconds(time_limit, repeats) > deadline


def new_totals(pending: Sequence[Mapping[str, Any]], time_budget: float) -> dict[str, Any]:
    """The counters a replay reports, before any batch ran."""
    return {"pending": len(pending), "pending_runs": sum(len(p["missing"]) for p in pending),
            "instances": 0, "runs": 0, "skipped": 0, "refused": 0, "invalid": 0,
            "solver_seconds": 0.0, "time_budget": time_budget, "stopped_by_time_budget": False}


def add_batch(totals: Mapping[str, Any], batch: Mapping[str, Any],
              recorded: Mapping[str, int]) -> dict[str, Any]:
    """`totals` with one batch's outcome (`replay_instances`) and its `record-replays` counts."""
    return {**totals, "instances": totals["instances"] + batch["instances"],
            "runs": totals["runs"] + recorded["inserted"],
            "skipped": totals["skipped"] + recorded["skipped"],
            "refused": totals["refused"] + batch["refused"],
            "invalid": totals["invalid"] + batch["invalid"],
            "solver_seconds": totals["solver_seconds"] + batch["solver_seconds"],
            "stopped_by_time_budget": totals["stopped_by_time_budget"] or batch["stopped"]}


def replay_summary(totals: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """The flow's result: the counters, what is left for the next run, and `extra`."""
    left = totals["pending"] - totals["instances"] - totals["invalid"]
    return {**totals, "left": max(left, 0), "solver_seconds": round(totals["solver_seconds"], 3),
            **extra}


def summary_line(s: Mapping[str, Any]) -> str:
    """One line of counts for the log and the CLI."""
    return (f"replayed {s['instances']} of {s['pending']} pending user instances: "
            f"{s['runs']} runs recorded, {s['skipped']} already recorded by another replay, "
            f"{s['refused']} refused by size, {s['invalid']} instances not replayable; "
            f"{s['left']} left for the next run; solving {s['solver_seconds']:.2f} s of a "
            f"{s['time_budget']:g} s budget"
            + (" (budget used up)" if s["stopped_by_time_budget"] else ""))


def summary_markdown(s: Mapping[str, Any]) -> str:
    """The replay's artifact: the counts, then the parameters."""
    rows = [("pending user instances", s["pending"]), ("pending runs", s["pending_runs"]),
            ("instances replayed", s["instances"]), ("runs recorded", s["runs"]),
            ("already recorded (another replay)", s["skipped"]),
            ("refused by size", s["refused"]), ("not replayable", s["invalid"]),
            ("left for the next run", s["left"]),
            ("solving seconds", f"{s['solver_seconds']:.2f} of {s['time_budget']:g}")]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    return (f"# Replay of user instances\n\n{summary_line(s)}\n\n| | |\n|---|---|\n{table}\n\n"
            f"Candidates: `{s.get('candidates')}` ({', '.join(s.get('algorithms', []))}); "
            f"CPU time, median of {s.get('timing_repeats')}, cutoff {s.get('time_limit')} s; "
            f"user solves of the last {s.get('since_days')} days. Recorded as `replay` runs, "
            "never as user runs.")


# ------------------------------------------------------------------ tasks


@task(name="pending-replays", cache_policy=NO_CACHE, **IO_RETRIES)
def find_pending(database_url: str | None, candidates: str, since_days: float | None,
                 limit: int) -> dict[str, Any]:
    """`pending`: user instances of the last `since_days` days that a candidate has not
    replayed yet, most distinct and most recent first, with the candidates each still needs
    (`missing`); `algorithms`: what a replay of `candidates` runs."""
    caps = candidate_caps(candidates, solver_limits())
    since = datetime.now(UTC) - timedelta(days=since_days) if since_days else None
    with db_session(database_url) as session:
        found = pending_replays(session=session, max_fit=caps, since=since, limit=limit)
    return {"pending": [p.to_dict() for p in found], "algorithms": list(caps)}


@task(name="load-replay-instances", cache_policy=NO_CACHE, **IO_RETRIES)
def load_instances(batch: list[dict[str, Any]], database_url: str | None
                   ) -> list[dict[str, Any]]:
    """The batch's instances with their costs and budget (instances deleted since: left out)."""
    with db_session(database_url) as session:
        found = load_replay_instances(session=session,
                                      budget_ids=[b["budget_id"] for b in batch])
    return [{**b, **found[b["budget_id"]]} for b in batch if b["budget_id"] in found]


@task(name="replay-batch", cache_policy=NO_CACHE)
def replay_batch(instances: list[dict[str, Any]], time_limit: float, repeats: int,
                 deadline: float) -> dict[str, Any]:
    """Solve the batch's missing candidates by the honest protocol until the deadline (never
    retried: solving is deterministic work)."""
    return replay_instances(instances, time_limit, repeats, deadline, solver_limits())


@task(name="record-replays", cache_policy=NO_CACHE, **IO_RETRIES)
def record_replays(rows: list[dict[str, Any]], flow_run_id: str | None,
                   database_url: str | None, data_dir: str | None) -> dict[str, int]:
    """Store the batch's runs as `replay` runs in one transaction; returns `inserted` and
    `skipped` (pairs another replay recorded first). A retry counts what its first attempt
    stored as inserted. One JSON log line per run stored."""
    if not rows:
        return {"inserted": 0, "skipped": 0}
    logger = jsonlog.pipeline_logger(log_path(data_dir))  # an unwritable folder: nothing stored
    with db_session(database_url) as session:
        mine = set() if flow_run_id is None else replayed_by_flow_run(
            session=session, flow_run_id=flow_run_id, budget_ids=[r["budget_id"] for r in rows])
        todo = [{**r, "flow_run_id": flow_run_id} for r in rows
                if (r["budget_id"], r["requested_algorithm"]) not in mine]
        recorded = record_runs(session=session, runs=todo, kind="replay")
    jsonlog.log_runs(logger, todo, flow_run_id)
    out = {"inserted": recorded.inserted + len(rows) - len(todo), "skipped": recorded.skipped}
    get_run_logger().info("recorded %d replay runs (%d already recorded by another replay)",
                          out["inserted"], out["skipped"])
    return out


@task(name="publish-replay", cache_policy=NO_CACHE, **IO_RETRIES)
def publish_replay(summary: dict[str, Any]) -> str:
    """The `replay-summary` markdown artifact and one INFO line with the counts."""
    create_markdown_artifact(summary_markdown(summary), key="replay-summary",
                             description="Replay of recently solved user instances")
    line = summary_line(summary)
    get_run_logger().info(line)
    return line


__all__ = ["BATCH_INSTANCES", "BATCH_PROJECTS", "DEFAULT_REPEATS", "add_batch",
           "candidate_caps", "find_pending", "load_instances", "max_fit", "new_totals",
           "out_of_time", "publish_replay", "record_replays", "replay_batch", "replay_batches",
           "replay_instances", "replay_summary", "summary_line", "summary_markdown"]
