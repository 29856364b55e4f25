"""The database checks the API makes before serving data, and text safe to log or send.

* `check_revision(url)` (`db.migrate`): the database is at the schema revision this code knows
  (head), else `SchemaRevisionError` naming both revisions. Every data endpoint calls it first
  (one primary-key SELECT), so `budget db downgrade` under a running API turns the next request
  into a 503 that names the revision, never a 500 from a missing column.
* `database_problem(url)`: what /health and the error handlers report, in one line.
* `safe_text(text, url)`: `text` with every secret of `url` masked, including the tail of a
  password that holds an unencoded "@" (which a URL parser reads as part of the host).

`check_revision` and `SchemaRevisionError` are the data layer's own (`db.migrate`, `db.errors`).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import make_url

from db import DatabaseUnavailableError, SchemaRevisionError, mask_url
from db.engine import DatabaseURLError, url_secrets
from db.migrate import check_revision

__all__ = ["SchemaRevisionError", "check_revision", "database_problem", "describe", "safe_text"]

log = logging.getLogger("api")


def safe_text(text: Any, url: str) -> str:
    """`text` with the secrets of `url` (password, secret query values, the part of a password
    after an unencoded "@") replaced by *** and any URL in it masked."""
    out = str(text)
    secrets = list(url_secrets(url))
    try:
        host = make_url(url).host or ""
    except Exception:  # an unparseable URL has no host to hide
        host = ""
    if "@" in host:
        secrets.append(host.rsplit("@", 1)[0])
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        out = out.replace(secret, "***")
    return mask_url(out)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def describe(exc: BaseException, url: str) -> str | None:
    """The one-line detail a client gets for a database it cannot be served from: a schema
    revision this code does not run against, or an unusable `DATABASE_URL` (masked); None for
    other errors. The data layer builds these messages without secrets; masked again here."""
    if isinstance(exc, SchemaRevisionError):
        found = f"database schema not usable: {exc}"
    elif isinstance(exc, DatabaseURLError):
        text = str(exc)
        found = (f"database unavailable: {text}" if "DATABASE_URL" in text
                 else f"database unavailable: DATABASE_URL cannot be used: {text}")
    elif _first_line(exc).startswith("invalid dsn"):  # psycopg2: an option libpq does not know
        found = (f"database unavailable: DATABASE_URL cannot be used: {mask_url(url)!r}: "
                 f"{_first_line(exc)}")
    else:
        return None
    return mask_url(found)


def database_problem(url: str) -> str | None:
    """What keeps the database at `url` from serving this code, in one line safe to send
    (`DATABASE_URL` masked), or None when `check_revision` passes. Other failures are logged
    (masked) and named only by kind."""
    try:
        check_revision(url)
    except Exception as exc:  # whatever the check hits is what /health reports
        found = describe(exc, url)
        if found is not None:
            return found
        if isinstance(exc, DatabaseUnavailableError):
            log.warning("database unavailable: %s", safe_text(exc, url))
            return "database unavailable: cannot connect (the server log says why)"
        log.warning("database error: %s: %s", type(exc).__name__,
                    safe_text(_first_line(exc), url))
        return f"database error: {type(exc).__name__} (the server log says more)"
    return None
