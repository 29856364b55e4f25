"""Flow parameters: pydantic models with descriptions and bounds.

Prefect renders each as a form in the UI and validates it before a run starts, so nonsense
(negative sizes, an unknown algorithm or family, a time limit of 0) never reaches a task.
Plain pydantic: importable without Prefect (the CLI and the API build these too).

**The database is not a form field.** `database_url` exists for callers in Python (tests, the
benchmark scripts) but is left out of the JSON schema (so the UI shows no such field and the
server rejects it in a deployment run) and out of `model_dump()` (so a URL never lands in the
flow run's stored parameters, where the UI would show it). Left empty, the tasks use the
`DATABASE_URL` setting of the process that runs the flow; flows never read the environment.

**Nor is the data folder.** `data_dir` is hidden the same way: a UI user cannot choose where a
flow writes. Flows write under the `DATA_DIR` setting of the serving process (the tasks resolve
it); Python callers that are the local user (the CLI's `--data-dir`, tests, benchmark scripts)
may still pass it. A deployment run that carries either hidden field anyway is refused by the
flow (`flows._runtime.refuse_hidden_fields`).

**What a UI user may read.** `SolveParams.path` is resolved by the `load-projects-file` task
inside the `INPUT_DIRS` folders only (`solvers.files.confine`), never `-` or a device.

**Money is text.** `budget` and inline costs follow the one money rule (`solvers.money.Money`,
with the database's limit): an int, a Decimal, a digit string with at most two decimals, or a
float below 10**13 read by its repr; `0.1 + 0.2` is refused here, before anything is stored. The
JSON schema is one string field (`MONEY_PATTERN`), so the UI shows a text box and an amount is
never a binary float on its way in.

**Form order is deliberate.** Each model lists its fields in `FORM_ORDER` (what to solve or
generate first, knobs next, output folders last); the schema carries that order as each
property's `position`, which the Prefect UI sorts by.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

import solvers
from ml import DEFAULT_CANDIDATES, DEFAULT_MODEL_NAME
from ml.history import DEFAULT_REPEATS
from solvers.instances import FAMILIES, TODD_MAX_N
from solvers.money import MONEY_PATTERN, STORED_LIMIT, Money

Algorithm = Literal[tuple(solvers.ALGORITHMS)]  # type: ignore[valid-type]
Family = Literal[FAMILIES]  # type: ignore[valid-type]

MAX_TOTAL_PROJECTS = 2_000_000  # projects one generate/benchmark run may create (memory bound)
DEFAULT_FAMILIES = ["uniform", "portfolio", "pthree", "psix", "evenodd", "avis", "somatoth"]
_URL = "SQLAlchemy URL of the database; empty: the DATABASE_URL setting of the process " \
       "that runs the flow."
_DATA = "Folder for datasets, exports, plots and logs (Python callers only); empty: the " \
        "DATA_DIR setting of the process that runs the flow."

FlowMoney = Annotated[
    Money.stored(),  # type: ignore[misc]
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["1200.50"],
                    "description": "Digits with at most two decimals, e.g. 1200.50; below "
                                   f"10**{len(str(STORED_LIMIT)) - 1}."}),
]
"""An amount of a flow parameter: the one money rule (`solvers.money.Money`, below the
database's limit), shown in the UI as one text field; validates to `Decimal`."""


def _form_order(schema: dict[str, Any], model: type) -> None:
    """Order the schema's properties by the model's `FORM_ORDER` and number them (`position`)."""
    props = schema.get("properties", {})
    order = [k for k in getattr(model, "FORM_ORDER", ()) if k in props]
    order += [k for k in props if k not in order]
    schema["properties"] = {k: {**props[k], "position": i} for i, k in enumerate(order)}


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_form_order)
    FORM_ORDER: ClassVar[tuple[str, ...]] = ()

    database_url: SkipJsonSchema[str | None] = Field(None, description=_URL, exclude=True,
                                                     repr=False)
    data_dir: SkipJsonSchema[str | None] = Field(None, description=_DATA, exclude=True,
                                                 repr=False)


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
    def _bounded(self) -> Self:
        total = sum(self.sizes) * self.per_size * len(self.families)
        if total > MAX_TOTAL_PROJECTS:
            raise ValueError(
                f"sum(sizes) × per_size × families = {sum(self.sizes)} × {self.per_size} × "
                f"{len(self.families)} = {total:,} projects to generate, more than "
                f"{MAX_TOTAL_PROJECTS:,}")
        return self

    @model_validator(mode="after")
    def _todd(self) -> Self:
        if "todd" in self.families and max(self.sizes) > TODD_MAX_N:
            raise ValueError(f"family 'todd' needs every size <= {TODD_MAX_N}, "
                             f"got {max(self.sizes)}")
        return self


_INSTANCES = ("families", "sizes", "per_size", "seed")


class GenerateParams(_Instances):
    """Which seeded datasets to generate and store (idempotent by content)."""

    FORM_ORDER = (*_INSTANCES, "write_parquet")

    write_parquet: bool = Field(True, description="Also write each dataset to data/datasets/.")


class BenchmarkParams(_Instances):
    """A benchmark: families × sizes × algorithms, each algorithm within its time limit."""

    FORM_ORDER = (*_INSTANCES, "algorithms", "time_limit", "time_limits", "measure_memory",
                  "remeasure", "export", "plot", "batches", "workers")

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
        description="Solver tasks to split the work into; empty: 4 per worker (at least 4), "
                    "or, with a runtime model, 1 to 4 per worker weighing "
                    "BATCH_OVERHEAD_SECONDS per task against balance.",
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
    """Export runs and snapshots to the Hive-partitioned Parquet datasets under exports/."""

    FORM_ORDER = ("since_hours", "include_snapshots")

    since_hours: PositiveFloat | None = Field(
        None, le=24 * 3650, description="Only rows from the last this many hours; empty: all."
    )
    include_snapshots: bool = Field(True, description="Export analytics snapshots too.")


class InlineProject(BaseModel):
    """One inline project: its cost (the money rule), and optionally a name and metadata."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cost: FlowMoney
    name: str | None = Field(None, max_length=200, description="The project's name.")
    metadata: dict[str, Any] | None = Field(None, description="Anything else, as JSON.")


class SolveParams(_Params):
    """One instance, given inline, as a file path or as a stored dataset id."""

    FORM_ORDER = ("path", "projects", "dataset_id", "budget", "algorithm", "time_limit",
                  "model_version")

    projects: list[FlowMoney | InlineProject] | None = Field(
        None, max_length=200_000,
        description="Inline projects: costs (\"1200.50\"), or objects with a 'cost' (and a "
                    "'name', 'metadata').",
    )
    path: str | None = Field(
        None, max_length=4096,
        description="A CSV, JSON or Parquet file of projects inside the input folders "
                    "(INPUT_DIRS of the serving process; by default data/inputs and the bundled "
                    "data/examples); a relative path is taken inside them.")
    dataset_id: int | None = Field(None, ge=1, description="A stored dataset (project set) id.")
    budget: FlowMoney | None = Field(
        None, description="The budget, e.g. 1500000.00; empty: the file's or the dataset's own "
                          "budget."
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

    FORM_ORDER = (*BenchmarkParams.FORM_ORDER, "train", "train_min_instances",
                  "train_time_limit", "train_max_n")

    sizes: list[int] = Field([10, 30, 100], min_length=1, max_length=20,
                             description="Instance sizes n.")
    per_size: int = Field(2, ge=1, le=1000, description="Instances per family and size.")
    families: list[Family] = Field(["uniform", "portfolio", "pthree", "evenodd"], min_length=1,
                                   description="Instance families.")
    time_limit: PositiveFloat = Field(0.5, le=3600, description="Seconds per solve (> 0).")
    train: bool = Field(True, description="End with train → solve-with-model.")
    train_min_instances: int = Field(200, ge=20, le=100_000,
                                     description="Run-history instances the selector trains on.")
    train_time_limit: PositiveFloat = Field(
        0.1, le=60, description="Seconds per solve in the demo's training history: 0.1, "
                                "not the 2 s of a real training (train-selector), so the "
                                "demo stays quick.")
    train_max_n: int = Field(60, ge=10, le=2000,
                             description="Largest instance in the training history.")


class TrainParams(_Params):
    """Train, evaluate and register the algorithm selector on the recorded run history."""

    FORM_ORDER = ("min_instances", "time_limit", "max_n", "candidates", "n_splits", "repeats",
                  "timing_repeats", "seed", "batch_size", "model_name")

    min_instances: int = Field(
        2000, ge=20, le=1_000_000,
        description="Instances the history must hold; a covering benchmark tops it up first.")
    time_limit: PositiveFloat = Field(
        2.0, le=60, description="CPU seconds per solve in the history (the PAR10 cutoff; "
                                "seconds, so PAR10 is not mostly timeout penalty).")
    seed: int = Field(0, ge=0, le=2**31, description="Seed of the history and the folds.")
    n_splits: int = Field(5, ge=2, le=20, description="Cross-validation folds.")
    repeats: int = Field(3, ge=1, le=20, description="Repetitions of the folds.")
    timing_repeats: int = Field(
        DEFAULT_REPEATS, ge=1, le=15,
        description="Timed runs per instance and algorithm in the history (median CPU time).")
    batch_size: int = Field(250, ge=1, le=100_000,
                            description="History instances solved and stored per batch.")
    model_name: str = Field(DEFAULT_MODEL_NAME, min_length=1, max_length=100,
                            description="Registry name of the model.")
    candidates: Literal["base", "base+hybrid", "portfolio"] = Field(
        "portfolio", description="Algorithms the selector chooses among: the base ones, plus "
                            "hybrid, or the portfolio (base, hybrid and hybrid's named "
                            "configurations, e.g. hybrid[exact-first]).")
    max_n: int | None = Field(None, ge=10, le=100_000,
                              description="Largest instance in the history; empty: no cap.")


class ReplayParams(_Params):
    """Re-run recently solved user instances across the candidate set (honest protocol: CPU
    time, median of `timing_repeats`, cutoff `time_limit`) and record them as replay runs."""

    FORM_ORDER = ("time_budget", "since_days", "limit", "candidates", "time_limit",
                  "timing_repeats")

    time_budget: PositiveFloat = Field(
        1800.0, le=24 * 3600,
        description="Seconds of solving this run may spend; a candidate starts only if its "
                    "worst case (timing_repeats × time_limit) fits, and what is left waits "
                    "for the next run.")
    since_days: PositiveFloat | None = Field(
        30.0, le=3650, description="Only instances users solved in the last this many days; "
                                   "empty: all.")
    limit: int = Field(1000, ge=1, le=100_000,
                       description="Most user instances one run considers (most distinct and "
                                   "most recent first).")
    candidates: Literal["base", "base+hybrid", "portfolio"] = Field(
        DEFAULT_CANDIDATES, description="Algorithms replayed: the base ones, plus hybrid, or the "
                                 "portfolio (base, hybrid and hybrid's named configurations); "
                                 "hybrid is always timed (the rules' baseline).")
    time_limit: PositiveFloat = Field(
        2.0, le=60, description="CPU seconds per solve (the PAR10 cutoff, as in training).")
    timing_repeats: int = Field(
        DEFAULT_REPEATS, ge=1, le=15,
        description="Timed runs per instance and algorithm (median CPU time).")

    @model_validator(mode="after")
    def _one_run_fits(self) -> Self:
        worst = self.timing_repeats * self.time_limit
        if worst > self.time_budget:
            raise ValueError(
                f"time_budget must allow one measurement: timing_repeats × time_limit = "
                f"{self.timing_repeats} × {self.time_limit:g} = {worst:g} s > time_budget "
                f"{self.time_budget:g} s")
        return self
