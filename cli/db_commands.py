"""`budget db ...`: schema commands. Wired into `cli/main.py` through `register` and `handle`.

    budget db upgrade [REV] [--url URL]     migrate forward (default: head)
    budget db downgrade REV [--url URL]     migrate back (`base` drops every table)
    budget db current [--url URL]           print the database's revision

Without `--url` the settings' DATABASE_URL is used. Errors print one line, no traceback: a
database fault (unreachable, unusable URL, unknown revision) is reported by `cli.main` (exit 2).
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `db` command (with `upgrade`, `downgrade`, `current`) to `subparsers`."""
    parser = subparsers.add_parser("db", help="database schema: upgrade, downgrade, current")
    commands = parser.add_subparsers(dest="db_command", metavar="COMMAND", required=True)

    up = commands.add_parser("upgrade", help="migrate the schema forward")
    up.add_argument("rev", nargs="?", default="head", help="target revision (default: head)")
    down = commands.add_parser("downgrade", help="migrate the schema back")
    down.add_argument("rev", help="target revision, e.g. -1 or base")
    current = commands.add_parser("current", help="print the database's revision")
    for sub in (up, down, current):
        sub.add_argument("--url", default=None, help="database URL (default: DATABASE_URL)")
    parser.set_defaults(handler=handle)
    return parser


def handle(args: argparse.Namespace) -> int:
    """Run the parsed `db` command; 0 on success, 1 on a bad target revision (database faults
    propagate to `cli.main`, which prints one line and exits 2). Alembic and SQLAlchemy are
    imported here, not when the parser is built: `budget --help` stays light."""
    from alembic.util import CommandError

    from db.engine import mask_url, resolve_url
    from db.migrate import current_revision, downgrade, head_revision, upgrade

    from ._errors import check_known_revision

    url = resolve_url(getattr(args, "url", None))
    check_known_revision(url)  # a revision this code does not know: SchemaRevisionError
    try:
        if args.db_command == "upgrade":
            upgrade(url, args.rev)
        elif args.db_command == "downgrade":
            downgrade(url, args.rev)
        revision = current_revision(url)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    head = head_revision()
    state = "at head" if revision == head else f"head is {head}"
    print(f"{mask_url(url)}: revision {revision or 'base (empty)'} ({state})")
    return 0
