"""GET /results/{run_id}/: one recorded run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from api import service
from api.body import MoneyRoute, render
from api.deps import state
from api.schemas import ID_SCHEMA, MAX_ID, Message, RunResult, ValidationErrors
from api.service import ApiState

router = APIRouter(tags=["results"], route_class=MoneyRoute)


@router.get("/results/{run_id}/", response_model=RunResult, responses={
    404: {"model": Message, "description": "No such run."},
    422: {"model": ValidationErrors, "description": "Malformed id."},
    503: {"model": Message, "description": "Database unavailable."},
})
def get_result(run_id: Annotated[int, Path(ge=1, le=MAX_ID, json_schema_extra=ID_SCHEMA)],
               st: Annotated[ApiState, Depends(state)]) -> Response:
    """One run: what ran, what it chose (with the projects' names and costs), how long."""
    return render(RunResult, service.result(st, run_id))
