"""Run the Alembic history programmatically, from any working directory.

    upgrade(url, "head")      downgrade(url, "base")      ensure_schema()      check_revision()

No ini file is needed: the script location is the installed `migrations` package and the URL
is handed to env.py through `Config.attributes` (so `%` in a password is never interpolated).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

import migrations
from db.engine import get_engine, mask_url, resolve_url
from db.errors import SchemaRevisionError

_checked: set[str] = set()
_checked_lock = threading.Lock()


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic `Config` for our history and `url` (default: settings)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).resolve().parent))
    cfg.attributes["url"] = resolve_url(url)
    return cfg


@lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head_revision() -> str:
    """The newest revision in the history."""
    head = _script().get_current_head()
    assert head is not None, "migrations/versions is empty"
    return head


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    """Every revision of this code's history."""
    return frozenset(rev.revision for rev in _script().walk_revisions())


def current_revision(url: str | URL | None = None) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str | URL | None = None, rev: str = "head") -> None:
    """Migrate the database at `url` forward to `rev`."""
    command.upgrade(alembic_config(url), rev)


def downgrade(url: str | URL | None = None, rev: str = "-1") -> None:
    """Migrate the database at `url` back to `rev` (`base` drops every table)."""
    with _checked_lock:
        _checked.discard(resolve_url(url))
    command.downgrade(alembic_config(url), rev)


def ensure_schema(url: str | URL | None = None) -> None:
    """Upgrade to head unless already done in this process; cheap to call on every job.

    A database at a revision this code does not know (migrated by newer code) is not touched:
    `SchemaRevisionError`, one line naming both revisions."""
    key = resolve_url(url)
    with _checked_lock:
        if key in _checked:
            return
        current = current_revision(key)
        if current is not None and current not in known_revisions():
            raise _revision_error(key, current)
        if current != head_revision():
            upgrade(key, "head")
        _checked.add(key)


# Engines (by URL) whose alembic_version table was seen: later checks read it with one
# primary-key SELECT instead of asking the catalog first.
_versioned: set[str] = set()


def _read_revision(key: str) -> str | None:
    engine = get_engine(key)
    if key in _versioned:
        try:
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT version_num FROM alembic_version"))
                heads = [row[0] for row in rows]
            return heads[0] if len(heads) == 1 else None
        except SQLAlchemyError:  # the table is gone (downgraded to base): ask the catalog
            _versioned.discard(key)
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current is not None:
        _versioned.add(key)
    return current


def _revision_error(key: str, current: str | None) -> SchemaRevisionError:
    head, where = head_revision(), mask_url(key)
    if current is None:
        return SchemaRevisionError(
            f"the database {where} has no schema (revision: none; this code expects revision "
            f"{head}): run `budget db upgrade`")
    if current not in known_revisions():
        return SchemaRevisionError(
            f"the database {where} is at schema revision {current}, which this code does not "
            f"know (its head is {head}): it was migrated by newer code; run that code, or "
            f"`budget db downgrade {head}` with it, then `budget db upgrade` here")
    return SchemaRevisionError(
        f"the database {where} is at schema revision {current}, behind this code's head "
        f"{head}: run `budget db upgrade`")


def check_revision(url: str | URL | None = None) -> str:
    """The database's schema revision when it is this code's head; else `SchemaRevisionError`
    (no schema, behind head, or unknown to this code) naming both revisions and the fix.

    Cheap enough for every request: the history is read once per process, and once the
    version table has been seen on an engine, a check is one primary-key SELECT on a pooled
    connection. Never migrates. Connection failures raise `DatabaseUnavailableError` (an
    unusable URL `DatabaseURLError`), like every other call."""
    key = resolve_url(url)
    current = _read_revision(key)
    if current != head_revision():
        raise _revision_error(key, current)
    return current
