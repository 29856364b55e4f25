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
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.exc import OperationalError as SAOperationalError
from sqlalchemy.exc import ProgrammingError as SAProgrammingError
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


_SCHEME = re.compile(r"(?P<scheme>\s*[A-Za-z][\w+.\-]*://)(?P<rest>.*)\Z", re.DOTALL)


def _split_userinfo(rest: str) -> tuple[str | None, str | None, str]:
    """(user, password, the rest) of what follows `scheme://`: everything up to the LAST "@" is
    the userinfo (a password may hold an unencoded "@", ":", "/", "?", "#" or spaces; a user
    name holds no ":"). No "@": (None, None, rest)."""
    head, at, tail = rest.rpartition("@")
    if not at:
        return None, None, rest
    user, colon, password = head.partition(":")
    return user, (password if colon else None), tail


def _host_part(url: URL) -> str:
    """host[:port][/database] of a parsed URL, unquoted."""
    out = (url.host or "") + (f":{url.port}" if url.port is not None else "")
    return out + (f"/{url.database}" if url.database is not None else "")


def _has_credentials(url: URL) -> bool:
    return url.get_backend_name() != "sqlite"  # a SQLite URL names a file, never a user


def password_has_unencoded_at(url: str | URL) -> bool:
    """True when the parsed host or database holds an "@": the password (or user name) has an
    unencoded "@", and the parser, which ends the userinfo at the first "@", read the rest of
    it as the host (or, after a "/", as the database). Such a URL is refused
    (`DatabaseURLError`: percent-encode the password) and masked up to the last "@"."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except (ArgumentError, ValueError, TypeError):
        return False
    return _has_credentials(parsed) and "@" in _host_part(parsed)


def _true_userinfo(url: URL) -> tuple[str | None, str | None, str]:
    """(user, password, host and path) of a parsed URL, the userinfo read up to the last "@"
    (that is, the parser's own reading unless `password_has_unencoded_at`)."""
    password = None if url.password is None else str(url.password)
    if not password_has_unencoded_at(url):
        return url.username, password, _host_part(url)
    if url.username is None and password is None:  # "us/er:pw@host": no userinfo parsed
        return _split_userinfo(_host_part(url))
    userinfo = (url.username or "") + ("" if password is None else f":{password}")
    return _split_userinfo(f"{userinfo}@{_host_part(url)}")


def _clean_url(url: URL) -> URL:
    """The URL with its password replaced by `***` and its host and path read after the last
    "@" of the userinfo (never a piece of the password)."""
    if not password_has_unencoded_at(url):
        return url.set(password="***") if url.password is not None else url
    user, password, tail = _true_userinfo(url)
    text = f"{url.drivername}://{quote(user or '', safe='')}"
    text += (":***" if password is not None else "") + f"@{tail.replace('?', '%3F')}"
    try:
        clean = make_url(text)
    except (ArgumentError, ValueError, TypeError):
        clean = URL.create(url.drivername, username=user, password="***")
    return clean.set(query=url.query)


def _render_masked(url: URL) -> str:
    url = _clean_url(url)
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


def _mask_unparsed(text: str) -> str:
    """A URL the parser refuses: userinfo up to the last "@" masked, then the patterns."""
    m = _SCHEME.match(text)
    if m is None:
        return _mask_text(text)
    user, password, tail = _split_userinfo(m["rest"])
    if user is None:
        return _mask_text(text)
    shown = user + (":***" if password is not None else "")
    return f"{m['scheme']}{shown}@{_mask_text(tail)}"


def mask_url(url: str | URL) -> str:
    """The URL as text with every secret replaced by `***` (safe to print or log).

    Masks the password in the userinfo (`user:***@host`), even one holding an unencoded "@"
    (everything between `://` and the last "@" before the host is userinfo), and the value of
    every query parameter that names a secret (`?password=***`, `passwd`, `pwd`, `sslpassword`,
    `client_secret`, `token`, `api_key`, ...). Text that does not parse as a URL is masked
    by pattern, with the same rules.
    """
    if isinstance(url, URL):
        return _mask_text(_render_masked(url))
    try:
        return _mask_text(_render_masked(make_url(url)))
    except (ArgumentError, ValueError, TypeError):
        return _mask_unparsed(str(url))


def url_secrets(url: str | URL) -> list[str]:
    """The secret values in `url` (userinfo password, secret query parameters), longest first.

    For scrubbing them out of driver messages that may quote them. A password with an
    unencoded "@" gives the whole password, what the parser took for the password, and each
    piece of 3 characters or more between its "@"s (a driver may quote the piece it took for a
    host; such a URL is refused before any driver sees it, see `password_has_unencoded_at`).
    """
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except (ArgumentError, ValueError, TypeError):
        m = _SCHEME.match(str(url))
        password = _split_userinfo(m["rest"])[1] if m else None
        return [password] if password else []
    found = [str(parsed.password)] if parsed.password else []
    if password_has_unencoded_at(parsed):
        user, password, _ = _true_userinfo(parsed)
        whole = f"{user or ''}:{password}" if password is not None else user or ""
        # pieces of 3 characters or more: shorter ones would blank letters all over a message
        found += [whole, *(p for p in re.split(r"[@/:]", whole) if len(p) >= 3 and p != user)]
        if password:
            found.append(password)
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
    url = _clean_url(url)  # the host after the last "@": never a piece of the password
    host = url.host or "localhost"
    port = url.port or {"postgresql": 5432}.get(url.get_backend_name(), "default port")
    return f"{url.get_backend_name()} server at {host}:{port} (database {url.database!r})"


def _scrub(text: str, url: str | URL) -> str:
    for secret in url_secrets(url):
        text = text.replace(secret, "***")
    return _mask_text(text)


def _first_line(exc: BaseException) -> str:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return reason[0] if reason else type(exc).__name__


_UNENCODED_AT = ("its password holds an unencoded '@' (or '/' before one): percent-encode "
                 "the password ('@' as %40, '/' as %2F, ':' as %3A, '%' as %25)")


def unavailable_error(url: str | URL, exc: BaseException) -> DatabaseUnavailableError:
    """Build the one clear error for `url`, with the driver's reason and no password."""
    parsed = make_url(url) if isinstance(url, str) else url
    first = _UNENCODED_AT if password_has_unencoded_at(parsed) else _scrub(_first_line(exc),
                                                                             parsed)
    return DatabaseUnavailableError(
        f"cannot connect to {_describe_target(parsed)} using {mask_url(parsed)}: {first}"
    )


def _url_error(url_text: str | URL, exc: BaseException | str) -> DatabaseURLError:
    if isinstance(exc, str):
        why = exc
    elif isinstance(exc, ModuleNotFoundError):
        why = f"its database driver is not installed (no module named {exc.name!r})"
    else:
        why = _scrub(_first_line(exc), url_text)
    return DatabaseURLError(f"unusable database URL (DATABASE_URL) {mask_url(url_text)!r}: {why}")


def _build_engine(url_text: str) -> Engine:
    try:
        return _create(url_text)
    except (ArgumentError, ModuleNotFoundError, ValueError) as exc:
        # NoSuchModuleError is an ArgumentError; a port that is not a number a ValueError
        raise _url_error(url_text, exc) from None


def _create(url_text: str) -> Engine:
    settings = get_settings()
    url = make_url(url_text)
    if password_has_unencoded_at(url):
        raise ArgumentError(_UNENCODED_AT)
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
        # Only a failure to open a connection is "unavailable"; SQL errors pass through. The
        # pool's pre-ping of a pooled connection is left alone: a dead one (server restarted,
        # backend killed) is then replaced by a fresh connection, not reported.
        if context.connection is not None or context.is_pre_ping:
            return
        error = context.sqlalchemy_exception
        if isinstance(error, SAOperationalError):
            raise unavailable_error(url, error) from None
        if isinstance(error, SAProgrammingError | SAInterfaceError):
            # psycopg2 on a URL libpq cannot use, e.g. `invalid dsn: invalid connection option`
            raise _url_error(url, error) from None

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


def checkpoint_sqlite(engine: Engine) -> None:
    """Fold a SQLite file's write-ahead log into the file (`PRAGMA wal_checkpoint(TRUNCATE)`),
    so the database file alone holds everything; a no-op for other databases. Best effort: a
    reader still open elsewhere only makes the checkpoint partial."""
    if engine.url.get_backend_name() != "sqlite" or _sqlite_file(engine.url) is None:
        return
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    except Exception:  # closing must not fail; the WAL is still read next time
        pass


def dispose_engines(url: str | URL | None = None) -> None:
    """Close pooled connections: for one URL, or every engine when `url` is None. SQLite files
    are checkpointed first (`checkpoint_sqlite`): after a command, `data/budget.db` holds every
    committed row, not only its WAL."""
    with _lock:
        keys = [resolve_url(url)] if url is not None else list(_engines)
        for key in keys:
            engine = _engines.pop(key, None)
            _factories.pop(key, None)
            if engine is not None:
                checkpoint_sqlite(engine)
                engine.dispose()
