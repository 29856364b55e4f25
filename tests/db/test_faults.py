"""Faults become one clear line: a killed backend is reconnected by the pre-ping, a password with
an unencoded "@" never leaks, an unknown libpq option or schema revision is named, and SQLite's
WAL is folded into the database file when the engines are closed."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db import create_project_set
from db.engine import (
    DatabaseURLError,
    _describe_target,
    check_connection,
    dispose_engines,
    get_engine,
    mask_url,
    session_scope,
    unavailable_error,
    url_secrets,
)
from db.errors import DatabaseUnavailableError, SchemaRevisionError
from db.migrate import check_revision, downgrade, ensure_schema, head_revision, upgrade

# ---------------------------------------------------------------- pre-ping after a backend kill


@pytest.mark.postgres
def test_pooled_connections_killed_by_the_server_are_replaced(pg_migrated_url, pg_admin_url):
    """After pg_terminate_backend of every pooled connection, the next session_scope work
    succeeds, every time (the pre-ping reconnects; nothing answers 'unavailable')."""
    engine = get_engine(pg_migrated_url)
    held = [engine.connect() for _ in range(3)]
    pids = {c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in held}
    for c in held:
        c.close()  # back to the pool, still open
    admin = get_engine(pg_admin_url)
    with admin.connect() as a:
        killed = a.execute(text("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) "
                                "FROM pg_stat_activity WHERE pid = ANY(:pids)) AS t"),
                           {"pids": list(pids)}).scalar_one()
    assert killed == 3
    for i in range(5):  # more than the pool held
        with session_scope(pg_migrated_url) as s:
            create_project_set(session=s, name=f"after-kill-{i}", projects=[1, 2 + i],
                               budgets=[3])
    with session_scope(pg_migrated_url) as s:
        assert s.execute(text("SELECT count(*) FROM project_sets")).scalar_one() == 5


# ---------------------------------------------------------------- secrets in odd URLs

# Every password piece starts with "PW": no message may show "PW" (host and user are plain).
ODD_PASSWORDS = ["PWSE@PWCRET", "PWa@PWb/PWc", "PWa b@PWc#PWd", "PWx%PWy@PWz", "PWq?PWr@PWs",
                 "PWm:PWn@PWo", "PW@@PWtail", "PW/PWslash@PWend", "PW%40PWenc@PWraw"]


@pytest.mark.parametrize("password", ODD_PASSWORDS)
def test_a_password_with_an_unencoded_at_is_masked_everywhere(password):
    """mask_url, url_secrets, the target description and the unavailable error show the host
    after the last '@' and no piece of the password."""
    url = f"postgresql+psycopg2://bob:{password}@dbhost.example:5433/budget"
    masked = mask_url(url)
    assert masked == "postgresql+psycopg2://bob:***@dbhost.example:5433/budget"
    assert mask_url(make_url(url)) == masked
    target = _describe_target(make_url(url))
    assert target == "postgresql server at dbhost.example:5433 (database 'budget')"
    pieces = url_secrets(url)
    driver = OSError(f'could not translate host name "{make_url(url).host}" to address: '
                     f"password {password} for bob; {' '.join(pieces)}")
    message = str(unavailable_error(url, driver))
    assert "PW" not in message and "dbhost.example:5433" in message, message
    assert "\n" not in message


@pytest.mark.parametrize("password", ODD_PASSWORDS)
def test_a_url_whose_password_holds_an_unencoded_at_is_refused_in_one_line(password):
    """get_engine refuses it before any driver sees it: DatabaseURLError naming DATABASE_URL,
    the masked URL and the fix; no piece of the password."""
    url = f"postgresql+psycopg2://bob:{password}@127.0.0.1:1/budget"
    if "@" not in make_url(url).host + (make_url(url).database or ""):
        pytest.skip("the parser reads this one right (encoded '@' only)")
    with pytest.raises(DatabaseURLError) as info:
        check_connection(url)
    message = str(info.value)
    assert "DATABASE_URL" in message and "percent-encode" in message
    assert "bob:***@127.0.0.1:1/budget" in message
    assert "PW" not in message and "\n" not in message


def test_an_encoded_password_is_used_as_written():
    """'%40' is an '@' inside the password: parsed right, masked, not refused."""
    url = "postgresql+psycopg2://bob:PWa%40b@127.0.0.1:1/budget"
    assert url_secrets(url) == ["PWa@b"]
    with pytest.raises(DatabaseUnavailableError) as info:
        check_connection(url)
    assert not isinstance(info.value, DatabaseURLError)
    assert "PW" not in str(info.value) and "127.0.0.1:1" in str(info.value)
    dispose_engines(url)


def test_an_at_in_a_sqlite_path_or_a_query_value_is_not_a_password():
    """Only userinfo is masked: a SQLite path with '@' and a query value with '@' stay readable."""
    assert mask_url("sqlite:////home/me@corp/x.db") == "sqlite:////home/me%40corp/x.db"
    assert mask_url("postgresql://bob:pw@h/db?application_name=me@x") == (
        "postgresql://bob:***@h/db?application_name=me%40x")


# ---------------------------------------------------------------- unknown libpq option


@pytest.mark.postgres
def test_an_unknown_libpq_option_is_a_url_error_naming_database_url(pg_admin_url):
    """`?foo=bar` is refused by libpq: DatabaseURLError, one line, the option named, secrets
    masked (not a traceback, not 'unavailable' with a raw driver error)."""
    url = f"{pg_admin_url}?foo=bar&password=hunter2"
    with pytest.raises(DatabaseURLError) as info:
        check_connection(url)
    message = str(info.value)
    assert message.startswith("unusable database URL (DATABASE_URL)")
    assert 'invalid connection option "foo"' in message
    assert "password=***" in message and "hunter2" not in message and "\n" not in message
    dispose_engines(url)


# ---------------------------------------------------------------- schema revision


def test_check_revision_passes_at_head_and_names_the_fix_otherwise(sqlite_url):
    """No schema, behind head, and a revision this code does not know each raise
    SchemaRevisionError naming the database's revision, the head and the fix."""
    head = head_revision()
    with pytest.raises(SchemaRevisionError, match=rf"no schema .*{head}.*budget db upgrade"):
        check_revision(sqlite_url)
    upgrade(sqlite_url, "head")
    assert check_revision(sqlite_url) == head
    downgrade(sqlite_url, "0002")  # under a running process: the cached engine notices
    with pytest.raises(SchemaRevisionError,
                       match=rf"revision 0002, behind this code's head {head}: run `budget db "
                             "upgrade`"):
        check_revision(sqlite_url)
    upgrade(sqlite_url, "head")
    with get_engine(sqlite_url).begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaRevisionError,
                       match=rf"revision 9999, which this code does not know \(its head is "
                             rf"{head}\)") as info:
        check_revision(sqlite_url)
    assert "\n" not in str(info.value)
    with pytest.raises(SchemaRevisionError, match="9999"):  # never migrated blindly
        ensure_schema(sqlite_url)
    with get_engine(sqlite_url).begin() as c:
        c.execute(text(f"UPDATE alembic_version SET version_num = '{head}'"))
    downgrade(sqlite_url, "base")  # the version table is gone: back to 'no schema'
    with pytest.raises(SchemaRevisionError, match="no schema"):
        check_revision(sqlite_url)


@pytest.mark.postgres
def test_check_revision_on_postgres_sees_a_downgrade_at_once(pg_migrated_url):
    """A PostgreSQL database downgraded under a running process fails the very next check."""
    assert check_revision(pg_migrated_url) == head_revision()
    downgrade(pg_migrated_url, "0002")
    with pytest.raises(SchemaRevisionError, match="revision 0002"):
        check_revision(pg_migrated_url)


# ---------------------------------------------------------------- clean close


def test_dispose_engines_folds_the_wal_into_the_sqlite_file(sqlite_migrated_url, tmp_path):
    """After dispose_engines the WAL is empty and the .db file alone holds every committed row,
    even while another connection (another process: the API, a viewer) keeps the file open, so
    SQLite's own checkpoint on the last close never happens."""
    path = make_url(sqlite_migrated_url).database
    other = sqlite3.connect(path)  # like a second process holding the file open, idle
    try:
        other.execute("SELECT count(*) FROM alembic_version").fetchall()
        with session_scope(sqlite_migrated_url) as s:
            for i in range(20):
                create_project_set(session=s, name=f"s{i}", projects=[1, 2 + i], budgets=[3])
        wal = f"{path}-wal"
        assert os.path.getsize(wal) > 0  # the rows are in the WAL before the close
        dispose_engines(sqlite_migrated_url)
        assert not os.path.exists(wal) or os.path.getsize(wal) == 0
        alone = tmp_path / "alone.db"  # the file without its WAL, as a copy or a backup sees it
        shutil.copyfile(path, alone)
        with sqlite3.connect(alone) as con:
            assert con.execute("SELECT count(*) FROM project_sets").fetchone()[0] == 20
    finally:
        other.close()
