"""Prefect's console handler for the `budget` pipeline commands, chosen the public way.

`cli/pipeline_commands.py` sets `PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS` to `ConsoleHandler`
before Prefect is imported (Prefect's documented override of any `logging.yml` item), so
Prefect builds its console handler from this class; nothing is swapped at run time. It is
Prefect's own `PrefectConsoleHandler` (same format, colours and levels) with two rules:

* a record whose exception is an expected one (a database fault, bad input, a malformed file,
  an OS error) prints without its traceback (the Prefect API still gets the full record);
* while `above(console)` is active (a progress bar is shown), records print through the bar's
  rich console, above the bar, and task-run records below WARNING ("Finished in state
  Completed()", one per task) are left to the Prefect API.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect.logging.handlers import PrefectConsoleHandler

_bar_console: Any = None


def expected_errors() -> tuple[type[BaseException], ...]:
    """Failures the CLI reports as one `error:` line, so no traceback is wanted for them."""
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

    from db.errors import DatabaseError
    from solvers import InvalidInputError
    from solvers.files import FileFormatError

    return (DatabaseError, InvalidInputError, FileFormatError, OSError,
            OperationalError, InterfaceError, DisconnectionError)


class ConsoleHandler(PrefectConsoleHandler):
    """PrefectConsoleHandler without tracebacks of expected errors, printing above a progress
    bar while one is shown."""

    def format(self, record: logging.LogRecord) -> str:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or not isinstance(exc, expected_errors()):
            return super().format(record)
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text = saved

    def emit(self, record: logging.LogRecord) -> None:
        console = _bar_console
        if console is None:
            super().emit(record)
            return
        if record.levelno < logging.WARNING and record.name.startswith("prefect.task_runs"):
            return
        try:
            from rich.text import Text

            console.print(Text(self.format(record)), soft_wrap=True)
        except RecursionError:
            raise
        except Exception:  # a logging failure must not stop the flow
            self.handleError(record)


@contextmanager
def above(console: Any) -> Iterator[None]:
    """While the block runs, the console handler prints through `console` (a progress bar's)."""
    global _bar_console
    saved, _bar_console = _bar_console, console
    try:
        yield
    finally:
        _bar_console = saved
