"""Entry point of the `budget` console script.

User mistakes (bad input, a malformed file, an unknown algorithm, an unreachable database) print
one line starting with ``error:`` and exit non-zero; they never show a traceback. Under
``--json`` every command prints exactly one JSON object on stdout, its answer or
``{"error": {"type", "message", "field", "value"?, "exit_code"}}`` (`cli._errors`). A database
fault (any `db.errors.DatabaseError`: unreachable, unusable `DATABASE_URL`, a schema revision
this code does not know; or a SQLAlchemy error escaping a command) is one line naming the
masked URL or the revision. Every command ends by disposing its database engines, so SQLite's
WAL is checkpointed into the database file.

Exit status: 0 success; 1 an OS error (a missing or unreadable file, an unwritable output); 2
bad input, a usage error or an unusable database; 3 no answer (`budget solve` got status
"failed", e.g. an algorithm refusing an instance too large for it; `budget server status`: not
running); 130 interrupted. Output piped into a reader that stops early (`| head`) ends quietly.

Start-up: `budget --help` and `--version` import no command's heavy dependencies (NumPy,
SQLAlchemy, Alembic, pydantic-settings, Prefect): each command module imports them inside its
handlers, and options that need them are built only when their command is used
(`cli._parser.defer`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any

from . import (
    api_commands,
    db_commands,
    key_commands,
    model_commands,
    pipeline_commands,
    server_commands,
    solve_commands,
)
from ._errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OS_ERROR,
    CommandError,
    close_databases,
    database_errors,
    error_object,
    fail,
    report,
    wants_json,
)
from ._parser import Parser, UsageError

# Each module exposes register(subparsers) and sets `handler` on its parsers.
_COMMAND_MODULES = (solve_commands, db_commands, pipeline_commands, server_commands,
                    model_commands, api_commands, key_commands)
DISTRIBUTION = "budget-allocation"


class _Version(argparse.Action):
    """`--version`: the installed package's version (importlib.metadata), read only when asked."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            text = version(DISTRIBUTION)
        except PackageNotFoundError:  # run from a checkout that was never installed
            text = "unknown (not installed)"
        print(f"budget {text}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="budget",
        description="Budget allocation by subset sum: pick the projects whose total cost comes "
                    "closest to the budget without going over, and prove when it is optimal.",
        epilog="exit status: 0 an answer; 1 an OS error (missing or unreadable file); 2 bad "
               "input or an unusable database; 3 no answer. With --json every command prints "
               "one JSON object on stdout, errors included: {\"error\": {\"type\", \"message\", "
               "\"field\", \"exit_code\"}}.")
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=Parser)
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
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:  # argparse's refusal: its usage line, then the error contract
        exc.parser.print_usage(sys.stderr)
        return fail(None, f"{exc.parser.prog}: {exc.message}", EXIT_BAD_INPUT,
                    kind="UsageError", json_out="--json" in argv)
    try:
        return _run(args)
    finally:
        close_databases()  # every command ends with its databases closed (SQLite: checkpointed)


def _input_errors() -> tuple[type[BaseException], ...]:
    """Bad input: the solver's own errors (imported only once something has gone wrong)."""
    from solvers import InvalidInputError, UnknownAlgorithmError
    from solvers.files import FileFormatError

    return (InvalidInputError, UnknownAlgorithmError, FileFormatError, ValueError)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.handler(args))
    except CommandError as exc:
        return fail(args, exc.message, exc.code, kind=exc.kind, field=exc.field,
                    value=exc.value)
    except ImportError as exc:  # an optional extra not installed: say which one, no traceback
        from config.extras import missing_extra

        missing = missing_extra(exc, f"budget {getattr(args, 'command', '') or ''}".strip())
        if missing is None:
            raise
        return fail(args, str(missing), EXIT_BAD_INPUT, kind="MissingExtraError")
    except database_errors() as exc:  # evaluated only when an exception reaches it
        return report(args, exc)
    except _input_errors() as exc:
        field = getattr(exc, "field", None)
        extra = {"value": exc.value} if hasattr(exc, "value") and field else {}
        return fail(args, str(exc), EXIT_BAD_INPUT, kind=type(exc).__name__,
                    field=field if isinstance(field, str) else None, **extra)
    except RecursionError:  # a safety net: readers bound nesting before this can happen
        return fail(args, "input nested too deeply", EXIT_BAD_INPUT, kind="RecursionError")
    except BrokenPipeError:  # `budget ... | head`: the reader has gone, nothing to report
        _silence_stdout()
        return EXIT_OS_ERROR
    except OSError as exc:  # unwritable output path, unreadable file, ...
        return fail(args, str(exc), EXIT_OS_ERROR, kind=type(exc).__name__)
    except KeyboardInterrupt:
        if wants_json(args):
            print(_json_text(error_object("KeyboardInterrupt", "interrupted",
                                          code=EXIT_INTERRUPTED)), flush=True)
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: still one JSON object under --json, then the traceback
        if wants_json(args):
            print(_json_text(error_object("InternalError", f"{type(exc).__name__}: {exc}",
                                          code=1)), flush=True)
        raise


def _json_text(doc: dict[str, Any]) -> str:
    import json

    return json.dumps(doc, default=str)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit-time flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (e.g. captured in tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
