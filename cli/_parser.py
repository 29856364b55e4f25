"""The CLI's argument parser: lazy where building a command's options costs imports, and
usage errors reported like every other error (one `error:` line; one JSON object under --json).

`budget --help` must start in a fraction of a second, so no command module imports NumPy,
SQLAlchemy, Alembic, pydantic-settings or Prefect when it registers its parsers. A command whose
options need such a module (the algorithm names, the families, the project cap) registers them
with `defer(parser, fn)`: `fn(parser)` runs the first time that parser parses or formats its
help, i.e. only when that command is used.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any


class UsageError(Exception):
    """A command line argparse refused: `parser` (for its usage line) and argparse's message."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser, self.message = parser, message


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises `UsageError` instead of exiting, and runs deferred option
    definitions before it is first used."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deferred: list[Callable[[argparse.ArgumentParser], None]] = []

    def populate(self) -> None:
        while self._deferred:
            self._deferred.pop(0)(self)

    def parse_known_args(self, args: Sequence[str] | None = None,
                         namespace: argparse.Namespace | None = None):
        self.populate()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self.populate()
        return super().format_help()

    def format_usage(self) -> str:
        self.populate()
        return super().format_usage()

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(self, message)


def defer(parser: argparse.ArgumentParser, fn: Callable[[argparse.ArgumentParser], None]) -> None:
    """Run `fn(parser)` (adding options) when `parser` is first used; at once for a plain
    ArgumentParser."""
    if isinstance(parser, Parser):
        parser._deferred.append(fn)
    else:
        fn(parser)
