"""`budget keys ...`: the REST API's keys. Wired into `cli/main.py` through `register`.

    budget keys create OWNER [--admin] [--name N] [--url URL]
        make a key for OWNER; the key is printed alone on the last line, this once (only its
        SHA-256 is stored: a lost key cannot be shown again, revoke it and make another)
    budget keys list [--owner OWNER] [--json] [--url URL]
        id, owner, prefix, admin, name, created, revoked: never a key or a hash
    budget keys revoke PREFIX_OR_ID [--url URL]
        the key stops working at once (the next request with it is a 401)

An owner is a name (letters, digits, `. _ @ -`); an owner's key sees only that owner's sets and
runs. An admin key (`--admin`) sees every owner's, the sets the CLI and the flows stored, and
may run `GET /algorithms/benchmark` and read `GET /metrics`. Without `--url` the settings'
DATABASE_URL is used; the schema is brought to head first, as every command does.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `keys` command (with `create`, `list`, `revoke`) to `subparsers`."""
    parser = subparsers.add_parser("keys", help="REST API keys: create, list, revoke")
    commands = parser.add_subparsers(dest="keys_command", metavar="COMMAND", required=True)

    create = commands.add_parser(
        "create", help="make an API key for OWNER (printed alone on the last line, once)")
    create.add_argument("owner", metavar="OWNER", help="whose data the key reads and writes")
    create.add_argument("--admin", action="store_true",
                        help="an admin key: every owner's data, benchmarks and /metrics")
    create.add_argument("--name", default=None, help="a note to tell keys apart (optional)")
    listing = commands.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--owner", default=None, help="only this owner's keys")
    listing.add_argument("--json", action="store_true", help="one JSON object on stdout")
    revoke = commands.add_parser("revoke", help="revoke a key by its prefix or id")
    revoke.add_argument("key", metavar="PREFIX_OR_ID", help="from `budget keys list`")
    for sub in (create, listing, revoke):
        sub.add_argument("--url", default=None, help="database URL (default: DATABASE_URL)")
    parser.set_defaults(handler=handle)
    return parser


def _row(key: Any) -> dict[str, Any]:
    return {"id": key.id, "owner": key.owner_id, "prefix": key.prefix, "admin": bool(key.admin),
            "name": key.name, "created_at": _when(key.created_at),
            "revoked_at": _when(key.revoked_at)}


def _when(moment: Any) -> str | None:
    """ISO 8601 in UTC (SQLite gives its UTC timestamps back without a zone)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def handle(args: argparse.Namespace) -> int:
    """Run the parsed `keys` command: 0 on success, 2 on a bad owner or an unknown or
    ambiguous key (database faults propagate to `cli.main`: one line, exit 2)."""
    from db import session_scope
    from db.engine import resolve_url
    from db.errors import NotFoundError
    from db.keys import create_key, list_keys, revoke_key
    from db.migrate import ensure_schema

    url = resolve_url(args.url)
    ensure_schema(url)
    with session_scope(url) as session:
        if args.keys_command == "create":
            row, key = create_key(session=session, owner_id=args.owner, name=args.name,
                                  admin=args.admin)
            kind = "admin key" if row.admin else "key"
            print(f"created {kind} {row.id} for owner {row.owner_id!r} (prefix {row.prefix}); "
                  "it is shown only now, store it safely:", file=sys.stderr)
            print(key)
            return 0
        if args.keys_command == "list":
            rows = [_row(k) for k in list_keys(session=session, owner_id=args.owner)]
            if args.json:
                print(json.dumps({"keys": rows}))
                return 0
            print(f"{'ID':>4}  {'OWNER':<20} {'PREFIX':<12} {'ADMIN':<5}  {'CREATED':<25} "
                  f"{'REVOKED':<25} NAME")
            for r in rows:
                print(f"{r['id']:>4}  {r['owner']:<20} {r['prefix']:<12} "
                      f"{'yes' if r['admin'] else 'no':<5}  {r['created_at'] or '':<25} "
                      f"{r['revoked_at'] or '-':<25} {r['name'] or ''}")
            return 0
        try:
            row = revoke_key(session=session, key=args.key)
        except NotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"revoked key {row.id} ({row.prefix}) of owner {row.owner_id!r} at "
              f"{_when(row.revoked_at)}")
        return 0
