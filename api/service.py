"""What the endpoints do, as plain synchronous functions (they run in worker threads).

They call the same `solvers` and `db` functions the Prefect tasks call; nothing here knows
HTTP beyond raising `LimitError` for a request over a configured limit. Each data function first
checks the database's schema revision (`api.dbcheck.check_revision`: one small query), so a
database this code does not know is a `SchemaRevisionError` (a 503) before anything is read,
solved or written.

Each data function takes the `Caller` (`api.auth`): what it creates records the caller's owner,
and it reads only what the caller may see (`Caller.sees`: their own sets and the runs on them;
an admin, everything). Another owner's id is the same 404 as a missing one.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import anyio

import solvers
from api.auth import Caller
from api.dbcheck import check_revision, database_problem
from api.metrics import ApiMetrics
from api.schemas import DatasetSolveRequest, ProjectIn, SolveRequest, money_exact, money_out
from config.settings import Settings
from db import (
    AlgorithmRun,
    ProjectSet,
    record_run,
    session_scope,
)
from db import api_queries as q

log = logging.getLogger("api")


class LimitError(ValueError):
    """A request over a configured limit; becomes a 422 naming the field."""

    def __init__(self, loc: list[str | int], msg: str) -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg


@dataclass
class ApiState:
    """Everything the endpoints share; built once at start-up."""

    settings: Settings
    database_url: str
    metrics: ApiMetrics
    selector: Callable[[Mapping[str, float]], str] | None = None
    selector_name: str = "rules"
    selector_version: Any = None
    selector_note: str | None = None
    """Why a champion in the registry is not used (then the rules choose), else None."""
    runtime_model: Any = None
    """The runtime model that forecasts each solve (`ml.serving.RuntimeModel`), or None."""
    runtime_note: str | None = None
    """Why there is no forecast (no runtime model registered, or not usable), else None."""
    solve_limiter: anyio.CapacityLimiter | None = None
    ops_limiter: anyio.CapacityLimiter | None = None
    champion_watch: Any = None
    """`api.champion.ChampionWatch` when the models follow the registry (set at start-up)."""


# ------------------------------------------------------------------------------ limits


def check_projects(count: int, settings: Settings) -> None:
    """API_MAX_PROJECTS (within MAX_PROJECTS), as a 422 naming `projects`."""
    cap = settings.api_projects_cap
    if count > cap:
        raise LimitError(["body", "projects"],
                         f"at most {cap} projects per request (API_MAX_PROJECTS), got {count}")


def time_limit_for(requested: float | None, settings: Settings) -> float:
    """The time limit a solve gets: the request's, never above the server-side cap."""
    if requested is not None and requested > settings.api_max_time_limit:
        raise LimitError(["body", "time_limit"],
                         f"must be at most {settings.api_max_time_limit} seconds, got {requested}")
    cap = settings.api_solve_time_cap
    return cap if requested is None else min(requested, cap)


def _limits(settings: Settings) -> solvers.Limits:
    return dataclasses.replace(settings.solver_limits(),
                               default_time_limit=settings.api_solve_time_cap)


def run_solver(state: ApiState, projects: Sequence[Any], budget: Any, algorithm: str,
               time_limit: float | None, *, measure_memory: bool = False) -> dict[str, Any]:
    """`solvers.solve` with the API's limits and selector; metrics recorded."""
    settings = state.settings
    options: dict[str, Any] = {"limits": _limits(settings), "measure_memory": measure_memory}
    if algorithm == "auto" and state.selector is not None:
        options["selector"] = state.selector
    result = solvers.solve(projects, budget, algorithm=algorithm,
                           time_limit=time_limit_for(time_limit, settings), **options)
    if algorithm == "auto" and state.selector is None and state.selector_note:
        reason = result.get("reason")
        note = state.selector_note
        result = {**result, "reason": note if reason is None else f"{note}; {reason}"}
    if not measure_memory:
        result = {**result, "memory_used": None}  # not measured: null, never a fake 0
    state.metrics.observe_solve(result)
    return {**result, **forecast_of(state, projects, budget, algorithm, time_limit)}


def forecast_of(state: ApiState, projects: Sequence[Any], budget: Any, algorithm: str,
                time_limit: float | None) -> dict[str, Any]:
    """`{"forecast", "forecast_note"}` of the runtime model loaded at start-up, for the solve
    just made (same selector, time limit and limits), or no forecast and why."""
    if state.runtime_model is None:
        return {"forecast": None, "forecast_note": state.runtime_note}
    from ml.serving import forecast_fields

    selector = state.selector if algorithm == "auto" else None
    return forecast_fields(state.runtime_model, state.runtime_note, projects, budget,
                           algorithm, time_limit_for(time_limit, state.settings), selector,
                           _limits(state.settings))


def _forecast_out(result: Mapping[str, Any]) -> dict[str, Any]:
    return {"forecast": result.get("forecast"), "forecast_note": result.get("forecast_note")}


# ------------------------------------------------------------------------------ results


def _alerts(state: ApiState, session: Any, result: Mapping[str, Any], run_id: int) -> None:
    """Raise (store, count, log) an alert for a slow or memory-hungry solve."""
    s = state.settings
    checks = [("slow_solve", result.get("execution_time") or 0.0, s.alert_time_seconds, "s"),
              ("solve_memory", result.get("memory_used") or 0.0, s.alert_memory_mb, "MiB")]
    for kind, value, threshold, unit in checks:
        if value > threshold:
            message = (f"run {run_id} ({result.get('algorithm')}, n={result.get('n')}) took "
                       f"{value:.3g} {unit}, over the {threshold} {unit} threshold")
            q.record_alert(session=session, kind=kind, severity="warning", message=message,
                           context={"run_id": run_id, "value": value, "threshold": threshold})
            state.metrics.alerts.labels(kind=kind).inc()
            log.warning("alert %s: %s", kind, message)


def _project_out(index: int, name: str, cost: Any, metadata: Any = None) -> dict[str, Any]:
    """A project in the response vocabulary (the CLI's `--json` items plus `cost_exact`)."""
    return {"index": index, "name": name, "cost": money_out(cost), "cost_exact": money_exact(cost),
            "metadata": metadata if isinstance(metadata, dict) else {}}


def _selected(indices: Sequence[int], projects: Sequence[Mapping[str, Any]]) -> list[dict]:
    return [_project_out(i, projects[i]["name"], projects[i]["cost"],
                         projects[i].get("metadata")) for i in indices]


NextLink = Callable[[str, int], str]
"""`next_link(parameter, value)`: this request's URL with the offset parameter set to value."""


def _next(next_link: NextLink | None, parameter: str, limit: int, offset: int,
          total: int) -> str | None:
    if next_link is None or offset + limit >= total:
        return None
    return next_link(parameter, offset + limit)


def _exact_amounts(result: Mapping[str, Any]) -> dict[str, Any]:
    """The result with its amounts as exact Decimals (from `*_exact`) for storing: a float
    cannot hold the cents of 12345678901234567.89."""
    out = dict(result)
    for key in ("total_cost", "upper_bound", "budget"):
        exact = result.get(f"{key}_exact")
        if exact is not None:
            out[key] = Decimal(exact)
    return out


def memory_method_of(run: AlgorithmRun) -> str | None:
    """How a stored run's memory was measured: "none" when it was not (memory_used is null);
    the stored method if the table has one, else null (not recorded)."""
    stored = getattr(run, "memory_method", None)
    if stored is not None:
        return stored
    return "none" if run.memory_used is None else None


def run_payload(run: AlgorithmRun, budget: Any, selected: list[dict],
                memory_method: str | None = None, n: int | None = None) -> dict[str, Any]:
    """A stored run in the response vocabulary."""
    return {
        "run_id": run.id,
        "dataset_id": run.project_set_id,
        "budget_id": run.budget_id,
        "budget": money_out(budget),
        "budget_exact": money_exact(budget),
        "selected_indices": list(run.selected_projects),
        "selected_projects": selected,
        "total_cost": money_out(run.total_cost),
        "total_cost_exact": money_exact(run.total_cost),
        "status": run.match_type,
        "upper_bound": money_out(run.upper_bound),
        "upper_bound_exact": money_exact(run.upper_bound),
        "algorithm": run.algorithm_name,
        "requested_algorithm": run.requested_algorithm,
        "selector": run.selector,
        "reason": run.reason,
        "flow_run_id": run.flow_run_id,
        "created_at": run.created_at,
        "stats": {"execution_time": run.execution_time, "memory_used": run.memory_used,
                  "memory_method": memory_method, "n": n},
    }


def _record(state: ApiState, session: Any, set_id: int, budget_id: int,
            result: Mapping[str, Any], requested: str) -> AlgorithmRun:
    run = record_run(session=session, project_set_id=set_id, budget_id=budget_id,
                     result=_exact_amounts(result), requested_algorithm=requested)
    _alerts(state, session, result, run.id)
    return run


# ------------------------------------------------------------------------------ endpoints


def solve_new(state: ApiState, req: SolveRequest, who: Caller) -> dict[str, Any]:
    """POST /solve/: solve, store the set (idempotent by content, per owner) and the run."""
    check_projects(len(req.projects), state.settings)
    check_revision(state.database_url)
    projects = [p.as_solver_input(i) for i, p in enumerate(req.projects)]
    result = run_solver(state, projects, str(req.budget), req.algorithm, req.time_limit,
                        measure_memory=req.measure_memory)
    with session_scope(state.database_url) as session:
        project_set, _ = q.create_owned_set(session=session, owner_id=who.owner_id,
                                            name=req.name, projects=projects,
                                            budgets=[req.budget])
        budget = q.budget_for_amount(session=session, set_id=project_set.id, amount=req.budget)
        run = _record(state, session, project_set.id, budget.id, result, req.algorithm)
        payload = run_payload(run, req.budget, _selected(run.selected_projects, projects),
                              result.get("memory_method"), result.get("n"))
    return {**payload, **_forecast_out(result)}


def _budget_out(budget: Any) -> dict[str, Any]:
    return {"id": budget.id, "amount": money_out(budget.amount),
            "amount_exact": money_exact(budget.amount)}


def create_dataset(state: ApiState, name: str, projects: list[ProjectIn],
                   budgets: list[Decimal], who: Caller) -> tuple[dict[str, Any], bool]:
    """POST /datasets/: (body, created); the same projects are stored once per owner."""
    check_projects(len(projects), state.settings)
    check_revision(state.database_url)
    rows = [p.as_solver_input(i) for i, p in enumerate(projects)]
    with session_scope(state.database_url) as session:
        project_set, created = q.create_owned_set(session=session, owner_id=who.owner_id,
                                                  name=name, projects=rows, budgets=budgets)
        full = q.get_set_with_projects(session=session, set_id=project_set.id)
        body = {"id": full.id, "created": created, "name": full.name,
                "n_projects": full.n_projects, "content_hash": full.content_hash,
                "budgets": [_budget_out(b) for b in full.budgets]}
    return body, created


def _run_summary(r: AlgorithmRun) -> dict[str, Any]:
    return {"run_id": r.id, "budget_id": r.budget_id, "algorithm": r.algorithm_name,
            "requested_algorithm": r.requested_algorithm, "status": r.match_type,
            "total_cost": money_out(r.total_cost), "total_cost_exact": money_exact(r.total_cost),
            "upper_bound": money_out(r.upper_bound),
            "upper_bound_exact": money_exact(r.upper_bound),
            "selector": r.selector, "execution_time": r.execution_time,
            "created_at": r.created_at}


def dataset(state: ApiState, set_id: int, limit: int, offset: int, projects_limit: int = 1000,
            projects_offset: int = 0, next_link: NextLink | None = None, *,
            who: Caller) -> dict[str, Any]:
    """GET /datasets/{id}/: the set, its budgets, one page of its projects (position order,
    with their metadata) and one page of its runs (newest first, every kind)."""
    check_revision(state.database_url)
    with session_scope(state.database_url) as session:
        ps = q.dataset_header(session=session, set_id=set_id, owner_id=who.sees)
        rows = q.project_page(session=session, set_id=set_id, limit=projects_limit,
                              offset=projects_offset)
        runs = q.list_runs(session=session, dataset_id=set_id, limit=limit, offset=offset,
                           kinds=None)
        return {
            "id": ps.id, "name": ps.name, "family": ps.family, "n_projects": ps.n_projects,
            "content_hash": ps.content_hash, "created_at": ps.created_at,
            "projects": {
                "items": [_project_out(p.position, p.name, p.cost, p.meta) for p in rows],
                "total": ps.n_projects, "limit": projects_limit, "offset": projects_offset,
                "next": _next(next_link, "projects_offset", projects_limit, projects_offset,
                              ps.n_projects),
            },
            "budgets": [_budget_out(b) for b in ps.budgets],
            "runs": {
                "items": [_run_summary(r) for r, _amount in runs.items],
                "total": runs.total, "limit": limit, "offset": offset,
                "next": _next(next_link, "offset", limit, offset, runs.total),
            },
        }


def list_datasets(state: ApiState, limit: int, offset: int, since: Any = None,
                  family: str | None = None, next_link: NextLink | None = None, *,
                  who: Caller) -> dict[str, Any]:
    """GET /datasets/: one page of the stored sets the caller may see, newest first (without
    their projects)."""
    check_revision(state.database_url)
    with session_scope(state.database_url) as session:
        page = q.list_project_sets(session=session, limit=limit, offset=offset, since=since,
                                   family=family, owner_id=who.sees)
        items = [{"id": ps.id, "name": ps.name, "family": ps.family,
                  "n_projects": ps.n_projects, "content_hash": ps.content_hash,
                  "created_at": ps.created_at} for ps in page.items]
    return {"items": items, "total": page.total, "limit": limit, "offset": offset,
            "next": _next(next_link, "offset", limit, offset, page.total)}


def list_results(state: ApiState, limit: int, offset: int, *, dataset_id: int | None = None,
                 algorithm: str | None = None, status: str | None = None, since: Any = None,
                 next_link: NextLink | None = None, who: Caller) -> dict[str, Any]:
    """GET /results/: one page of the users' runs the caller may see (never benchmark, replay
    or training runs), newest first, filtered by set, algorithm (ran or requested), status
    and time."""
    check_revision(state.database_url)
    with session_scope(state.database_url) as session:
        page = q.list_runs(session=session, limit=limit, offset=offset, dataset_id=dataset_id,
                           algorithm=algorithm, status=status, since=since,
                           owner_id=who.sees)
        items = []
        for run, amount in page.items:
            item = _run_summary(run)
            item.update(dataset_id=run.project_set_id, budget=money_out(amount),
                        budget_exact=money_exact(amount),
                        selected_indices=list(run.selected_projects), reason=run.reason)
            items.append(item)
    return {"items": items, "total": page.total, "limit": limit, "offset": offset,
            "next": _next(next_link, "offset", limit, offset, page.total)}


def solve_dataset(state: ApiState, set_id: int, req: DatasetSolveRequest,
                  who: Caller) -> dict[str, Any]:
    """POST /datasets/{id}/solve: solve a stored set against one of its budgets or a new one."""
    check_revision(state.database_url)
    with session_scope(state.database_url) as session:
        ps = q.visible_set(session=session, set_id=set_id, owner_id=who.sees)
        projects = [{"name": p.name, "cost": p.cost, "metadata": p.meta} for p in ps.projects]
        amount: Any = req.budget
        if req.budget_id is not None:
            amount = q.budget_in_set(session=session, set_id=set_id, budget_id=req.budget_id).amount
    result = run_solver(state, projects, amount, req.algorithm, req.time_limit,
                        measure_memory=req.measure_memory)
    with session_scope(state.database_url) as session:
        budget = q.budget_for_amount(session=session, set_id=set_id, amount=amount)
        run = _record(state, session, set_id, budget.id, result, req.algorithm)
        payload = run_payload(run, amount, _selected(run.selected_projects, projects),
                              result.get("memory_method"), result.get("n"))
    return {**payload, **_forecast_out(result)}


def result(state: ApiState, run_id: int, who: Caller) -> dict[str, Any]:
    """GET /results/{run_id}/."""
    check_revision(state.database_url)
    with session_scope(state.database_url) as session:
        run, amount = q.run_with_budget(session=session, run_id=run_id, owner_id=who.sees)
        rows = q.projects_at(session=session, set_id=run.project_set_id,
                             positions=run.selected_projects)
        selected = [_project_out(p.position, p.name, p.cost, p.meta) for p in rows]
        project_set = session.get(ProjectSet, run.project_set_id)
        n = project_set.n_projects if project_set is not None else None
        return run_payload(run, amount, selected, memory_method_of(run), n)


def database_health(state: ApiState) -> dict[str, Any]:
    """{"ok": bool, "backend": ..., "detail"?: why not}: reachable, at the schema revision this
    code knows (`api.dbcheck.database_problem`: `DATABASE_URL` masked in the detail)."""
    backend = state.database_url.split(":", 1)[0].split("+", 1)[0]
    problem = database_problem(state.database_url)
    if problem is not None:
        log.warning("health: %s", problem)
        return {"ok": False, "backend": backend, "detail": problem}
    return {"ok": True, "backend": backend}
