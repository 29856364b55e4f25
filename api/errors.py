"""One error shape for every failure; no stack trace and no secret ever reaches a response.

* bad input (pydantic, the solver's `InvalidInputError`, the data layer's `DataValidationError`)
  → 422 ``{"detail": [{"loc": [...], "field": "projects[3].cost", "msg": ..., "type": ...}]}``
* unknown id → 404, database unreachable → 503, anything unexpected → 500 ``{"detail": ...}``
  (logged server-side with the traceback, never sent).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from db import DatabaseUnavailableError, DataValidationError, NotFoundError
from solvers import InvalidInputError, UnknownAlgorithmError

log = logging.getLogger("api")

_FIELD_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    """("body", "projects", 3, "cost") → "projects[3].cost"."""
    parts = list(loc[1:] if loc and loc[0] in _LOCATIONS else loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_field(field: str) -> list[str | int]:
    """"projects[3].cost" → ["projects", 3, "cost"]."""
    return [int(index) if index else name for name, index in _FIELD_PART.findall(field)]


def validation_error(loc: list[str | int], msg: str, kind: str = "value_error") -> JSONResponse:
    """A 422 in the same shape pydantic's errors take."""
    item = {"loc": loc, "field": field_name(loc), "msg": msg, "type": kind}
    return JSONResponse(status_code=422, content={"detail": [item]})


def _short(text: Any, limit: int = 300) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


async def _request_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    items = []
    for err in exc.errors()[:50]:
        loc = [p if isinstance(p, int) else str(p) for p in err.get("loc", ())]
        msg = str(err.get("msg", ""))
        msg = msg.removeprefix("Value error, ")  # pydantic's wrapper around our own messages
        items.append({"loc": loc, "field": field_name(loc), "msg": _short(msg),
                      "type": str(err.get("type", "value_error"))})
    return JSONResponse(status_code=422, content={"detail": items})


async def _invalid_input(_: Request, exc: InvalidInputError) -> JSONResponse:
    loc: list[str | int] = ["body", *parse_field(exc.field)]
    return validation_error(loc, _short(f"{exc.problem} (got {exc.value!r})"), "invalid_input")


async def _limit(_: Request, exc: Exception) -> JSONResponse:
    return validation_error(list(exc.loc), _short(exc.msg), "limit_exceeded")  # type: ignore[attr-defined]


async def _unknown_algorithm(_: Request, exc: UnknownAlgorithmError) -> JSONResponse:
    return validation_error(["body", "algorithm"], _short(str(exc)), "unknown_algorithm")


async def _data_validation(_: Request, exc: DataValidationError) -> JSONResponse:
    message = str(exc)
    head = message.split(" ", 1)[0].rstrip(":")
    loc: list[str | int] = ["body", *parse_field(head)] if head else ["body"]
    return validation_error(loc, _short(message), "invalid_data")


async def _data_error(_: Request, exc: DataError) -> JSONResponse:
    # A value the database refused (the edge checks should have caught it): no SQL is sent back.
    log.warning("database refused a value: %s", str(exc.orig).splitlines()[:1])
    return validation_error(["body"], "a value was refused by the database", "invalid_data")


async def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
    return JSONResponse(status_code=404, content={"detail": str(exc)})


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, DatabaseUnavailableError):  # password-free by construction
        log.error("database unavailable: %s", exc)
    else:  # a connection lost mid-query: the driver's first line names no password
        log.error("database error: %s", str(getattr(exc, "orig", exc)).splitlines()[:1])
    return JSONResponse(status_code=503, content={"detail": "database unavailable"})


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's answer to a body that is not UTF-8 JSON: bad input like any other (422)
        return validation_error(["body"], "the body is not valid UTF-8 JSON", "json_invalid")
    return JSONResponse(status_code=exc.status_code, content={"detail": _short(exc.detail)},
                        headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(status_code=500, content={"detail": "internal error"})


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(RequestValidationError, _request_validation)
    from api.service import LimitError  # service imports db and solvers; keep this module light

    app.add_exception_handler(LimitError, _limit)
    app.add_exception_handler(InvalidInputError, _invalid_input)
    app.add_exception_handler(UnknownAlgorithmError, _unknown_algorithm)
    app.add_exception_handler(DataValidationError, _data_validation)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(DatabaseUnavailableError, _unavailable)
    app.add_exception_handler(OperationalError, _unavailable)
    app.add_exception_handler(InterfaceError, _unavailable)  # "connection already closed"
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
