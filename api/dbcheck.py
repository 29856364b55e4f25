"""The database checks the API makes before serving data, and text safe to log or send.

* `check_revision(url)`: the database is at the schema revision this code knows (head), else
  `SchemaRevisionError` naming both revisions. Every data endpoint calls it first (one small
  query), so `budget db downgrade` under a running API turns the next request into a 503 that
  names the revision, never a 500 from a missing column; /health calls it too.
* `safe_text(text, url)`: `text` with every secret of `url` masked, including the tail of a
  password that holds an unencoded "@" (which a URL parser reads as part of the host).

`db.migrate.check_revision` and `db.errors.SchemaRevisionError` are the data layer's own; the
stand-ins below are used only while that layer does not provide them.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import make_url

from db import DatabaseError, DatabaseUnavailableError, mask_url
from db.engine import DatabaseURLError, url_secrets

try:
    from db.errors import SchemaRevisionError  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - until the data layer has it

    class SchemaRevisionError(DatabaseError):  # type: ignore[no-redef]
        """The database is at a schema revision this code does not run against."""


try:
    from db.migrate import check_revision as _db_check_revision  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - until the data layer has it
    _db_check_revision = None

log = logging.getLogger("api")


@lru_cache(maxsize=1)
def _head() -> str:
    from db.migrate import head_revision

    return head_revision()


def _fallback_check_revision(url: str) -> str:
    from db.migrate import current_revision

    head = _head()
    current = current_revision(url)
    if current == head:
        return current
    if current is None:
        raise SchemaRevisionError(f"the database has no schema (expected revision {head}); "
                                  "run `budget db upgrade`")
    raise SchemaRevisionError(f"the database is at schema revision {current}, but this code "
                              f"runs against revision {head}; run `budget db upgrade` (or "
                              "deploy the code that knows that revision)")


def check_revision(url: str) -> str:
    """The database's revision when it is the one this code knows; else `SchemaRevisionError`."""
    if _db_check_revision is not None:
        return _db_check_revision(url)
    return _fallback_check_revision(url)


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


def database_problem(url: str) -> str | None:
    """What keeps the database at `url` from serving this code, in one line safe to send
    (`DATABASE_URL` masked), or None when `check_revision` passes."""
    try:
        check_revision(url)
    except SchemaRevisionError as exc:
        found = f"database schema not usable: {exc}"
    except DatabaseURLError as exc:
        found = f"database unavailable: DATABASE_URL cannot be used: {exc}"
    except DatabaseUnavailableError as exc:
        log.warning("database unavailable: %s", safe_text(exc, url))
        found = "database unavailable: cannot connect (the server log says why)"
    except Exception as exc:  # the driver refusing the URL itself, or another database error
        first = _first_line(exc)
        if first.startswith("invalid dsn"):  # psycopg2: an option libpq does not know
            found = (f"database unavailable: DATABASE_URL cannot be used: {mask_url(url)!r}: "
                     f"{first}")
        else:
            log.warning("database error: %s: %s", type(exc).__name__, safe_text(first, url))
            found = f"database error: {type(exc).__name__} (the server log says more)"
    else:
        return None
    return safe_text(found, url)
