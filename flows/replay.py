"""`replay`: re-run recently solved user instances across the candidate set.

1. Find the user instances (pairs of set and budget solved through the API or the `solve`
   flow in the last `since_days` days) that a candidate has not replayed yet, most distinct
   and most recent first (`db.replay.pending_replays`), at most `limit`.
2. Batch by batch: load the instances, run their missing candidates by the honest protocol
   (`ml.history.run_instance`: CPU time, median of `timing_repeats`, cutoff `time_limit`)
   while the time budget lasts, record the runs as `replay` runs (one per pair: the
   database's unique key skips a pair another replay recorded first).
3. Publish the counts (`replay-summary` artifact, INFO lines); a progress artifact advances
   per batch.

Idempotent: a replayed pair is not pending any more, so a second run replays nothing new.
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow

from flows._runtime import current_flow_run_id, refuse_hidden_fields
from flows.names import REPLAY_FLOW
from flows.params import ReplayParams
from tasks.artifacts import BatchProgress
from tasks.data import ensure_database
from tasks.replay import (
    add_batch,
    find_pending,
    load_instances,
    new_totals,
    out_of_time,
    publish_replay,
    record_replays,
    replay_batch,
    replay_batches,
    replay_summary,
)


@flow(name=REPLAY_FLOW, validate_parameters=True)
def replay(params: ReplayParams = ReplayParams()) -> dict[str, Any]:  # noqa: B008
    """Replay pending user instances within `time_budget` seconds; returns the counts."""
    refuse_hidden_fields(params)
    started = time.perf_counter()
    deadline = time.time() + params.time_budget
    run_id = current_flow_run_id()
    url = params.database_url
    ensure_database(url)
    found = find_pending(url, params.candidates, params.since_days, params.limit)
    pending = found["pending"]
    batches = replay_batches(pending)
    progress = BatchProgress(len(batches), key="replay-progress")
    totals = new_totals(pending, params.time_budget)
    for batch in batches:
        if out_of_time(deadline, params.time_limit, params.timing_repeats):
            totals = {**totals, "stopped_by_time_budget": True}
            break
        instances = load_instances(batch, url)
        out = replay_batch(instances, params.time_limit, params.timing_repeats, deadline)
        recorded = record_replays(out["rows"], run_id, url, params.data_dir)
        totals = add_batch(totals, out, recorded)
        progress.advance()
        if out["stopped"]:
            break
    summary = replay_summary(
        totals, flow_run_id=run_id, candidates=params.candidates,
        algorithms=found["algorithms"],
        time_limit=params.time_limit, timing_repeats=params.timing_repeats,
        since_days=params.since_days, wall_seconds=round(time.perf_counter() - started, 3))
    publish_replay(summary)
    return summary


def replay_flow(**fields: Any) -> dict[str, Any]:
    """The flow called with flat keyword arguments (`database_url=..., time_budget=...`):
    builds `ReplayParams` (bad values raise pydantic's error naming the field)."""
    return replay(ReplayParams(**{k: v for k, v in fields.items() if v is not None}))
