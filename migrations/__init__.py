"""Alembic migration history, one for PostgreSQL and SQLite. Run it through `db.migrate`."""
