"""The CLI's one error contract, and database faults reported by it.

Every failure a command expects ends the same way: one `error: …` line on stderr, and under
`--json` one JSON object on stdout, `{"error": {"type", "message", "field", "value"?,
"exit_code"}}` (`type`: the error's class, e.g. `InvalidInputError`, `FileNotFoundError`,
`UsageError`, `DatabaseUnavailableError`; `field`: the input field it names, or null; `value`:
the offending value, shortened, when there is one). Exit status: 0 an answer; 1 an OS error (a
missing or unreadable file, an unwritable output); 2 bad input (also a usage error, an unusable
or unreachable database); 3 no answer (`budget solve` got status "failed"; `budget server
status`: not running); 130 interrupted.

Every `db.errors.DatabaseError` (unreachable server, unusable `DATABASE_URL`, unknown schema
revision, ...) and any SQLAlchemy error that escapes a command is reported the same way: no
traceback, exit 2, the URL masked, and every secret of the URLs in play (the password, also
when it holds an unencoded `@`, and secret query parameters) replaced by `***`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

EXIT_OK = 0
"""An answer."""
EXIT_OS_ERROR = 1
"""An OS error: a missing or unreadable file, an unwritable output path."""
EXIT_BAD_INPUT = 2
"""Bad input: a value, a file's content, an option, or an unusable database."""
EXIT_NO_ANSWER = 3
"""No answer: the solver's status is "failed" (or `budget server status`: not running)."""
EXIT_INTERRUPTED = 130
EXIT_DATABASE = EXIT_BAD_INPUT

_UNSET: Any = object()
VALUE_WIDTH = 80


class CommandError(Exception):
    """An expected failure a command raises to end itself: reported by `fail` (one line, one
    JSON object under --json) with `code` as the exit status."""

    def __init__(self, message: str, *, code: int = EXIT_BAD_INPUT, kind: str = "UsageError",
                 field: str | None = None, value: Any = _UNSET) -> None:
        super().__init__(message)
        self.message, self.code, self.kind, self.field, self.value = (
            message, code, kind, field, value)


def shown_value(value: Any) -> Any:
    """A value as the error object carries it: JSON scalars as they are (strings cut to
    VALUE_WIDTH characters), anything else as its shortened repr."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else repr(value)
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= VALUE_WIDTH else f"{text[: VALUE_WIDTH - 1]}…"


def error_object(kind: str, message: str, *, field: str | None = None, value: Any = _UNSET,
                 code: int = EXIT_BAD_INPUT) -> dict[str, Any]:
    """`{"error": {...}}`, the one JSON shape of a failed `--json` command."""
    error: dict[str, Any] = {"type": kind, "message": message, "field": field}
    if value is not _UNSET:
        error["value"] = shown_value(value)
    error["exit_code"] = code
    return {"error": error}


def wants_json(args: argparse.Namespace | None) -> bool:
    return bool(args is not None and getattr(args, "json", False))


def fail(args: argparse.Namespace | None, message: str, code: int = EXIT_BAD_INPUT, *,
         kind: str = "UsageError", field: str | None = None, value: Any = _UNSET,
         json_out: bool | None = None) -> int:
    """Report an expected failure: the JSON object on stdout under --json (or `json_out`),
    `error: message` on stderr. Returns `code`."""
    if wants_json(args) if json_out is None else json_out:
        print(json.dumps(error_object(kind, message, field=field, value=value, code=code),
                         default=str), flush=True)
    print(f"error: {message}", file=sys.stderr, flush=True)
    return code


def check_known_revision(url: str | None = None) -> str | None:
    """The revision of the database at `url` (default DATABASE_URL), None when it has no
    schema yet; `db.errors.SchemaRevisionError` naming the revision when this code's history
    does not contain it (a newer code's migration, or a foreign `alembic_version`). An empty or
    older database passes, unlike `db.migrate.check_revision` (head only): `budget db upgrade`
    and the flows migrate it. One small query."""
    from db.engine import mask_url, resolve_url
    from db.errors import SchemaRevisionError
    from db.migrate import current_revision, head_revision, known_revisions

    revision = current_revision(url)
    if revision is not None and revision not in known_revisions():
        raise SchemaRevisionError(
            f"the database {mask_url(resolve_url(url))} is at schema revision {revision!r}, "
            f"which this code does not know (its newest is {head_revision()!r}): use the code "
            "that migrated it, or point DATABASE_URL at another database")
    return revision


def urls_in_play(args: argparse.Namespace | None) -> list[str]:
    """`--url` when the command has one, and the settings' DATABASE_URL."""
    urls = []
    explicit = getattr(args, "url", None) if args is not None else None
    if isinstance(explicit, str) and explicit:
        urls.append(explicit)
    try:
        from config import get_settings

        urls.append(get_settings().database_url)
    except Exception:  # unreadable settings: nothing more to scrub with
        pass
    return urls


def _secrets(urls: list[str]) -> list[str]:
    """Secret fragments of `urls`, longest first: `db.engine.url_secrets`, plus the part of a
    host before its last `@` (the tail of a password holding an unencoded `@`)."""
    from sqlalchemy.engine import make_url

    from db.engine import url_secrets

    found: set[str] = set()
    for url in urls:
        found.update(url_secrets(url))
        try:
            host = make_url(url).host or ""
        except Exception:  # unparseable: url_secrets and masking by pattern cover it
            continue
        if "@" in host:
            found.add(host.rsplit("@", 1)[0])
    return sorted((s for s in found if s), key=len, reverse=True)


def scrub(text: str, urls: list[str]) -> str:
    """`text` with every secret of `urls` replaced by `***` (URLs in the text are expected to
    be masked already, by `db.engine.mask_url`).

    A secret is replaced where it stands as a token (not inside a longer word): a password "SE"
    hides in `u:SE@host` but leaves the word DATABASE_URL alone."""
    for secret in _secrets(urls):
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)
    return text


def describe(exc: BaseException, urls: list[str]) -> str:
    """One line for a database fault. The data layer's own errors already say what and where;
    a raw SQLAlchemy error is prefixed with the (masked) DATABASE_URL it happened on."""
    from db.errors import DatabaseError

    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    first = lines[0].strip() if lines else type(original).__name__
    if not isinstance(exc, DatabaseError):
        from db.engine import mask_url

        where = f"DATABASE_URL {mask_url(urls[-1])}" if urls else "the database"
        if len(urls) > 1:
            where = f"--url {mask_url(urls[0])}"
        first = f"database error on {where}: {type(original).__name__}: {first}"
    return scrub(first, urls)


def report(args: argparse.Namespace | None, exc: BaseException) -> int:
    """Print the fault: `error: …` on stderr, and `{"error": {"type", "message", …}}` on stdout
    when the command was given --json (`fail`). Returns the exit status (2)."""
    message = describe(exc, urls_in_play(args))
    return fail(args, message, EXIT_DATABASE, kind=type(exc).__name__)


def database_errors() -> tuple[type[BaseException], ...]:
    """The exception types `report` handles: the data layer's, and SQLAlchemy's when loaded
    (none in an install without the [pipeline] extra)."""
    try:
        from db.errors import DatabaseError
    except ImportError:
        return ()

    kinds: list[type[BaseException]] = [DatabaseError]
    sa_exc: Any = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None:
        kinds.append(sa_exc.SQLAlchemyError)
    return tuple(kinds)


def close_databases() -> None:
    """Dispose every engine this process opened (SQLite: checkpoints its WAL into the file),
    if the data layer was loaded at all. A failure here never hides the command's result."""
    engine = sys.modules.get("db.engine")
    if engine is None:
        return
    try:
        engine.dispose_engines()
    except Exception as exc:  # closing is best effort: say so in one line, keep the exit code
        print(f"warning: closing the database failed: {type(exc).__name__}", file=sys.stderr)
