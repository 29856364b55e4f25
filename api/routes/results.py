"""GET /results/: the users' recorded runs, one page at a time; GET /results/{run_id}/: one run."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from api import service
from api.auth import CallerDep
from api.body import MoneyRoute, render
from api.deps import next_link, state
from api.schemas import (
    ID_SCHEMA,
    MAX_ID,
    AlgorithmName,
    ResultList,
    RunResult,
    Status,
    problems,
)
from api.service import ApiState

router = APIRouter(tags=["results"], route_class=MoneyRoute)
MAX_PAGE = 500
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page (1-500).")]
Offset = Annotated[int, Query(ge=0, le=10**9, description="Items to skip.")]
Since = Annotated[datetime | None, Query(
    description="Only items recorded at or after this time (ISO 8601; UTC when no zone).")]


@router.get("/results/", response_model=ResultList, responses=problems({
    401: "Missing, invalid or revoked API key.",
    422: "A filter or page parameter out of bounds.", 503: "Database unavailable."}))
def list_results(
    request: Request, st: Annotated[ApiState, Depends(state)], who: CallerDep,
    limit: Limit = 50,
    offset: Offset = 0,
    dataset_id: Annotated[int | None, Query(ge=1, le=MAX_ID, json_schema_extra=ID_SCHEMA,
                                            description="Only runs of this project set.")] = None,
    algorithm: Annotated[AlgorithmName | None, Query(
        description="Only runs where this algorithm ran or was requested (`auto`: every run "
                    "`auto` chose).")] = None,
    status: Annotated[Status | None, Query(description="Only runs with this status.")] = None,
    since: Since = None,
) -> Response:
    """The runs users asked for on the caller's sets (an admin key: everyone's; API and solve
    flow; never benchmark, replay or training runs), newest first, one page at a time:
    `total` counts every match, `next` links the next page."""
    return render(ResultList, service.list_results(
        st, limit, offset, dataset_id=dataset_id, algorithm=algorithm, status=status,
        since=since, next_link=next_link(request), who=who))


@router.get("/results/{run_id}/", response_model=RunResult, responses=problems({
    401: "Missing, invalid or revoked API key.", 404: "No such run (or another owner's).",
    422: "Malformed id.", 503: "Database unavailable."}))
def get_result(run_id: Annotated[int, Path(ge=1, le=MAX_ID, json_schema_extra=ID_SCHEMA)],
               st: Annotated[ApiState, Depends(state)], who: CallerDep) -> Response:
    """One run: what ran, what it chose (with the projects' names, costs and metadata), how
    long."""
    return render(RunResult, service.result(st, run_id, who))
