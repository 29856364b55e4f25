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

**One source, chosen.** `SolveParams.source` is a discriminated union on `kind`: the bundled
example (the default: a Quick run solves it as is), a file, CSV text, a stored dataset or
projects typed in. Each variant has only its own fields, required where the flow needs them
(a budget with CSV text or typed projects), so a form cannot combine two sources or leave out a
budget: the server checks the parameters against the JSON schema when the run is created
(`enforce_parameter_schema`) and refuses a wrong one before it starts. The schema gives
`source` as `anyOf` (which the Prefect UI renders as one button per source; it does not render
`oneOf`), with the OpenAPI `discriminator` kept. Python callers may still pass the old
`projects=`, `path=` or `dataset_id=` (and `budget=`); they become the matching source.

**What a UI user may read.** A file source's `path` is resolved by the `load-projects-file`
task inside the `INPUT_DIRS` folders only (`solvers.files.confine`), never `-` or a device.

**Money is text.** `budget` and inline costs follow the one money rule (`solvers.money.Money`,
with the database's limit): an int, a Decimal, a digit string with at most two decimals, or a
float below 10**13 read by its repr; `0.1 + 0.2` is refused here, before anything is stored. The
JSON schema is one string field (`MONEY_PATTERN`), so the UI shows a text box and an amount is
never a binary float on its way in. An optional field of the solve form is one input too (no
`str | None` toggle): its schema has no null, and left empty it is not sent (`_optional`).

**Form order is deliberate.** Each model lists its fields in `FORM_ORDER` (what to solve or
generate first, knobs next, output folders last); the schema carries that order as each
property's `position`, which the Prefect UI sorts by.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PositiveFloat,
    Tag,
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
EXAMPLE_BUDGET = "1500000.00"
"""The bundled example's budget: what a Quick run of `solve` uses."""
MAX_CSV_TEXT = 16 << 20
"""Most characters of CSV text a solve form takes (16 Mi: ~80 per project at 200,000)."""
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


def _none(value: Any) -> bool:
    """`exclude_if` of an optional field: None is left out of the dump, so the parameters a
    deployment stores (and the form shows) carry no null for a field whose schema has none."""
    return value is None


def _form_order(schema: dict[str, Any], model: type) -> None:
    """Order the schema's properties by the model's `FORM_ORDER` and number them (`position`)."""
    props = schema.get("properties", {})
    for prop in props.values():  # an optional field with one input (`_optional`): no null
        if prop.get("default", 0) is None and "anyOf" not in prop and prop.get("type"):
            del prop["default"]
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
        description="Solver tasks to split the work into; empty: up to 16 per worker (at "
                    "least 4; finer batches balance better), or, with a runtime model, 1 to 16 "
                    "per worker weighing BATCH_OVERHEAD_SECONDS per task against balance.",
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


def _optional(schema: dict[str, Any]) -> Any:
    """An optional field shown as one input (no `str | None` toggle): the JSON schema is
    `schema` alone and the field is left out of `required`; left empty, the UI sends nothing
    and the default (None) applies. Python callers may still pass None."""
    return WithJsonSchema(schema)


class InlineProject(BaseModel):
    """One inline project: its cost (the money rule), and optionally a name and metadata."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Project",
                              json_schema_extra=_form_order)

    cost: FlowMoney
    name: Annotated[str | None, _optional({"type": "string", "maxLength": 200})] = Field(
        None, max_length=200, description="The project's name.", exclude_if=_none)
    metadata: Annotated[dict[str, Any] | None, _optional({"type": "object"})] = Field(
        None, description="Anything else, as JSON.", exclude_if=_none)


_MONEY_SCHEMA = {"type": "string", "pattern": MONEY_PATTERN, "examples": ["1500000.00"]}


def _variant_form(schema: dict[str, Any], model: type) -> None:
    """A source variant's schema: its fields in order, and `kind` accepted (`const`) but no
    form field (`patternProperties`), so the UI tells the variants apart by their own field."""
    kind = schema["properties"].pop("kind")
    schema["patternProperties"] = {"^kind$": {"const": kind["const"], "type": "string"}}
    if "required" in schema:
        schema["required"] = [k for k in schema["required"] if k != "kind"]
    _form_order(schema, model)


class _Source(BaseModel):
    """A source of projects: `kind` tells the variants apart (Python and API callers may give
    it; the form need not: each variant has its own required field, see `_source_schema`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_variant_form)
    FORM_ORDER: ClassVar[tuple[str, ...]] = ()
    KEY: ClassVar[str] = ""
    """The field only this variant has (required): what tells it apart without `kind`."""


class ExampleSource(_Source):
    """The bundled example portfolio (`config.EXAMPLE_PORTFOLIO`); its budget is
    EXAMPLE_BUDGET (1500000.00) unless another is given."""

    model_config = ConfigDict(title="Bundled example")
    KEY = "example"

    kind: Literal["example"] = "example"
    example: Literal["portfolio"] = Field(
        "portfolio", description="Which bundled example (budget 1500000.00 unless another is "
                                 "given below).")


class FileSource(_Source):
    """A CSV, JSON or Parquet file inside the input folders."""

    model_config = ConfigDict(title="File")
    KEY = "path"

    kind: Literal["file"] = "file"
    path: str = Field(
        min_length=1, max_length=4096,
        description="A CSV, JSON or Parquet file of projects inside the input folders "
                    "(INPUT_DIRS of the serving process; by default <DATA_DIR>/inputs and the "
                    "bundled examples); a relative path is taken inside them.")


class CsvSource(_Source):
    """Projects pasted as CSV text, read like a CSV file."""

    model_config = ConfigDict(title="CSV text")
    KEY = "text"

    kind: Literal["csv"] = "csv"
    text: str = Field(
        min_length=1, max_length=MAX_CSV_TEXT,
        description="CSV with a header line `name,cost` (other columns are kept as metadata), "
                    "then one project per line, e.g. `A,1200.50`; costs are digits with at "
                    "most two decimals. Needs a budget below.")


class DatasetSource(_Source):
    """A stored dataset (project set), by id."""

    model_config = ConfigDict(title="Stored dataset")
    KEY = "dataset_id"

    kind: Literal["dataset"] = "dataset"
    dataset_id: int = Field(ge=1, description="A stored dataset (project set) id.")


class ProjectsSource(_Source):
    """Projects typed in one by one: a cost each, optionally a name and metadata."""

    model_config = ConfigDict(title="Projects")
    KEY = "projects"

    kind: Literal["projects"] = "projects"
    projects: list[InlineProject] = Field(
        min_length=1, max_length=200_000,
        description="The projects: a cost each (e.g. 1200.50), optionally a name and "
                    "metadata. Needs a budget below.")

    @field_validator("projects", mode="before")
    @classmethod
    def _bare_costs(cls, projects: Any) -> Any:
        """A bare amount (Python callers, `[3, 5, "1.50"]`) is a project with that cost."""
        if isinstance(projects, list | tuple):
            return [p if isinstance(p, dict | InlineProject) else {"cost": p} for p in projects]
        return projects


SOURCES: tuple[type[_Source], ...] = (ExampleSource, FileSource, CsvSource, DatasetSource,
                                      ProjectsSource)
"""The solve form's sources, in the order of its buttons (the first is the default)."""
_KINDS = {cls.model_fields["kind"].default: cls for cls in SOURCES}
NEEDS_BUDGET = ("csv", "projects")
"""Sources that carry no budget of their own: the form requires one with them."""


def _source_kind(value: Any) -> str | None:
    """The variant of `value`: its `kind`, else the one whose own field it has, else the
    example (an empty source)."""
    if isinstance(value, _Source):
        return value.kind
    if not isinstance(value, dict):
        return None
    if "kind" in value:
        return value["kind"]
    return next((kind for kind, cls in _KINDS.items() if cls.KEY in value), "example")


Source = Annotated[
    Annotated[ExampleSource, Tag("example")] | Annotated[FileSource, Tag("file")]
    | Annotated[CsvSource, Tag("csv")] | Annotated[DatasetSource, Tag("dataset")]
    | Annotated[ProjectsSource, Tag("projects")],
    Discriminator(_source_kind, custom_error_type="source_kind",
                  custom_error_message="source.kind: must be one of "
                                       "example, file, csv, dataset, projects"),
]
"""Where a solve's projects come from: one choice, told apart by `kind` (or, without it, by
the one field each variant has)."""

_LEGACY = ("projects", "path", "dataset_id")
_LEGACY_KIND = {"projects": "projects", "path": "file", "dataset_id": "dataset"}


def _source_schema(schema: dict[str, Any], model: type) -> None:
    """The form's order, `source` as `anyOf` and a budget required where the source has none.

    The Prefect UI renders `anyOf` (not `oneOf`) as one button per variant, and finds which
    variant a value belongs to by the property names it shares with each; so `kind`, common to
    all, is no property of a variant (the variants' `patternProperties` accept it) and each
    variant has its own required field. An `if`/`then` chain on that field validates the value
    against its own variant too, so the server's message names what is wrong (`'budget' is a
    required property`, `'dataset_id' was unexpected`) instead of "not valid under any of the
    given schemas"; the UI ignores `if`."""
    _form_order(schema, model)
    source = schema["properties"]["source"]
    refs = source.pop("oneOf", None) or source.pop("anyOf")  # the union's order: SOURCES'
    source.pop("discriminator", None)
    source["anyOf"] = refs
    chain: dict[str, Any] = dict(refs[0])
    for cls, ref in reversed(list(zip(SOURCES, refs, strict=True))[1:]):
        chain = {"if": _is(cls), "then": dict(ref), "else": chain}
    source.update(chain)
    schema["if"] = {"required": ["source"], "properties": {"source": {
        "anyOf": [_is(_KINDS[k]) for k in NEEDS_BUDGET]}}}
    schema["then"] = {"required": ["budget"]}


def _is(cls: type[_Source]) -> dict[str, Any]:
    """JSON schema: a source value of variant `cls` (its `kind`, or without one its field)."""
    kind = cls.model_fields["kind"].default
    return {"anyOf": [{"required": ["kind"], "properties": {"kind": {"const": kind}}},
                      {"not": {"required": ["kind"]}, "required": [cls.KEY]}]}


class SolveParams(_Params):
    """One instance: the bundled example, a file, CSV text, a stored dataset or projects
    typed in; its budget; then the algorithm and its time limit."""

    model_config = ConfigDict(json_schema_extra=_source_schema)
    FORM_ORDER = ("source", "budget", "algorithm", "time_limit", "model_version")

    source: Source = Field(
        ExampleSource(),
        description="Where the projects come from: pick one. The default, the bundled "
                    "example, solves as is.")
    budget: Annotated[FlowMoney | None, _optional(_MONEY_SCHEMA)] = Field(
        None, exclude_if=_none,
        description="The budget, digits with at most two decimals, e.g. 1500000.00. Required "
                    "with CSV text or projects; empty: the source's own (the example's "
                    f"{EXAMPLE_BUDGET}, a JSON file's, the dataset's first).")
    algorithm: Algorithm = Field("auto", description="Algorithm (default: auto).")
    time_limit: PositiveFloat = Field(10.0, le=3600, description="Seconds for the solve (> 0).")
    model_version: Annotated[int | None, _optional({"type": "integer", "minimum": 1})] = Field(
        None, ge=1, exclude_if=_none,
        description="Selector model version `auto` uses; empty: the champion model, or the "
                    "rules when there is none.",
    )

    @model_validator(mode="before")
    @classmethod
    def _legacy_fields(cls, data: Any) -> Any:
        """Python callers' old form, `projects=`, `path=` or `dataset_id=`, becomes the
        matching `source`."""
        if not isinstance(data, dict) or not (set(_LEGACY) & data.keys()):
            return data
        data = dict(data)
        given = [k for k in _LEGACY if data.get(k) is not None]
        if "source" in data:
            raise ValueError(f"source: give the source alone, not with "
                             f"{', '.join(k for k in _LEGACY if k in data)}")
        if len(given) > 1:
            raise ValueError("give exactly one of projects, path or dataset_id "
                             f"(got {', '.join(given)})")
        for key in _LEGACY:
            value = data.pop(key, None)
            if key in given:
                data["source"] = {"kind": _LEGACY_KIND[key], key: value}
        return data

    @model_validator(mode="after")
    def _budget_needed(self) -> Self:
        if self.budget is None and self.source.kind in NEEDS_BUDGET:
            raise ValueError(f"budget: required with {self.source.model_config['title']} "
                             "(the source carries none)")
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
