"""The one `Settings` class, and where files live.

Values come from environment variables (case-insensitive, e.g. `DATABASE_URL`) and, when
present, a `.env` file in the **working directory**. `get_settings()` builds them once per
process; tests that change the environment call `get_settings.cache_clear()`.

Every path comes from `DATA_DIR` (default `./data` under the working directory), never from where
the package is installed: after `pip install budget-allocation` the data folder, the SQLite file
and `.env` are the working directory's, not `site-packages`'. The one file that ships with the
package is the bundled example (`examples_dir()`, read-only package data).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
"""Where the `config` package's parent folder is: the checkout, or `site-packages` after a wheel
install. Kept importable for old callers; never a data path (see `default_data_dir`)."""

ENV_FILE = ".env"
"""Read from the working directory (a relative path: resolved when the settings are built)."""


def examples_dir() -> Path:
    """The bundled examples (package data `config/examples/`, read-only): `portfolio.csv`.

    The checkout's `data/examples/portfolio.csv` is a link to the same file."""
    return Path(str(resources.files(__package__ or "config").joinpath("examples")))


EXAMPLE_PORTFOLIO = examples_dir() / "portfolio.csv"
"""The bundled example portfolio: the `solve` flow's and the demo's default input."""


def default_data_dir() -> Path:
    """`./data` under the current working directory (absolute)."""
    return Path.cwd() / "data"


def default_database_url(data_dir: Path | str | None = None) -> str:
    """The embedded SQLite default: `budget.db` in `data_dir` (default `default_data_dir()`)."""
    folder = Path(data_dir).expanduser().absolute() if data_dir else default_data_dir()
    return f"sqlite:///{folder / 'budget.db'}"


class Settings(BaseSettings):
    """Where data lives, how to reach it, and the limits of every entry point."""

    model_config = SettingsConfigDict(
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
    )

    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; PostgreSQL (postgresql+psycopg2://...) in production. Empty "
        "(the default): the SQLite file `budget.db` in DATA_DIR.",
    )
    db_echo: bool = Field(default=False, description="Log every SQL statement.")
    db_connect_timeout: int = Field(
        default=5, ge=1, description="Seconds before an unreachable PostgreSQL server is reported."
    )

    # --- where files live -------------------------------------------------------------------
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Datasets, Parquet exports, plots, logs, model files and the SQLite default. "
        "Default `./data` under the working directory (a relative value is taken from there "
        "too), never the package's folder. Flows started from the Prefect UI write only under "
        "it (the folder is not a flow parameter).",
    )
    input_dirs: Annotated[list[Path] | None, NoDecode] = Field(
        default=None,
        description="Folders a Prefect flow run (a UI user, not the local user) may read "
        "projects files from: `solve`'s `path` must resolve (symlinks and `..` followed) to a "
        "regular file inside one of them; a relative path is tried against each in turn. "
        "Empty: `<DATA_DIR>/inputs` and the bundled examples (package data). Set as a JSON "
        "list (`[\"/srv/in\", \"/srv/shared\"]`) or folders separated by `:`. The CLI, "
        "run by the local user, reads any path.",
    )

    # --- solver guard rails (passed to solvers.Limits at the edges) -------------------------
    max_projects: int = Field(
        default=2_000_000, ge=1,
        description="Most projects in one instance (the CLI, the flows and the solvers; the "
        "solvers' own default limit is the same). 1,000,000 are solved in about a second.")
    dp_memory_cap_mb: int = Field(
        default=1024, ge=1, description="dp/meet-in-the-middle refuse plans above this (MiB)."
    )
    default_time_limit: float = Field(
        default=60.0, gt=0, description="Seconds a solve may take when the caller gives none."
    )

    # --- pipeline ---------------------------------------------------------------------------
    dask_address: str | None = Field(
        default=None, description="tcp://HOST:PORT of a Dask scheduler for solver tasks."
    )
    batch_overhead_seconds: float = Field(
        default=0.05, ge=0,
        description="Orchestration seconds one solver batch costs (a Dask job through the "
        "runner's client: a few ms; a Prefect task run on threads: 20-50 ms; "
        "`batch_gap_seconds` in a benchmark's summary measures it). "
        "The runtime model's batch plan weighs it against balance: fewer, larger batches "
        "when it dominates.")
    alert_time_seconds: float = Field(
        default=5.0, gt=0, description="Alert when one solve takes longer than this."
    )
    alert_memory_mb: float = Field(
        default=512.0, gt=0, description="Alert when one solve peaks above this many MiB."
    )
    alert_fallback_count: int = Field(
        default=3, ge=1, description="Alert when hybrid answers approximately this often in a run."
    )

    # --- REST API ---------------------------------------------------------------------------
    api_host: str = Field(default="127.0.0.1", description="Interface `budget api` binds.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port `budget api` binds.")
    api_workers: int = Field(default=1, ge=1, description="uvicorn worker processes.")
    api_max_projects: int = Field(
        default=200_000,
        ge=1,
        description="Most projects per API request (never above MAX_PROJECTS, which the CLI and "
        "the solvers use too); over it a 422 naming `projects`. POST /solve/ with 200,000 "
        "projects takes about 20 s, mostly storing them (docs/benchmarks/api.md).",
    )
    api_max_body_bytes: int = Field(
        default=16_000_000,
        ge=1024,
        description="Largest request body accepted (413 above it). The default fits "
        "API_MAX_PROJECTS projects of 80 bytes each; a project object with a short name and "
        "cost is about 41 bytes, a bare amount about 13.",
    )
    api_max_time_limit: float = Field(
        default=10.0, gt=0, description="Largest time_limit a request may ask for (seconds)."
    )
    api_solve_time_cap: float = Field(
        default=10.0, gt=0, description="Server-side cap on any one solve's time (seconds)."
    )
    api_cors_origins: list[str] = Field(
        default_factory=list, description="Allowed CORS origins; empty means CORS is off."
    )
    api_auth: Literal["on", "off"] = Field(
        default="on",
        description="API keys required (`Authorization: Bearer <key>`, `budget keys create`). "
        "`off` is for development only: every caller sees every owner's data (a WARNING at "
        "start).",
    )

    @field_validator("data_dir", mode="after")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        """`DATA_DIR=data` means `./data` of the working directory the settings were built in."""
        return value.expanduser().absolute()

    @model_validator(mode="after")
    def _sqlite_in_data_dir(self) -> Settings:
        """No DATABASE_URL: the embedded SQLite file in DATA_DIR."""
        if not self.database_url.strip():
            self.database_url = default_database_url(self.data_dir)
        return self

    @field_validator("input_dirs", mode="before")
    @classmethod
    def _split_dirs(cls, value: Any) -> Any:
        """`INPUT_DIRS` from the environment: a JSON list, or folders separated by `:`."""
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            if text.startswith("["):
                return json.loads(text)
            return [part for part in text.split(os.pathsep) if part.strip()]
        return value

    def input_folders(self) -> list[Path]:
        """The folders flows may read projects files from (`INPUT_DIRS`, or its default)."""
        if self.input_dirs:
            return list(self.input_dirs)
        return [Path(self.data_dir) / "inputs", examples_dir()]

    @property
    def api_projects_cap(self) -> int:
        """Projects one API request may hold: API_MAX_PROJECTS, within MAX_PROJECTS."""
        return min(self.api_max_projects, self.max_projects)

    def solver_limits(self) -> Any:
        """These settings as a `solvers.Limits` (imported lazily: config stays import-light)."""
        from solvers import Limits

        cap = self.dp_memory_cap_mb * 1024 * 1024
        return Limits(max_n=self.max_projects, memory_cap_bytes=cap,
                      default_time_limit=self.default_time_limit)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built on first use."""
    return Settings()
