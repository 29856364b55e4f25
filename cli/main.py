"""Entry point of the `budget` console script.

User mistakes (bad input, a malformed file, an unknown algorithm, an unreachable database) print
one line starting with ``error:`` and exit non-zero; they never show a traceback. A database
fault (any `db.errors.DatabaseError`: unreachable, unusable `DATABASE_URL`, a schema revision
this code does not know; or a SQLAlchemy error escaping a command) is one line naming the
masked URL or the revision, plus one JSON error object on stdout under ``--json`` (exit 2).
Every command ends by disposing its database engines, so SQLite's WAL is checkpointed into the
database file.

Exit status: 0 success; 1 an OS error (unreadable file, unwritable output); 2 bad input or an
unusable database; 3 `budget solve` got no answer (the solver's status is "failed", e.g. an
algorithm refusing an instance too large for it); 130 interrupted. Output piped into a reader
that stops early (`| head`) ends quietly.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from solvers import InvalidInputError, UnknownAlgorithmError
from solvers.files import FileFormatError

from . import api_commands, db_commands, model_commands, pipeline_commands, solve_commands
from ._errors import close_databases, database_errors, report

# Each module exposes register(subparsers) and sets `handler` on its parsers.
_COMMAND_MODULES = (solve_commands, db_commands, pipeline_commands, model_commands, api_commands)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="budget",
        description="Budget allocation by subset sum: pick the projects whose total cost comes "
                    "closest to the budget without going over, and prove when it is optimal.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _COMMAND_MODULES:
        module.register(sub)
    return parser


def _tolerant_output() -> None:
    """Characters the terminal's encoding lacks are escaped (\\xe9), never an error."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # cannot be reconfigured: leave it
                reconfigure(errors="backslashreplace")


def main(argv: list[str] | None = None) -> int:
    _tolerant_output()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    finally:
        close_databases()  # every command ends with its databases closed (SQLite: checkpointed)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.handler(args))
    except database_errors() as exc:  # evaluated only when an exception reaches it
        return report(args, exc)
    except (InvalidInputError, UnknownAlgorithmError, FileFormatError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RecursionError:  # a safety net: readers bound nesting before this can happen
        print("error: input nested too deeply", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `budget ... | head`: the reader has gone, nothing to report
        _silence_stdout()
        return 1
    except OSError as exc:  # unwritable output path, unreadable file, ...
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit-time flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (e.g. captured in tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
