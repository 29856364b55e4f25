"""Which optional extra of `budget-allocation` a missing module belongs to.

`pip install budget-allocation` installs the solvers and the `budget solve` CLI (NumPy and
pydantic only). Everything else is an extra, named here once so that an `ImportError` can say
what to install:

    [pipeline]  Prefect flows, the database (SQLAlchemy, Alembic, psycopg2), Parquet (pyarrow),
                plots (matplotlib) and the progress display (rich)
    [ml]        the selector and runtime models (LightGBM, scikit-learn, joblib)
    [api]       the REST API (FastAPI, uvicorn, prometheus-client)
    [dask]      solver batches on a Dask cluster (prefect-dask, distributed)
    [arrow]     Arrow-native export from PostgreSQL (ADBC)
    [fast]      compiled dp kernels (Numba); optional, the dp runs without them
    [all]       all of the above

Standard library only: this module is imported when something else failed to import.
"""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRAS", "MissingExtraError", "extra_for", "missing_extra", "require"]

DIST = "budget-allocation"

EXTRAS: dict[str, tuple[str, ...]] = {
    "pipeline": ("prefect", "sqlalchemy", "alembic", "psycopg2", "pyarrow", "matplotlib",
                 "rich", "mako"),
    "ml": ("lightgbm", "sklearn", "joblib", "scipy", "threadpoolctl"),
    "api": ("fastapi", "fastapi_offline", "starlette", "anyio", "uvicorn", "prometheus_client"),
    "dask": ("prefect_dask", "distributed", "dask"),
    "arrow": ("adbc_driver_postgresql", "adbc_driver_manager"),
    "fast": ("numba", "llvmlite"),
}
"""Extra -> the top-level modules it brings (those the project imports, and their own imports
that surface in an `ImportError`)."""


class MissingExtraError(ImportError):
    """A feature needs an optional extra that is not installed; the message says what to run."""

    def __init__(self, extra: str, module: str, what: str | None = None) -> None:
        self.extra, self.module = extra, module
        needs = f"{what} needs" if what else "this needs"
        super().__init__(
            f"{needs} the [{extra}] extra (module {module!r} is not installed): "
            f"pip install '{DIST}[{extra}]'", name=module)


def extra_for(module: str | None) -> str | None:
    """The extra that provides `module` (a dotted name is taken by its top level), or None."""
    top = (module or "").split(".")[0]
    return next((extra for extra, mods in EXTRAS.items() if top in mods), None)


def missing_extra(exc: ImportError, what: str | None = None) -> MissingExtraError | None:
    """`exc` as a `MissingExtraError` naming the extra, or None when the missing module is not
    one of an extra's (a genuine bug, to be raised as it is)."""
    if isinstance(exc, MissingExtraError):
        return exc
    extra = extra_for(getattr(exc, "name", None))
    return None if extra is None else MissingExtraError(extra, exc.name or "?", what)


def require(extra: str, what: str | None = None) -> None:
    """Raise `MissingExtraError` unless every module of `extra` is importable (checked without
    importing them)."""
    for module in EXTRAS[extra]:
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(extra, module, what)
