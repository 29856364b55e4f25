"""Shared endpoint helpers: the app state, and running blocking work off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from fastapi import Request

from api.body import render
from api.service import ApiState

T = TypeVar("T")


def state(request: Request) -> ApiState:
    """The `ApiState` built at start-up (FastAPI dependency)."""
    return request.app.state.api


async def solve_in_thread(st: ApiState, fn: Callable[..., T], *args: Any) -> T:
    """Run a solve in a worker thread, at most `SOLVE_THREADS` at once per process."""
    return await anyio.to_thread.run_sync(fn, *args, limiter=st.solve_limiter)


async def ops_in_thread(st: ApiState, fn: Callable[..., T], *args: Any) -> T:
    """Run a quick blocking call (health check) on its own small pool, never behind solves."""
    return await anyio.to_thread.run_sync(fn, *args, limiter=st.ops_limiter)


async def solve_rendered(st: ApiState, model: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` in a solve thread, its result checked and rendered as `model` there too (a
    response of 200,000 projects is CPU work the event loop must not do)."""
    def call() -> Any:
        return render(model, fn(*args))

    return await anyio.to_thread.run_sync(call, limiter=st.solve_limiter)
