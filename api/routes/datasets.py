"""Stored project sets: create (idempotent by content), read with run history, solve."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from api import service
from api.auth import CallerDep
from api.body import MoneyRoute, render
from api.deps import current_state, next_link, solve_rendered, state
from api.routes.results import Limit, Offset, Since
from api.routes.solve import ERRORS
from api.schemas import (
    ID_SCHEMA,
    MAX_ID,
    NO_NUL,
    DatasetCreated,
    DatasetList,
    DatasetOut,
    DatasetRequest,
    DatasetSolveRequest,
    RunResult,
    problems,
)
from api.service import ApiState

router = APIRouter(prefix="/datasets", tags=["datasets"], route_class=MoneyRoute)
SetId = Annotated[int, Path(ge=1, le=MAX_ID, description="Project set id.",
                            json_schema_extra=ID_SCHEMA)]
NOT_FOUND: dict[int | str, dict[str, Any]] = problems({404: "No such set (or another owner's)."})
MAX_PROJECTS_PAGE = 10_000


@router.get("/", response_model=DatasetList, responses=problems({
    401: "Missing, invalid or revoked API key.",
    422: "A filter or page parameter out of bounds.", 503: "Database unavailable."}))
def list_datasets(request: Request, st: Annotated[ApiState, Depends(state)], who: CallerDep,
                  limit: Limit = 50,
                  offset: Offset = 0, since: Since = None,
                  family: Annotated[str | None, Query(
                      min_length=1, max_length=50, pattern=NO_NUL,
                      description="Only sets of this family (`custom`: sets users sent; "
                                  "generated ones are named by their generator).")
                  ] = None) -> Response:
    """The caller's stored project sets (an admin key: everyone's), newest first, without
    their projects (GET /datasets/{id}/ has them): `total` counts every match, `next` links
    the next page."""
    return render(DatasetList, service.list_datasets(st, limit, offset, since, family,
                                                     next_link(request), who=who))


@router.post("/", response_model=DatasetCreated, status_code=201, responses={
    **ERRORS, 200: {"model": DatasetCreated, "description": "The same projects already existed."},
})
def create_dataset(body: DatasetRequest, st: Annotated[ApiState, Depends(state)],
                   who: CallerDep) -> Response:
    """Store a reusable project set owned by the caller: 201 when new, 200 when the caller
    already stored the same projects (budgets not yet known are added)."""
    payload, created = service.create_dataset(st, body.name, body.projects, body.budgets, who)
    return render(DatasetCreated, payload, 201 if created else 200)


@router.get("/{set_id}/", response_model=DatasetOut, responses={**NOT_FOUND, **ERRORS})
def get_dataset(request: Request, set_id: SetId, st: Annotated[ApiState, Depends(state)],
                who: CallerDep,
                limit: Limit = 50, offset: Offset = 0,
                projects_limit: Annotated[int, Query(
                    ge=1, le=MAX_PROJECTS_PAGE,
                    description=f"Projects per page (1-{MAX_PROJECTS_PAGE}).")] = 1000,
                projects_offset: Annotated[int, Query(
                    ge=0, le=10**9, description="Projects to skip.")] = 0) -> Response:
    """The set, its budgets, one page of its projects (position order, with their metadata:
    `projects_limit`/`projects_offset`) and one page of its run history, newest first
    (`limit`/`offset`). Each page says its `total` and links the `next` one."""
    return render(DatasetOut, service.dataset(st, set_id, limit, offset, projects_limit,
                                              projects_offset, next_link(request), who=who))


@router.post("/{set_id}/solve", response_model=RunResult, responses={**NOT_FOUND, **ERRORS})
async def solve_dataset(set_id: SetId, body: DatasetSolveRequest,
                        st: Annotated[ApiState, Depends(current_state)],
                        who: CallerDep) -> Response:
    """Solve a stored set against one of its budgets (`budget_id`) or a new one (`budget`)."""
    return await solve_rendered(st, RunResult, service.solve_dataset, st, set_id, body,
                               who)
