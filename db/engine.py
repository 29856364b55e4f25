"""One engine and one session factory per database URL, created lazily.

`get_engine()` with no URL uses `config.get_settings().database_url`; tests pass their own URL.
Connection failures surface as a single `DatabaseUnavailableError` whose message names the
host and port and never the password; an unusable URL (unparseable, unknown dialect, driver not
installed) as `DatabaseURLError`, a subclass of it, naming the URL with the password masked.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, quote_plus

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import ExceptionContext
from sqlalchemy.exc import ArgumentError
from sqlalchemy.exc import OperationalError as SAOperationalError
from sqlalchemy.orm import Session, sessionmaker

from config import get_settings
from db.errors import DatabaseUnavailableError

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_factories: dict[str, sessionmaker[Session]] = {}


class DatabaseURLError(DatabaseUnavailableError, ValueError):
    """`DATABASE_URL` cannot be used: not a URL, unknown dialect, or its driver is not installed.

    A `DatabaseUnavailableError` (so every caller that reports an unreachable database reports
    this too, in one line) and a `ValueError` (a configuration mistake). No password in it.
    """


# Query parameters whose value is a secret: password, passwd, pwd, sslpassword, passfile,
# client_secret, token, access_token, api_key, ... (matched anywhere in the name, any case).
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|api_?key|credential", re.IGNORECASE)
# user:password@ up to the last "@" before the query: a password may hold "@", ":" or "/".
_PASSWORD_IN_URL = re.compile(r"(?P<head>://[^:/@\s]*:)[^\s?#]*@")
# key=value pairs in a query string (or a libpq "key=value" DSN) whose key names a secret.
_SECRET_PARAM = re.compile(
    r"(?P<head>(?:^|[?&;\s])[^=&;?#\s]*(?:pass|pwd|secret|token|api_?key|credential)"
    r"[^=&;?#\s]*\s*=\s*)(?P<value>'[^']*'|[^&;#\s]*)",
    re.IGNORECASE,
)


def _mask_text(text: str) -> str:
    text = _PASSWORD_IN_URL.sub(r"\g<head>***@", text)
    return _SECRET_PARAM.sub(r"\g<head>***", text)


def _render_masked(url: URL) -> str:
    if url.host and "@" in url.host:  # an unencoded "@" in the password: the rest is the host
        url = url.set(host=url.host.rsplit("@", 1)[1], password="***")
    base = url.set(query={}).render_as_string(hide_password=True)
    if not url.query:
        return base
    pairs = []
    for key, value in url.query.items():
        for item in value if isinstance(value, tuple) else (value,):
            # A value can itself carry a secret, e.g. options=-c password=...: mask it inside.
            shown = "***" if _SECRET_KEY.search(key) else quote(_mask_text(item), safe="/:=*,")
            pairs.append(f"{quote_plus(key)}={shown}")
    return f"{base}?{'&'.join(pairs)}"


def mask_url(url: str | URL) -> str:
    """The URL as text with every secret replaced by `***` (safe to print or log).

    Masks the password in the userinfo (`user:***@host`) and the value of every query
    parameter that names a secret (`?password=***`, `passwd`, `pwd`, `sslpassword`,
    `client_secret`, `token`, `api_key`, ...). Text that does not parse as a URL is masked
    by pattern, with the same rules.
    """
    if isinstance(url, URL):
        return _mask_text(_render_masked(url))
    try:
        return _mask_text(_render_masked(make_url(url)))
    except (ArgumentError, ValueError, TypeError):
        return _mask_text(str(url))


def url_secrets(url: str | URL) -> list[str]:
    """The secret values in `url` (userinfo password, secret query parameters), longest first.

    For scrubbing them out of driver messages that may quote them.
    """
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except (ArgumentError, ValueError, TypeError):
        return []
    found = [str(parsed.password)] if parsed.password else []
    if parsed.host and "@" in parsed.host:  # the password held an unencoded "@"
        found.append(f"{parsed.password or ''}@{parsed.host.rsplit('@', 1)[0]}")
    for key, value in parsed.query.items():
        if _SECRET_KEY.search(key):
            found.extend(v for v in (value if isinstance(value, tuple) else (value,)) if v)
    return sorted(set(found), key=len, reverse=True)


def resolve_url(url: str | URL | None = None) -> str:
    """The explicit URL if given, else the settings' `DATABASE_URL` (as plain text)."""
    if url is None:
        return get_settings().database_url
    return url.render_as_string(hide_password=False) if isinstance(url, URL) else url


def _sqlite_file(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:"):
        return None
    return Path(url.database)


def sqlite_file_missing(url: str | URL | None = None) -> bool:
    """True when `url` (default: settings) is a SQLite file that does not exist yet: nothing is
    stored there, and opening it would create it (a read-only look-up can skip it)."""
    try:
        parsed = url if isinstance(url, URL) else make_url(resolve_url(url))
    except (ArgumentError, ValueError, TypeError):
        return False
    path = _sqlite_file(parsed)
    return path is not None and not path.exists()


def _describe_target(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return f"SQLite database {url.database or ':memory:'}"
    host = url.host or "localhost"
    port = url.port or {"postgresql": 5432}.get(url.get_backend_name(), "default port")
    return f"{url.get_backend_name()} server at {host}:{port} (database {url.database!r})"


def unavailable_error(url: str | URL, exc: BaseException) -> DatabaseUnavailableError:
    """Build the one clear error for `url`, with the driver's reason and no password."""
    parsed = make_url(url) if isinstance(url, str) else url
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = reason[0] if reason else type(exc).__name__
    for secret in url_secrets(parsed):
        first = first.replace(secret, "***")
    first = _mask_text(first)
    return DatabaseUnavailableError(
        f"cannot connect to {_describe_target(parsed)} using {mask_url(parsed)}: {first}"
    )


def _url_error(url_text: str, exc: BaseException) -> DatabaseURLError:
    if isinstance(exc, ModuleNotFoundError):
        why = f"its database driver is not installed (no module named {exc.name!r})"
    else:
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return DatabaseURLError(f"unusable database URL {mask_url(url_text)!r}: {why}")


def _build_engine(url_text: str) -> Engine:
    try:
        return _create(url_text)
    except (ArgumentError, ModuleNotFoundError) as exc:  # NoSuchModuleError is an ArgumentError
        raise _url_error(url_text, exc) from None


def _create(url_text: str) -> Engine:
    settings = get_settings()
    url = make_url(url_text)
    kwargs: dict[str, object] = {"echo": settings.db_echo, "pool_pre_ping": True}
    sqlite_path = _sqlite_file(url)
    if sqlite_path is not None:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg2":
        kwargs["connect_args"] = {"connect_timeout": settings.db_connect_timeout}
    if getattr(url.get_dialect(), "is_async", False):
        raise ArgumentError(f"driver {url.get_driver_name()!r} is async; use a synchronous one "
                            "(e.g. postgresql+psycopg2://)")
    engine = create_engine(url, **kwargs)

    if url.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    @event.listens_for(engine, "handle_error")
    def _unavailable(context: ExceptionContext) -> None:
        # Only a failure to open a connection is "unavailable"; SQL errors pass through.
        if context.connection is None and isinstance(
            context.sqlalchemy_exception, SAOperationalError
        ):
            raise unavailable_error(url, context.sqlalchemy_exception) from None

    return engine


def get_engine(url: str | URL | None = None) -> Engine:
    """The process-wide engine for `url` (default: settings), created on first use."""
    key = resolve_url(url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _build_engine(key)
        return engine


def get_sessionmaker(url: str | URL | None = None) -> sessionmaker[Session]:
    """The session factory bound to `get_engine(url)`."""
    key = resolve_url(url)
    engine = get_engine(key)
    with _lock:
        factory = _factories.get(key)
        if factory is None:
            factory = _factories[key] = sessionmaker(bind=engine, expire_on_commit=False)
        return factory


@contextmanager
def session_scope(url: str | URL | None = None) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back if it raises."""
    session = get_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def check_connection(url: str | URL | None = None) -> None:
    """Open and close one connection; raise `DatabaseUnavailableError` if that fails."""
    with get_engine(url).connect():
        pass


def dispose_engines(url: str | URL | None = None) -> None:
    """Close pooled connections: for one URL, or every engine when `url` is None."""
    with _lock:
        keys = [resolve_url(url)] if url is not None else list(_engines)
        for key in keys:
            engine = _engines.pop(key, None)
            _factories.pop(key, None)
            if engine is not None:
                engine.dispose()
