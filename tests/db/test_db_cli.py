"""`budget db ...` commands: upgrade, downgrade, current; unreachable DB is one clean line."""

from __future__ import annotations

import argparse

import pytest

from cli.db_commands import handle, register
from db.migrate import current_revision, head_revision


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="budget")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def test_upgrade_and_downgrade_commands(sqlite_url, capsys):
    """`db upgrade` goes to head, `db downgrade base` empties, both exit 0 and say where."""
    args = _parse("db", "upgrade", "--url", sqlite_url)
    assert args.handler is handle
    assert handle(args) == 0
    assert current_revision(sqlite_url) == head_revision()
    assert "at head" in capsys.readouterr().out
    assert handle(_parse("db", "downgrade", "base", "--url", sqlite_url)) == 0
    assert current_revision(sqlite_url) is None
    assert "base (empty)" in capsys.readouterr().out


def test_unreachable_database_prints_one_line_without_password(capsys):
    """An unreachable server: exit 2 and one stderr line naming the host, password masked."""
    from cli.main import main  # database faults propagate from `handle` to cli.main's report

    url = "postgresql+psycopg2://admin:topsecret@127.0.0.1:1/budget"
    assert main(["db", "upgrade", "--url", url]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot connect to postgresql server at 127.0.0.1:1")
    assert "admin:***@" in err and "topsecret" not in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_unknown_revision_is_a_clean_error(sqlite_url, capsys):
    """A revision that does not exist: exit 1 with Alembic's message, no traceback."""
    assert handle(_parse("db", "upgrade", "nope", "--url", sqlite_url)) == 1
    assert capsys.readouterr().err.startswith("error: ")


@pytest.mark.parametrize("url", ["notaurl", "mysql://admin:topsecret@db.example/budget",
                                 "nosuchdialect://admin:topsecret@h/db",
                                 "postgresql+nosuchdriver://admin:topsecret@h/db",
                                 "postgresql+asyncpg://admin:topsecret@127.0.0.1:1/db"])
def test_malformed_database_url_is_one_error_line(url, capsys):
    """A URL that cannot be parsed or has no driver: non-zero, one `error:` line, no password."""
    from cli.main import main

    assert main(["db", "current", "--url", url]) != 0
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert "Traceback" not in captured.err and "topsecret" not in captured.err
    assert url.split("://")[0] in err


def test_malformed_url_error_is_a_database_error():
    """get_engine raises DatabaseUnavailableError (a DatabaseError) naming the masked URL."""
    from db.engine import get_engine
    from db.errors import DatabaseUnavailableError

    with pytest.raises(DatabaseUnavailableError, match=r"mysql://admin:\*\*\*@h/db"):
        get_engine("mysql://admin:topsecret@h/db")
