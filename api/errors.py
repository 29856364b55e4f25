"""One error shape for every failure; no stack trace and no secret ever reaches a response.

Every error is RFC 9457 problem details, `application/problem+json`: ``{"type": "about:blank",
"title": "Not Found", "status": 404, "detail": "project set 7 does not exist", "instance":
"/datasets/7/"}``. `detail` is always one string; bad input lists its fields in the `errors`
extension member, so a client never branches on the type of `detail`:

* bad input (pydantic, the solver's `InvalidInputError`, the data layer's `DataValidationError`)
  → 422, ``"detail": "projects[3].cost: ..."``, ``"errors": [{"loc": [...], "field":
  "projects[3].cost", "msg": ..., "type": ...}]``
* a bad money value names the value too: ``must be digits with at most two decimals, e.g.
  "1200.50"; got '1e3'`` (the rule is `solvers.money`'s, the same verdict as the solver's)
* unknown id → 404; unknown path → 404; a method a path does not take → 405 (with `Allow`)
* a body over API_MAX_BODY_BYTES → 413 (`api.middleware`, the same shape)
* database faults → 503, never a 500: unreachable (``"database unavailable"``), an unusable
  `DATABASE_URL` (its masked form and why), a schema revision this code does not know (both
  revisions), any other database error (logged in one line, masked)
* anything unexpected (a bug) → 500, ``"detail": "internal error"`` (logged server-side with
  the traceback, never sent).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InterfaceError, OperationalError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.dbcheck import SchemaRevisionError, database_problem, describe, safe_text
from api.schemas import PROBLEM_MEDIA_TYPE
from db import DatabaseUnavailableError, DataValidationError, NotFoundError
from db.engine import DatabaseURLError
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


def problem_body(status: int, detail: str, instance: str | None = None,
                 errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """RFC 9457 problem details: `about:blank` typed, titled by the status code's phrase."""
    body: dict[str, Any] = {"type": "about:blank", "title": _title(status), "status": status,
                            "detail": detail}
    if instance is not None:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return body


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(request: Request | None, status: int, detail: str, *,
            errors: list[dict[str, Any]] | None = None,
            headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A problem-details response (`application/problem+json`) for `request`'s path."""
    instance = request.url.path if request is not None else None
    return JSONResponse(status_code=status, content=problem_body(status, detail, instance, errors),
                        media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {}) or None)


def _summary(items: list[dict[str, Any]]) -> str:
    """The field errors in one line: "projects[3].cost: must be ... (and 2 more)"."""
    if not items:
        return "invalid input"
    first = items[0]
    where = first.get("field") or "body"
    more = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
    return _short(f"{where}: {first.get('msg')}{more}")


def validation_errors(request: Request | None, items: list[dict[str, Any]]) -> JSONResponse:
    """A 422 listing each field's problem in `errors` (pydantic's shape plus `field`)."""
    return problem(request, 422, _summary(items), errors=items)


def validation_error(request: Request | None, loc: list[str | int], msg: str,
                     kind: str = "value_error") -> JSONResponse:
    """A 422 for one field."""
    item = {"loc": loc, "field": field_name(loc), "msg": msg, "type": kind}
    return validation_errors(request, [item])


def _shown(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 40:
        return value[:37] + "..."
    return value


def _short(text: Any, limit: int = 300) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


async def _request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    items = []
    for err in exc.errors()[:50]:
        loc = [p if isinstance(p, int) else str(p) for p in err.get("loc", ())]
        msg = str(err.get("msg", ""))
        msg = msg.removeprefix("Value error, ")  # pydantic's wrapper around our own messages
        if err.get("type") == "money":  # solvers.money's problem: say which value it was
            msg = f"{msg}; got {_shown(err.get('input'))!r}"
        items.append({"loc": loc, "field": field_name(loc), "msg": _short(msg),
                      "type": str(err.get("type", "value_error"))})
    return validation_errors(request, items)


async def _invalid_input(request: Request, exc: InvalidInputError) -> JSONResponse:
    loc: list[str | int] = ["body", *parse_field(exc.field)]
    return validation_error(request, loc, _short(f"{exc.problem} (got {exc.value!r})"),
                            "invalid_input")


async def _limit(request: Request, exc: Exception) -> JSONResponse:
    return validation_error(request, list(exc.loc), _short(exc.msg), "limit_exceeded")  # type: ignore[attr-defined]


async def _unknown_algorithm(request: Request, exc: UnknownAlgorithmError) -> JSONResponse:
    return validation_error(request, ["body", "algorithm"], _short(str(exc)), "unknown_algorithm")


async def _data_validation(request: Request, exc: DataValidationError) -> JSONResponse:
    message = str(exc)
    head = message.split(" ", 1)[0].rstrip(":")
    loc: list[str | int] = ["body", *parse_field(head)] if head else ["body"]
    return validation_error(request, loc, _short(message), "invalid_data")


async def _data_error(request: Request, exc: DataError) -> JSONResponse:
    # A value the database refused (the edge checks should have caught it): no SQL is sent back.
    log.warning("database refused a value: %s", str(exc.orig).splitlines()[:1])
    return validation_error(request, ["body"], "a value was refused by the database",
                            "invalid_data")


async def _not_found(request: Request, exc: NotFoundError) -> JSONResponse:
    return problem(request, 404, _short(str(exc)))


def _url(request: Request) -> str:
    return request.app.state.api.database_url


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    url = _url(request)
    if isinstance(exc, DatabaseUnavailableError):
        log.error("database unavailable: %s", safe_text(exc, url))
    else:  # a connection lost mid-query: the driver's first line
        log.error("database error: %s", safe_text(_first_line(exc), url))
    return problem(request, 503, "database unavailable")


async def _cannot_serve(request: Request, exc: Exception) -> JSONResponse:
    """An unusable DATABASE_URL or a schema revision this code does not know: 503 saying so."""
    detail = describe(exc, _url(request)) or "database unavailable"
    log.error("%s", detail)
    return problem(request, 503, _short(detail, 500))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


async def _database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
    """Any other database error (a missing table or column after a downgrade, a URL option
    the driver refuses...): a 503 saying what the revision check finds, never a 500."""
    url = _url(request)
    found = await anyio.to_thread.run_sync(database_problem, url)
    log.error("database error on %s %s: %s: %s", request.method, request.url.path,
              type(exc).__name__, safe_text(_first_line(exc), url))
    detail = found or "database error (logged by the server)"
    return problem(request, 503, _short(detail, 500))


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's answer to a body that is not UTF-8 JSON: bad input like any other (422)
        return validation_error(request, ["body"], "the body is not valid UTF-8 JSON",
                                "json_invalid")
    return problem(request, exc.status_code, _short(exc.detail),
                   headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(request, 500, "internal error")


async def database_fault(request: Request, exc: Exception) -> JSONResponse:
    """The answer to `exc` raised outside the routes (`api.auth`'s key lookup): the same
    503s as `install` registers for database faults, else a 500 (logged)."""
    if isinstance(exc, DatabaseUnavailableError | OperationalError | InterfaceError):
        return await _unavailable(request, exc)
    if isinstance(exc, DatabaseURLError | SchemaRevisionError):
        return await _cannot_serve(request, exc)
    if isinstance(exc, SQLAlchemyError):
        return await _database_error(request, exc)
    return await _unexpected(request, exc)


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
    app.add_exception_handler(DatabaseURLError, _cannot_serve)
    app.add_exception_handler(SchemaRevisionError, _cannot_serve)
    app.add_exception_handler(OperationalError, _unavailable)
    app.add_exception_handler(InterfaceError, _unavailable)  # "connection already closed"
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
