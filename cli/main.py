"""Entry point of the `budget` console script.

User mistakes (bad input, a malformed file, an unknown algorithm, an unreachable database) print
one line starting with ``error:`` and exit non-zero; they never show a traceback.
"""

from __future__ import annotations

import argparse
import sys

from solvers import InvalidInputError, UnknownAlgorithmError
from solvers.files import FileFormatError

from . import api_commands, db_commands, model_commands, pipeline_commands, solve_commands

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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except (InvalidInputError, UnknownAlgorithmError, FileFormatError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # unwritable output path, unreadable file, ...
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
