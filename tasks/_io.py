"""Database sessions and retry rules shared by the I/O tasks.

`db_session(url)` is `db.engine.session_scope` for tasks, with one addition: a connection that
is lost *while in use* (the server restarted, `pg_terminate_backend`, a network cut) surfaces
from SQLAlchemy as `OperationalError`, `InterfaceError` ("connection already closed", often
raised by the ROLLBACK TO SAVEPOINT that follows the first failure) or a `DBAPIError` flagged
`connection_invalidated`. All of them become one `DatabaseUnavailableError` naming the masked
URL, so the task is retried and, when retries run out, the flow fails with that one error.
Bad rows (`DataValidationError`) and SQL errors (IntegrityError, ProgrammingError) pass
through with their type, but with the statement's parameters hidden (they are the rows' values,
e.g. a projects file's content; the message keeps the SQL and the driver's reason).

`IO_RETRIES`: retry with backoff on connection and file errors only. A bad row or a
programming error fails at once; a database that does not answer, or a file system hiccup, is
retried (1 s, then 3 s, with jitter) before the task fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    StatementError,
)
from sqlalchemy.orm import Session

from db.engine import mask_url, resolve_url, session_scope
from db.errors import DatabaseUnavailableError

RETRYABLE = (DatabaseUnavailableError, OperationalError, InterfaceError, DisconnectionError,
             OSError, TimeoutError, ConnectionError)


def is_connection_loss(exc: BaseException) -> bool:
    """True for the errors a lost or unusable database connection raises."""
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def lost_connection_error(url: str | None, exc: BaseException) -> DatabaseUnavailableError:
    """One line: which database (password masked) and the driver's first line of reason."""
    target = resolve_url(url)
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    reason = lines[0] if lines else type(orig).__name__
    try:
        password = make_url(target).password
    except Exception:  # an unparseable URL: mask_url copes with it below
        password = None
    if password:
        reason = reason.replace(str(password), "***")
    lost = isinstance(exc, InterfaceError | DisconnectionError) or bool(
        getattr(exc, "connection_invalidated", False))
    where = (f"lost the connection to the database {mask_url(target)}" if lost
             else f"database {mask_url(target)} unavailable")
    return DatabaseUnavailableError(f"{where}: {type(orig).__name__}: {reason}")


@contextmanager
def unavailable_on_connection_loss(url: str | None) -> Iterator[None]:
    """Turn a connection lost inside the block into `DatabaseUnavailableError`."""
    try:
        yield
    except DatabaseUnavailableError:
        raise
    except Exception as exc:
        if is_connection_loss(exc):
            raise lost_connection_error(url, exc) from None
        if isinstance(exc, StatementError):
            # The statement's parameters are rows' values (a file's content): never in a log.
            exc.hide_parameters = True
        raise


@contextmanager
def db_session(url: str | None) -> Iterator[Session]:
    """`session_scope(url)` whose connection losses raise `DatabaseUnavailableError`."""
    with unavailable_on_connection_loss(url), session_scope(url) as session:
        yield session


def _retryable(_task: Any, _task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except RETRYABLE:
        return True
    except BaseException:  # anything else is not transient: fail now
        return False
    return False


IO_RETRIES: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": [1, 3],
    "retry_jitter_factor": 0.2,
    "retry_condition_fn": _retryable,
}
