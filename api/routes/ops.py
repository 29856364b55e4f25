"""GET /health and GET /metrics: for load balancers and Prometheus.

/health needs no key (load balancers); /metrics needs an admin key when API_AUTH is on
(request counts, solve times and the model are an operator's business).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from api import service
from api.auth import AdminDep
from api.body import MoneyRoute
from api.deps import current_state, ops_in_thread, state
from api.schemas import Health, problems
from api.service import ApiState

router = APIRouter(tags=["operations"], route_class=MoneyRoute)


@router.get("/health", response_model=Health, responses={
    503: {"model": Health, "description": "The database cannot be reached."}})
async def health(st: Annotated[ApiState, Depends(current_state)]) -> JSONResponse:
    """Database reachable, and which selector `auto` uses (the champion model, or the rules).

    `model.source`: "champion" (loaded), "none" (no model yet: rules), or "fallback" (a champion
    exists but could not be loaded: rules, and `model.note` says why).

    Answers while solves run: solves use their own worker threads, this check another pool.
    """
    db = await ops_in_thread(st, service.database_health, st)
    source = "champion" if st.selector is not None else "fallback" if st.selector_note else "none"
    model = {"selector": st.selector_name, "version": st.selector_version, "source": source}
    if st.selector_note:
        model["note"] = st.selector_note
    body = {"status": "ok" if db["ok"] else "degraded", "database": db, "model": model}
    return JSONResponse(status_code=200 if db["ok"] else 503, content=body)


@router.get("/metrics", response_class=Response, responses={
    200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition."},
    **problems({401: "Missing, invalid or revoked API key.",
                403: "The key is not an admin key."})})
async def metrics(st: Annotated[ApiState, Depends(state)], who: AdminDep) -> Response:
    """Prometheus metrics: requests, latency, solver runs, solve time, fallbacks, model, alerts.

    Needs an admin API key (Prometheus: `authorization: {credentials_file: ...}`)."""
    payload, content_type = st.metrics.exposition()
    return Response(content=payload, media_type=content_type)
