"""Application settings: one place, read from the environment and an optional `.env` file."""

from config.settings import REPO_ROOT, Settings, default_database_url, get_settings

__all__ = ["REPO_ROOT", "Settings", "default_database_url", "get_settings"]
