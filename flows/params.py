"""Flow parameters: pydantic models with descriptions and bounds.

Prefect renders each as a form in the UI and validates it before a run starts, so nonsense
(negative sizes, an unknown algorithm or family, a time limit of 0) never reaches a task.
Plain pydantic: importable without Prefect (the CLI and the API build these too).
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, field_validator, model_validator

import solvers
from solvers.instances import FAMILIES, TODD_MAX_N

Algorithm = Literal[tuple(solvers.ALGORITHMS)]  # type: ignore[valid-type]
Family = Literal[FAMILIES]  # type: ignore[valid-type]

DEFAULT_FAMILIES = ["uniform", "portfolio", "pthree", "psix", "evenodd", "avis", "somatoth"]
_URL = "SQLAlchemy URL of the database; empty: the DATABASE_URL setting of the process " \
       "that runs the flow."
_DATA = "Folder for datasets, exports, plots and logs; empty: the data_dir setting."


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str | None = Field(None, description=_URL)
    data_dir: str | None = Field(None, description=_DATA)


class _Instances(_Params):
    sizes: list[int] = Field(
        [10, 50, 200], min_length=1, max_length=20,
        description="Instance sizes n (projects per instance), e.g. 10, 50, 200: small (n<20), "
                    "medium (n<100), large (n<1000) and, optionally, larger.",
    )
    per_size: int = Field(4, ge=1, le=1000, description="Instances per family and size.")
    families: list[Family] = Field(
        DEFAULT_FAMILIES, min_length=1,
        description="Instance families: uniform, portfolio (lognormal money), and the "
                    "literature's hard ones (pthree, psix, evenodd, avis, todd, somatoth).",
    )
    seed: int | None = Field(
        0, ge=0, le=2**31,
        description="Base seed; empty: derived from the scheduled date (a nightly run draws "
                    "new instances each night and the same ones when rerun).",
    )

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, sizes: list[int]) -> list[int]:
        for i, n in enumerate(sizes):
            if not 1 <= n <= 100_000:
                raise ValueError(f"sizes[{i}] must be in [1, 100000], got {n}")
        return sorted(set(sizes))

    @field_validator("families")
    @classmethod
    def _unique(cls, families: list[str]) -> list[str]:
        return list(dict.fromkeys(families))

    @model_validator(mode="after")
    def _todd(self) -> Self:
        if "todd" in self.families and max(self.sizes) > TODD_MAX_N:
            raise ValueError(f"family 'todd' needs every size <= {TODD_MAX_N}, "
                             f"got {max(self.sizes)}")
        return self


class GenerateParams(_Instances):
    """Which seeded datasets to generate and store (idempotent by content)."""

    write_parquet: bool = Field(True, description="Also write each dataset to data/datasets/.")


class BenchmarkParams(_Instances):
    """A benchmark: families × sizes × algorithms, each algorithm within its time limit."""

    algorithms: list[Algorithm] = Field(
        list(solvers.ALGORITHMS), min_length=1, description="Algorithms to run (default: all)."
    )
    time_limit: PositiveFloat = Field(1.0, le=3600, description="Seconds per solve (> 0).")
    time_limits: dict[Algorithm, PositiveFloat] = Field(
        {}, description="Per-algorithm time limits overriding time_limit, e.g. {\"dp\": 5}."
    )
    measure_memory: bool = Field(
        True, description="Measure peak memory in a second, traced pass (times stay untraced)."
    )
    remeasure: bool = Field(
        False, description="Run pairs (dataset, budget, algorithm) already recorded again; off: "
                           "a rerun only adds what is missing.",
    )
    batches: int | None = Field(
        None, ge=1, le=10_000,
        description="Solver tasks to split the work into; empty: 4 per worker (at least 4).",
    )
    workers: int = Field(
        1, ge=1, le=256,
        description="Solver tasks running at once (1 with the default runner; the Dask "
                    "workers otherwise); used for the orchestration-overhead figure.",
    )
    export: bool = Field(True, description="Export this benchmark's runs to Parquet.")
    plot: bool = Field(True, description="Save a PNG of time against n per algorithm.")

    @field_validator("algorithms")
    @classmethod
    def _unique_algorithms(cls, algorithms: list[str]) -> list[str]:
        return list(dict.fromkeys(algorithms))


class ExportParams(_Params):
    """Export runs and snapshots to Hive-partitioned Parquet."""

    since_hours: PositiveFloat | None = Field(
        None, le=24 * 3650, description="Only rows from the last this many hours; empty: all."
    )
    include_snapshots: bool = Field(True, description="Export analytics snapshots too.")


class SolveParams(_Params):
    """One instance, given inline, as a file path or as a stored dataset id."""

    projects: list[float | int | str | dict] | None = Field(
        None, max_length=200_000,
        description="Inline projects: costs, or objects with a 'cost' (and a 'name').",
    )
    path: str | None = Field(None, description="A CSV, JSON or Parquet file of projects.")
    dataset_id: int | None = Field(None, ge=1, description="A stored dataset (project set) id.")
    budget: float | int | str | None = Field(
        None, description="The budget; empty: the file's or the dataset's own budget."
    )
    algorithm: Algorithm = Field("auto", description="Algorithm (default: auto).")
    time_limit: PositiveFloat = Field(10.0, le=3600, description="Seconds for the solve (> 0).")
    model_version: int | None = Field(
        None, ge=1, description="Selector model version `auto` uses; empty: the champion "
        "model, or the rules when there is none.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [k for k in ("projects", "path", "dataset_id") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of projects, path or dataset_id "
                             f"(got {', '.join(given) or 'none'})")
        if self.projects is not None and self.budget is None:
            raise ValueError("budget is required with inline projects")
        return self


class DemoParams(BenchmarkParams):
    """The Quickstart demo: generate → benchmark → snapshot → export, small and quick."""

    sizes: list[int] = Field([10, 30, 100], min_length=1, max_length=20,
                             description="Instance sizes n.")
    per_size: int = Field(2, ge=1, le=1000, description="Instances per family and size.")
    families: list[Family] = Field(["uniform", "portfolio", "pthree", "evenodd"], min_length=1,
                                   description="Instance families.")
    time_limit: PositiveFloat = Field(0.5, le=3600, description="Seconds per solve (> 0).")
    train: bool = Field(True, description="End with train → solve-with-model.")
    train_min_instances: int = Field(200, ge=20, le=100_000,
                                     description="Run-history instances the selector trains on.")
    train_time_limit: PositiveFloat = Field(0.1, le=60,
                                            description="Seconds per solve in the history.")
    train_max_n: int = Field(60, ge=10, le=2000,
                             description="Largest instance in the training history.")
