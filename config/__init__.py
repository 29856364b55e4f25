"""Application settings: one place, read from the environment and an optional `.env` file in the
working directory; where files live (`DATA_DIR`, the bundled example); which optional extra a
missing module belongs to (`config.extras`)."""

from config.settings import (
    EXAMPLE_PORTFOLIO,
    REPO_ROOT,
    Settings,
    default_data_dir,
    default_database_url,
    examples_dir,
    get_settings,
)

__all__ = [
    "EXAMPLE_PORTFOLIO",
    "REPO_ROOT",
    "Settings",
    "default_data_dir",
    "default_database_url",
    "examples_dir",
    "get_settings",
]
