"""Database URLs printed by the CLI never show a password (userinfo or query string)."""

from __future__ import annotations

from cli.main import main
from db.engine import dispose_engines


def test_db_current_masks_query_string_password(pg_url, capsys):
    """`budget db upgrade/current` on a `?password=` URL prints `password=***`, never the value."""
    url = f"{pg_url}?password=topsecret&application_name=budget-test"
    try:
        assert main(["db", "upgrade", "--url", url]) == 0
        assert main(["db", "current", "--url", url]) == 0
    finally:
        dispose_engines(url)
    captured = capsys.readouterr()
    assert "topsecret" not in captured.out + captured.err
    lines = captured.out.strip().splitlines()
    assert len(lines) == 2 and all("password=***" in line for line in lines), lines
    assert "application_name=budget-test" in lines[-1] and "at head" in lines[-1]


def test_unreachable_database_error_masks_query_string_password(capsys):
    """An unreachable `?password=` URL: exit 2, one error line with `password=***` only."""
    url = "postgresql+psycopg2://admin@127.0.0.1:1/budget?sslpassword=k3y&password=topsecret"
    assert main(["db", "current", "--url", url]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("error: cannot connect") and len(err.splitlines()) == 1, err
    assert "password=***" in err and "sslpassword=***" in err
    assert "topsecret" not in captured.err + captured.out and "k3y" not in captured.err


def test_malformed_url_error_masks_query_string_password(capsys):
    """A URL with an unknown dialect: the one error line masks the query-string password."""
    assert main(["db", "current", "--url", "nosuchdialect://h/db?password=topsecret"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unusable database URL") and "password=***" in err
    assert "topsecret" not in err
