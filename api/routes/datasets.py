"""Stored project sets: create (idempotent by content), read with run history, solve."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from api import service
from api.body import MoneyRoute, render
from api.deps import solve_rendered, state
from api.routes.solve import ERRORS
from api.schemas import (
    ID_SCHEMA,
    MAX_ID,
    DatasetCreated,
    DatasetOut,
    DatasetRequest,
    DatasetSolveRequest,
    Message,
    RunResult,
)
from api.service import ApiState

router = APIRouter(prefix="/datasets", tags=["datasets"], route_class=MoneyRoute)
SetId = Annotated[int, Path(ge=1, le=MAX_ID, description="Project set id.",
                            json_schema_extra=ID_SCHEMA)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Message, "description": "No such set."}}


@router.post("/", response_model=DatasetCreated, status_code=201, responses={
    **ERRORS, 200: {"model": DatasetCreated, "description": "The same projects already existed."},
})
def create_dataset(body: DatasetRequest, st: Annotated[ApiState, Depends(state)]) -> Response:
    """Store a reusable project set: 201 when new, 200 when the same projects already exist
    (budgets not yet known are added)."""
    payload, created = service.create_dataset(st, body.name, body.projects, body.budgets)
    return render(DatasetCreated, payload, 201 if created else 200)


@router.get("/{set_id}/", response_model=DatasetOut, responses={**NOT_FOUND, **ERRORS})
def get_dataset(set_id: SetId, st: Annotated[ApiState, Depends(state)],
                limit: Annotated[int, Query(ge=1, le=500)] = 50,
                offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> Response:
    """The set, its budgets and its run history, newest first (`limit`/`offset` paginate)."""
    return render(DatasetOut, service.dataset(st, set_id, limit, offset))


@router.post("/{set_id}/solve", response_model=RunResult, responses={**NOT_FOUND, **ERRORS})
async def solve_dataset(set_id: SetId, body: DatasetSolveRequest,
                        st: Annotated[ApiState, Depends(state)]) -> Response:
    """Solve a stored set against one of its budgets (`budget_id`) or a new one (`budget`)."""
    return await solve_rendered(st, RunResult, service.solve_dataset, st, set_id, body)
