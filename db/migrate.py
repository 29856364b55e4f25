"""Run the Alembic history programmatically, from any working directory.

    upgrade(url, "head")      downgrade(url, "base")      ensure_schema()

No ini file is needed: the script location is the installed `migrations` package and the URL
is handed to env.py through `Config.attributes` (so `%` in a password is never interpolated).
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

import migrations
from db.engine import get_engine, resolve_url

_checked: set[str] = set()
_checked_lock = threading.Lock()


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic `Config` for our history and `url` (default: settings)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).resolve().parent))
    cfg.attributes["url"] = resolve_url(url)
    return cfg


def head_revision() -> str:
    """The newest revision in the history."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "migrations/versions is empty"
    return head


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
    """Upgrade to head unless already done in this process; cheap to call on every job."""
    key = resolve_url(url)
    with _checked_lock:
        if key in _checked:
            return
        if current_revision(key) != head_revision():
            upgrade(key, "head")
        _checked.add(key)
