"""Retry rules shared by the I/O tasks: retry with backoff on connection and file errors only.

A bad row (DataValidationError) or a programming error fails at once; a database that does not
answer, or a file system hiccup, is retried (1 s, then 3 s, with jitter) before the task fails.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DisconnectionError, OperationalError

from db.errors import DatabaseUnavailableError

RETRYABLE = (DatabaseUnavailableError, OperationalError, DisconnectionError, OSError,
             TimeoutError, ConnectionError)


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
