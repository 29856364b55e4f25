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


async def current_state(request: Request) -> ApiState:
    """The `ApiState`, with the champion models reloaded first if the registry's alias moved
    (checked at most every few seconds: `api.champion`)."""
    st: ApiState = request.app.state.api
    from api.champion import refresh

    await refresh(st, st.champion_watch)
    return st


def next_link(request: Request) -> Callable[[str, int], str]:
    """`link(parameter, value)`: this request's path and query with `parameter` set to
    `value` (the `next` link of a page: same filters, next offset)."""
    def link(parameter: str, value: int) -> str:
        url = request.url.include_query_params(**{parameter: value})
        return f"{url.path}?{url.query}"

    return link


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
