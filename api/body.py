"""Request bodies read by their text and checked off the event loop; responses rendered there too.

FastAPI decodes a JSON body with `json.loads`, so a JSON number is a binary float before any
validator sees it (`90071992547409.93` arrives as `…409.94`). `MoneyRoute` (FastAPI's documented
custom Request/APIRoute pattern) decodes every JSON body the way `solvers.money.loads` does
instead (`decode`): fractions as `Decimal`, integers as `int`, each number by its own text.

Decoding, validating (pydantic, the money rule, the metadata walk) and rendering a response are
CPU work on up to API_MAX_BODY_BYTES: they run in a worker thread, one request at a time
(`BODY_THREADS`), so the event loop stays free and /health answers while big bodies are read.
The route's own validation then receives the model already built (pydantic does not validate an
instance of the model twice), and a bad body is the usual 422 raised before the endpoint runs.
"""

from __future__ import annotations

import asyncio
import email.message
import gc
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import anyio
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from solvers import money

BODY_THREADS = 1
"""Bodies decoded and validated at once per process. One: the work is CPU-bound under the GIL,
so more at once would not finish sooner; they would only hold more memory at the same time and
keep garbage collection paused longer (`gc_paused`)."""
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary())


def body_limiter() -> anyio.CapacityLimiter:
    """The limiter for body work on the running event loop (one per loop: per server)."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(BODY_THREADS)
    return limiter


def is_json(request: Request) -> bool:
    """The content type FastAPI reads as JSON: application/json or application/*+json."""
    value = request.headers.get("content-type")
    if not value:
        return False
    message = email.message.Message()
    message["content-type"] = value
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json"))


def _decode_error(exc: Exception) -> RequestValidationError:
    """A body that is not JSON (or not UTF-8, or numbers beyond Python's limits): a 422."""
    if isinstance(exc, UnicodeError):
        why = "it is not UTF-8"
    elif isinstance(exc, RecursionError):
        why = "it is nested too deep"
    else:
        why = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
    return RequestValidationError([{"type": "json_invalid", "loc": ("body",),
                                    "msg": f"the body is not valid JSON: {why}", "input": None}])


_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a body is decoded and validated.

    A 16 MB body is millions of new objects; each full collection walks them all, holding the
    GIL (measured: 5-9 full collections of up to 0.5 s each per body, 40 % of the work, and the
    event loop waiting on every one). JSON documents and the models built from them hold no
    reference cycles: reference counting frees them, the collector has nothing to find there.
    Collection resumes when the last body in work is done (counted across threads)."""
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def _object(value: dict[str, Any]) -> dict[str, Any]:
    return value


def decode(body: bytes | str) -> Any:
    """`solvers.money.loads(body)`: every fraction a `Decimal` read from its text, integers
    `int`, plus an identity object hook written in Python: the C decoder holds the GIL for a
    whole document (about a second for 16 MB on a busy machine), and a Python call at each
    object (and, inside `money.loads`, at each fraction) is where the interpreter lets the
    event loop run."""
    return money.loads(body, object_hook=_object)


def decode_and_validate(body: bytes, field: Any) -> Any:
    """`body` decoded as by `solvers.money.loads` and validated as `field` (FastAPI's ModelField
    of the route's body). Raises `RequestValidationError` (a 422) when either fails."""
    with gc_paused():
        try:
            data = decode(body)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeError too
            raise _decode_error(exc) from None
        value, errors = field.validate(data, {}, loc=("body",))
        del data
    if errors:
        raise RequestValidationError(errors)
    return value


class MoneyRequest(Request):
    """A request whose `json()` is the body decoded as by `solvers.money.loads` (and, once
    `prepare` ran, already validated as the route's body model)."""

    async def prepare(self, field: Any) -> None:
        """Read the body, then decode and validate it in a worker thread."""
        body = await self.body()
        if not body:
            return
        self._json = await anyio.to_thread.run_sync(decode_and_validate, body, field,
                                                    limiter=body_limiter())

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            self._json = await anyio.to_thread.run_sync(decode, body, limiter=body_limiter())
        return self._json


class MoneyRoute(APIRoute):
    """Every route of the API: JSON bodies decoded and validated by `MoneyRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        field = self.body_field

        async def handler(request: Request) -> Response:
            request = MoneyRequest(request.scope, request.receive)
            if field is not None and is_json(request):
                await request.prepare(field)
            return await original(request)

        return handler


@lru_cache(maxsize=32)
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def render(model: Any, payload: Any, status_code: int = 200) -> Response:
    """`payload` checked against the response `model` and rendered as JSON bytes: what FastAPI
    does with a `response_model`, done here so that it runs in the caller's worker thread."""
    adapter = _adapter(model)
    content = adapter.dump_json(adapter.validate_python(payload))
    return Response(content, status_code=status_code, media_type="application/json")
