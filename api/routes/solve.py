"""POST /solve/: solve a list of projects against a budget and record the run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api import service
from api.auth import CallerDep
from api.body import MoneyRoute
from api.deps import current_state, solve_rendered
from api.schemas import RunResult, SolveRequest, problems
from api.service import ApiState

router = APIRouter(tags=["solve"], route_class=MoneyRoute)

ERRORS: dict[int | str, dict[str, Any]] = problems({
    401: "Missing, invalid or revoked API key (`Authorization: Bearer <key>`).",
    413: "Body larger than API_MAX_BODY_BYTES.",
    422: "Bad input: each field's path and reason in `errors`.",
    503: "Database unavailable.",
})


@router.post("/solve/", response_model=RunResult, responses=ERRORS)
async def solve(body: SolveRequest, st: Annotated[ApiState, Depends(current_state)],
                who: CallerDep) -> dict[str, Any]:
    """Solve with `auto` (champion model or rules) unless an algorithm is named; record the run.

    Costs and budget may be money with cents. The set of projects is stored once by content.
    """
    return await solve_rendered(st, RunResult, service.solve_new, st, body, who)
