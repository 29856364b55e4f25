"""Replays: which user instances to re-run across the candidate set, and their content.

A user instance is a (project set, budget) pair with at least one `kind="user"` run (a solve
through the API or the `solve` flow). A replay re-runs it with every candidate algorithm and
records the runs with `kind="replay"` (`db.runs.record_runs(..., kind="replay")`); the partial
unique index `uq_algorithm_runs_pair` keeps one replay per (budget, requested algorithm), so a
pair is replayed once however many replays run, even at the same time.

`pending_replays` lists the user instances some candidate has not replayed yet, most distinct
and most recent first (`replay_order`). Which candidates run on an instance is the caller's
rule, given as `max_fit`: candidate → the most projects that fit the budget (0 < cost ≤
budget, the solvers' `n_fit`) it runs on, None for no limit (brute force and meet in the middle
refuse larger instances; a refused candidate is not a missing replay).

Pure query functions; the session is a keyword argument, like the rest of `db/`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import Session

from db.models import AlgorithmRun, Budget, Project, ProjectSet

__all__ = ["ReplayCandidate", "load_replay_history", "load_replay_instances",
           "pending_replays", "replay_order", "replayed_by_flow_run", "user_instances"]

USER_KIND = "user"
REPLAY_KIND = "replay"


@dataclass(frozen=True)
class ReplayCandidate:
    """A user instance with the candidates that have not replayed it yet."""

    budget_id: int
    project_set_id: int
    content_hash: str
    n: int
    """Projects in the set."""
    n_fit: int
    """Projects with 0 < cost ≤ budget (what the solvers' size limits count)."""
    budget_ratio: float
    """Budget / total cost (1.0 for a set whose total is 0)."""
    solved_at: datetime
    """The newest user run of the pair."""
    missing: tuple[str, ...]
    """Candidates still to replay it, in the order asked for."""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "missing": list(self.missing)}


def user_instances(*, session: Session, since: datetime | None = None) -> list[dict[str, Any]]:
    """Every (set, budget) pair with a user run (at/after `since`): `budget_id`,
    `project_set_id`, `content_hash`, `n`, `n_fit`, `budget_ratio`, `solved_at` (newest user
    run), newest first."""
    runs = AlgorithmRun.__table__.c
    solved = (select(runs.budget_id, func.max(runs.created_at).label("solved_at"))
              .where(runs.kind == USER_KIND))
    if since is not None:
        solved = solved.where(runs.created_at >= since)
    solved = solved.group_by(runs.budget_id).subquery("solved")
    budgets, sets, projects = Budget.__table__.c, ProjectSet.__table__.c, Project.__table__.c
    fits = case(((projects.cost > 0) & (projects.cost <= budgets.amount), 1), else_=0)
    stmt = (select(budgets.id, budgets.project_set_id, sets.content_hash, sets.n_projects,
                   func.coalesce(func.sum(fits), 0), cast(budgets.amount, Float),
                   cast(func.coalesce(func.sum(projects.cost), 0), Float), solved.c.solved_at)
            .select_from(solved)
            .join(Budget.__table__, budgets.id == solved.c.budget_id)
            .join(ProjectSet.__table__, sets.id == budgets.project_set_id)
            .outerjoin(Project.__table__, projects.project_set_id == budgets.project_set_id)
            .group_by(budgets.id, budgets.project_set_id, sets.content_hash, sets.n_projects,
                      budgets.amount, solved.c.solved_at)
            .order_by(solved.c.solved_at.desc(), budgets.id.desc()))
    return [{"budget_id": b, "project_set_id": s, "content_hash": h, "n": int(n),
             "n_fit": int(fit), "budget_ratio": min(amount / total, 1.0) if total > 0 else 1.0,
             "solved_at": at}
            for b, s, h, n, fit, amount, total, at in session.execute(stmt)]


def _replayed(session: Session, budget_ids: Sequence[int],
              algorithms: Iterable[str]) -> dict[int, set[str]]:
    runs = AlgorithmRun.__table__.c
    out: dict[int, set[str]] = {}
    wanted = sorted(set(algorithms))
    for start in range(0, len(budget_ids), 5_000):
        chunk = list(budget_ids[start:start + 5_000])
        for budget_id, requested in session.execute(
                select(runs.budget_id, runs.requested_algorithm).distinct()
                .where(runs.kind == REPLAY_KIND, runs.budget_id.in_(chunk),
                       runs.requested_algorithm.in_(wanted))):
            out.setdefault(budget_id, set()).add(requested)
    return out


def _bucket(item: Mapping[str, Any]) -> tuple[int, int]:
    """A coarse shape of the instance: size class (log2 of n_fit) × budget-ratio quartile."""
    size = int(math.log2(item["n_fit"] + 1))
    ratio = min(int(item["budget_ratio"] * 4), 3)
    return size, ratio


def replay_order(items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Most distinct, then most recent first.

    Tiers: tier t holds the t-th newest budget of each project set (so a set solved against
    many budgets does not crowd out other sets). Within a tier, rounds: round r holds the r-th
    newest instance of each shape (`_bucket`: size class × budget-ratio quartile), so rare
    shapes are not starved by a common one. Within a round, newest first. One budget per set
    and one shape: plain recency order.
    """
    newest = sorted(items, key=lambda i: (i["solved_at"], i["budget_id"]), reverse=True)
    seen_set: dict[int, int] = {}
    seen_bucket: dict[tuple[int, tuple[int, int]], int] = {}
    keys = []
    for i, item in enumerate(newest):
        tier = seen_set.get(item["project_set_id"], 0)
        seen_set[item["project_set_id"]] = tier + 1
        shape = (tier, _bucket(item))
        rank = seen_bucket.get(shape, 0)
        seen_bucket[shape] = rank + 1
        keys.append((tier, rank, i))
    return [newest[k[2]] for k in sorted(keys)]


def pending_replays(*, session: Session, max_fit: Mapping[str, int | None],
                    since: datetime | None = None, limit: int | None = None
                    ) -> list[ReplayCandidate]:
    """User instances (solved at/after `since`) that some candidate of `max_fit` still has to
    replay, most distinct and most recent first (`replay_order`), at most `limit`.

    `max_fit`: candidate → the largest `n_fit` it runs on (None: any); candidates whose limit
    the instance exceeds are not missing. A candidate counts as replayed when a `replay` run
    requested it on that budget, whoever recorded it.
    """
    if limit is not None and limit < 1:
        return []
    instances = user_instances(session=session, since=since)
    done = _replayed(session, [i["budget_id"] for i in instances], max_fit)
    pending = []
    for inst in instances:
        replayed = done.get(inst["budget_id"], set())
        missing = tuple(c for c, cap in max_fit.items()
                        if c not in replayed and (cap is None or inst["n_fit"] <= cap))
        if missing:
            pending.append({**inst, "missing": missing})
    ordered = replay_order(pending)[:limit]
    return [ReplayCandidate(**item) for item in ordered]


def load_replay_instances(*, session: Session, budget_ids: Sequence[int]
                          ) -> dict[int, dict[str, Any]]:
    """budget id → `{"project_set_id", "budget" (Decimal), "costs" (Decimal, by position)}`;
    budgets that do not exist (deleted since) are left out."""
    if not budget_ids:
        return {}
    budgets = dict((b, (s, a)) for b, s, a in session.execute(
        select(Budget.id, Budget.project_set_id, Budget.amount)
        .where(Budget.id.in_(sorted(set(budget_ids))))))
    costs: dict[int, list[Decimal]] = {}
    for set_id, cost in session.execute(
            select(Project.project_set_id, Project.cost)
            .where(Project.project_set_id.in_(sorted({s for s, _ in budgets.values()})))
            .order_by(Project.project_set_id, Project.position)):
        costs.setdefault(set_id, []).append(cost)
    return {b: {"project_set_id": s, "budget": amount, "costs": costs.get(s, [])}
            for b, (s, amount) in budgets.items()}


def replayed_by_flow_run(*, session: Session, flow_run_id: str, budget_ids: Iterable[int]
                         ) -> set[tuple[int, str]]:
    """(budget, requested algorithm) pairs this flow run has replayed among these budgets (a
    retried record task finds what its first attempt committed)."""
    runs = AlgorithmRun.__table__.c
    return {(b, r) for b, r in session.execute(
        select(runs.budget_id, runs.requested_algorithm)
        .where(runs.kind == REPLAY_KIND, runs.flow_run_id == flow_run_id,
               runs.budget_id.in_(sorted(set(budget_ids)))))}


def load_replay_history(*, session: Session, since: datetime | None = None,
                        algorithms: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Replayed user instances as training-history records (the shape of
    `db.model_registry.load_training_history`), from `replay` runs only (never the user's own
    run: one wall-clock sample of what `auto` chose).

    A record: `key` ("<set id>:<budget id>"), `family` (the set's), `projects` (costs as
    Decimal, by position), `budget`, `runs` (`algorithm`, `status`, `total_cost`,
    `execution_time`, `created_at`), `source` ("replay") and `user_time` (the user's first
    solve of the pair: the time a held-out-by-time split orders by). `since` filters on
    `user_time`; `algorithms` on the replayed algorithm. Oldest user solve first.
    """
    runs = AlgorithmRun.__table__.c
    first = (select(runs.budget_id, func.min(runs.created_at).label("user_time"))
             .where(runs.kind == USER_KIND).group_by(runs.budget_id).subquery("first_solve"))
    stmt = (select(runs.project_set_id, runs.budget_id, runs.algorithm_name, runs.match_type,
                   runs.total_cost, runs.execution_time, runs.created_at, first.c.user_time)
            .join(first, first.c.budget_id == runs.budget_id)
            .where(runs.kind == REPLAY_KIND)
            .order_by(first.c.user_time, runs.budget_id, runs.id))
    if since is not None:
        stmt = stmt.where(first.c.user_time >= since)
    if algorithms is not None:
        stmt = stmt.where(runs.algorithm_name.in_(sorted(set(algorithms))))
    grouped: dict[tuple[int, int], dict[str, Any]] = {}
    for set_id, budget_id, name, status, total, seconds, created, user_time in \
            session.execute(stmt):
        rec = grouped.setdefault((set_id, budget_id), {"user_time": user_time, "runs": []})
        rec["runs"].append({"algorithm": name, "status": status, "total_cost": total,
                            "execution_time": seconds, "created_at": created})
    if not grouped:
        return []
    loaded = load_replay_instances(session=session, budget_ids=[b for _, b in grouped])
    families = dict(session.execute(select(ProjectSet.id, ProjectSet.family).where(
        ProjectSet.id.in_(sorted({s for s, _ in grouped})))).all())
    return [{"key": f"{s}:{b}", "family": families.get(s, "custom"),
             "projects": loaded[b]["costs"], "budget": loaded[b]["budget"],
             "runs": rec["runs"], "source": REPLAY_KIND, "user_time": rec["user_time"]}
            for (s, b), rec in grouped.items() if b in loaded]
