"""Settings, engine creation, URL masking and the unreachable-database error."""

from __future__ import annotations

import pytest

from config import REPO_ROOT, Settings, get_settings
from db import DatabaseUnavailableError, check_connection, mask_url, session_scope
from db.engine import dispose_engines, get_engine


def test_default_database_is_sqlite_file_under_data(monkeypatch, tmp_path):
    """Without DATABASE_URL the database is the embedded SQLite file budget.db in DATA_DIR,
    which defaults to ./data under the working directory (never the package's location)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings(_env_file=None)
    assert settings.data_dir == tmp_path / "data"
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'budget.db'}"
    assert not str(settings.data_dir).startswith(str(REPO_ROOT))


def test_database_url_comes_from_environment(monkeypatch):
    """DATABASE_URL in the environment wins, and get_settings() caches until cleared."""
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://u:p@db.example:5433/prod")
    get_settings.cache_clear()
    try:
        assert get_settings().database_url.endswith("@db.example:5433/prod")
        assert get_settings() is get_settings()
    finally:
        get_settings.cache_clear()


def test_sqlite_parent_directory_is_created(tmp_path):
    """Opening a SQLite file under a missing directory creates the directory."""
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'x.db'}"
    check_connection(url)
    dispose_engines(url)
    assert (tmp_path / "a" / "b" / "x.db").exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg2://bob:s3cret@db:5432/x", "postgresql+psycopg2://bob:***@db:5432/x"),
        ("postgresql://bob:p%40ss@db/x", "postgresql://bob:***@db/x"),
        ("sqlite:////tmp/a.db", "sqlite:////tmp/a.db"),
        ("not a url://bob:hunter2@host", "not a url://bob:***@host"),
        ("postgresql://bob@db/x?password=s3cret", "postgresql://bob@db/x?password=***"),
        ("postgresql://bob@db/x?sslmode=require&PASSWORD=a%26b",
         "postgresql://bob@db/x?sslmode=require&PASSWORD=***"),
        ("postgresql://bob:one@db/x?passwd=two&pwd=three&sslpassword=four&application_name=app",
         "postgresql://bob:***@db/x?passwd=***&pwd=***&sslpassword=***&application_name=app"),
        ("postgresql://db/x?pwd=a&pwd=b", "postgresql://db/x?pwd=***&pwd=***"),
        ("not a url://h/x?password=hunter2&mode=1", "not a url://h/x?password=***&mode=1"),
        ("host=db password=hunter2 dbname=x", "host=db password=*** dbname=x"),
        ("postgresql://bob:p@ss@db/x", "postgresql://bob:***@db/x"),  # unencoded "@"
        ("postgresql://bob@db/x?options=-c%20password%3Dhunter2",
         "postgresql://bob@db/x?options=-c%20password=***"),  # a secret inside a value
        ("postgresql://bob@/x?host=/var/run/pg", "postgresql://bob@/x?host=/var/run/pg"),
        ("not a url://bob:p@s/s@host/x?a=1", "not a url://bob:***@host/x?a=1"),
    ],
)
def test_mask_url_hides_password(url, expected):
    """mask_url replaces the password with *** and leaves the rest readable."""
    assert mask_url(url) == expected


def test_mask_url_accepts_url_objects_with_query_passwords():
    """A SQLAlchemy URL object with a query-string password is masked like its text."""
    from sqlalchemy.engine import make_url

    url = make_url("postgresql+psycopg2://bob@db/x?password=hunter2&sslmode=require")
    assert mask_url(url) == "postgresql+psycopg2://bob@db/x?password=***&sslmode=require"


def test_unreachable_database_with_query_password_is_masked():
    """A `?password=` URL that cannot connect: the one-line error shows `password=***` only."""
    url = "postgresql+psycopg2://bob@127.0.0.1:1/budget?password=hunter2"
    with pytest.raises(DatabaseUnavailableError) as info:
        check_connection(url)
    message = str(info.value)
    assert "127.0.0.1:1" in message and "password=***" in message
    assert "hunter2" not in message
    dispose_engines(url)


def test_unreachable_database_gives_one_clear_error():
    """An unreachable server raises DatabaseUnavailableError naming host:port, no password."""
    url = "postgresql+psycopg2://bob:hunter2@127.0.0.1:1/budget"
    with pytest.raises(DatabaseUnavailableError) as info, session_scope(url) as session:
        session.connection()
    message = str(info.value)
    assert "127.0.0.1:1" in message
    assert "bob:***@" in message
    assert "hunter2" not in message
    assert "\n" not in message
    dispose_engines(url)


def test_sql_errors_are_not_reported_as_unavailable(tmp_path):
    """A bad statement on a working database is a normal SQLAlchemy error, not 'unavailable'."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(OperationalError), get_engine(url).connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))
    dispose_engines(url)
