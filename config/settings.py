"""The one `Settings` class.

Values come from environment variables (case-insensitive, e.g. `DATABASE_URL`) and, when
present, a `.env` file at the repository root. `get_settings()` builds them once per process;
tests that change the environment call `get_settings.cache_clear()`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_database_url() -> str:
    """The embedded SQLite default: `data/budget.db` under the repository root."""
    return f"sqlite:///{REPO_ROOT / 'data' / 'budget.db'}"


class Settings(BaseSettings):
    """Where data lives and how to reach it. Solver and API fields join here later."""

    model_config = SettingsConfigDict(
        env_file=REPO_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL; PostgreSQL (postgresql+psycopg2://...) in production.",
    )
    db_echo: bool = Field(default=False, description="Log every SQL statement.")
    db_connect_timeout: int = Field(
        default=5, ge=1, description="Seconds before an unreachable PostgreSQL server is reported."
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built on first use."""
    return Settings()
