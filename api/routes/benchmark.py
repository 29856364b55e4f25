"""GET /algorithms/benchmark: a bounded benchmark now, or the Prefect deployment in background."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse

from api import benchmark
from api.auth import AdminDep
from api.body import MoneyRoute
from api.deps import solve_in_thread, state
from api.schemas import AlgorithmName, BackgroundRun, BenchmarkOut, Family, problems
from api.service import ApiState, LimitError
from solvers import ALGORITHMS
from solvers.instances import TODD_MAX_N

router = APIRouter(tags=["algorithms"], route_class=MoneyRoute)
log = logging.getLogger("api")
DEFAULT_ALGORITHMS = [a for a in ALGORITHMS if a != "brute_force"]
MAX_N = 200
MAX_N_BY_FAMILY = {"todd": TODD_MAX_N}
"""Families that cannot be generated at every n (Todd's costs grow like 2**(2n))."""
N_DESCRIPTION = (f"Projects per instance: 1 to {MAX_N}, and at most {TODD_MAX_N} for "
                 f"family=todd (its costs grow like 2**(2n)); over it: 422 naming `n`.")


def check_family_n(family: str, n: int) -> None:
    """The per-family cap on n that the schema states (`x-max-by-family`)."""
    cap = MAX_N_BY_FAMILY.get(family)
    if cap is not None and n > cap:
        raise LimitError(["query", "n"], f"n must be at most {cap} for family {family!r} "
                                         f"(its costs grow like 2**(2n)), got {n}")


def _flow_parameters(family: str, n: int, instances: int, seed: int,
                     algorithms: list[str], time_limit: float) -> dict[str, Any]:
    """The `benchmark` flow's parameters (its own pydantic model, so Prefect accepts them).

    No database URL is passed: the flow uses the DATABASE_URL of the process serving it, and
    flow parameters are visible in the Prefect UI.
    """
    from pydantic import ValidationError

    from flows.params import BenchmarkParams  # plain pydantic, no Prefect import

    try:
        params = BenchmarkParams(families=[family], sizes=[n], per_size=instances, seed=seed,
                                 algorithms=algorithms, time_limit=time_limit)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise LimitError(["query", *map(str, first["loc"])], first["msg"]) from None
    return {"params": params.model_dump(mode="json", exclude_none=True)}


def _start_background(parameters: dict[str, Any]) -> dict[str, str]:
    """Start the benchmark deployment through flows.remote (imported lazily: no Prefect here)."""
    from flows import remote
    from flows.names import BENCHMARK_ADHOC

    if not remote.prefect_api_configured():
        raise HTTPException(503, "background benchmarks need a Prefect API: set PREFECT_API_URL "
                                 f"and serve the {BENCHMARK_ADHOC!r} deployment (`budget serve`)")
    try:
        flow_run_id = remote.start_benchmark_run(parameters)
    except Exception as exc:  # Prefect raises many types; the detail is logged, not sent
        log.warning("could not start %s: %s", BENCHMARK_ADHOC, type(exc).__name__)
        raise HTTPException(503, f"could not start the {BENCHMARK_ADHOC!r} deployment "
                                 f"({type(exc).__name__}); is `budget serve` running?") from None
    return {"flow_run_id": str(flow_run_id), "deployment": BENCHMARK_ADHOC}


@router.get("/algorithms/benchmark", response_model=BenchmarkOut, responses={
    202: {"model": BackgroundRun, "description": "background=true: the flow run started."},
    **problems({401: "Missing, invalid or revoked API key.",
                403: "The key is not an admin key.", 422: "Parameters out of bounds.",
                503: "background=true but no Prefect API/deployment."}),
})
async def benchmark_algorithms(
    st: Annotated[ApiState, Depends(state)],
    who: AdminDep,
    family: Family = "uniform",
    n: Annotated[int, Query(ge=1, le=MAX_N, description=N_DESCRIPTION,
                                 json_schema_extra={"x-max-by-family": MAX_N_BY_FAMILY})] = 30,
    instances: Annotated[int, Query(ge=1, le=10)] = 3,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    algorithm: Annotated[list[AlgorithmName] | None, Query(
        max_length=len(ALGORITHMS), description="Repeat to pick several; default all but "
                                                "brute_force.")] = None,
    time_limit: Annotated[float, Query(gt=0, le=2.0, description="Seconds per solve.")] = 0.2,
    background: bool = False,
) -> Any:
    """Run every chosen algorithm on the same generated instances and compare them.

    Needs an admin API key. Bounded: instances × algorithms × time_limit must fit the
    server's solve-time cap, and family=todd takes n ≤ 40 (a 422 naming `n` above it).
    With `background=true` the `benchmark/adhoc` Prefect deployment runs it instead and the
    flow-run id comes back (202); without a configured Prefect API that is a 503.
    """
    check_family_n(family, n)
    algorithms = list(dict.fromkeys(algorithm or DEFAULT_ALGORITHMS))
    if background:
        params = _flow_parameters(family, n, instances, seed, algorithms, time_limit)
        body = await solve_in_thread(st, _start_background, params)
        return JSONResponse(status_code=202, content=body)
    benchmark.check_bounds(st, instances, algorithms, time_limit)
    return await solve_in_thread(st, benchmark.run, st, family, n, instances, seed, algorithms,
                                 time_limit)
