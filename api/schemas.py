"""Request and response bodies (pydantic): the OpenAPI schema at /docs is generated from these.

Money comes in as a JSON number (a multiple of 0.01, read by its text: `api.body` decodes every
body with `solvers.money.loads`, never through a float) or a string of digits with at most two
decimals ("1200.50"), checked by the one money rule (`solvers.money.Money.stored()`: the same
verdict as the solver and the database), and is kept as `Decimal` until the solver scales it
to exact integers.
It goes out twice: as a JSON number (an integer when whole, else a float; above 2**53 a float
cannot hold every cent) and exactly, as a decimal string in the `*_exact` field beside it
(`total_cost_exact`, `budget_exact`, `upper_bound_exact`, `cost_exact`, `amount_exact`): the
integer when whole ("1650"), else with two decimals ("12345678901234567.89").

Every rule a request must meet is in the schema (patterns, bounds, `oneOf`), except the two
that depend on the server or on another parameter, which the descriptions state:
`API_MAX_PROJECTS` projects per request, and n ≤ 40 for the `todd` family of the benchmark.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictBool,
    TypeAdapter,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema as cs

from solvers import ALGORITHMS
from solvers.instances import FAMILIES
from solvers.money import STORED_LIMIT, money_text
from solvers.money import Money as _MoneyRule

StoredMoney = _MoneyRule.stored()

MAX_ID = 2**63 - 1  # BIGINT
ID_SCHEMA: dict[str, Any] = {"maximum": MAX_ID}
"""The exact integer bound (pydantic would write it as a float, 9.223372036854776e18)."""
_SIGNIFICANT = len(str(STORED_LIMIT)) - 1  # 18: amounts are below 10**18


def _money_schema() -> dict[str, Any]:
    """`Money.stored()`'s own schema (a number below 10**18 in steps of 0.01, or a string
    matching `solvers.money.MONEY_PATTERN`), with the string's bound stated too: no more than
    18 significant digits before the point (JSON Schema cannot compare a string's value)."""
    schema = TypeAdapter(StoredMoney).json_schema()
    for branch in schema["anyOf"]:
        if branch.get("type") == "string":
            branch["not"] = {"pattern": f"^0*[1-9][0-9]{{{_SIGNIFICANT}}}"}
    return schema


MONEY_SCHEMA: dict[str, Any] = _money_schema()
Money = Annotated[StoredMoney, WithJsonSchema(MONEY_SCHEMA, mode="validation")]
"""The one money rule (`solvers.money.parse_money`, below the database's 10**18): a JSON number
(read by its text, see `api.body`) or a string of digits with at most two decimals; the value
is a `Decimal`."""
MoneyOut = int | float
MoneyExact = Annotated[str, Field(
    pattern=r"^[0-9]+(\.[0-9]{2})?$",
    description="The exact amount as a decimal string: the integer when whole, else with two "
                "decimals (\"12345678901234567.89\"). Use it where every cent matters: the "
                "number beside it is a float.")]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL characters
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
AlgorithmName = Literal[tuple(ALGORITHMS)]  # type: ignore[valid-type]
Family = Literal[tuple(FAMILIES)]  # type: ignore[valid-type]
Status = Literal["exact", "approximate", "failed"]
TimeLimit = Annotated[
    float | None,
    Field(gt=0, le=3600, description="Seconds; capped by the server (API_MAX_TIME_LIMIT)."),
]


def money_out(value: Any) -> MoneyOut | None:
    """A stored or computed amount as a JSON number (int when whole; a float cannot hold every
    cent above 2**53: the `*_exact` text beside it does)."""
    text = money_text(value)
    if text is None:
        return None
    return float(text) if "." in text else int(text)


def money_exact(value: Any) -> str | None:
    """An amount as its exact text (`solvers.money.money_text`): "1650", or "1650.75"."""
    return money_text(value)


METADATA_MAX_DEPTH = 32
"""Deepest nesting of objects/arrays accepted in a project's `metadata` (the object itself is 1)."""
METADATA_MAX_ITEMS = 10_000
"""Most keys, values and array elements accepted in one project's `metadata`, all levels."""
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads turns escaped pairs into one char


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain NUL characters (\\u0000)"
    if _LONE_SURROGATE.search(text):
        return "must not contain lone UTF-16 surrogates (\\ud800-\\udfff without a pair)"
    return None


def metadata_problem(value: Any) -> str | None:
    """Why this JSON document cannot be stored as metadata, or None. Iterative: no recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    items = 0
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            problem = _text_problem(node)
            if problem:
                return problem
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > METADATA_MAX_DEPTH:
            return f"is nested too deep (more than {METADATA_MAX_DEPTH} levels of objects/arrays)"
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        items += len(children)
        if items > METADATA_MAX_ITEMS:
            return f"has too many entries (more than {METADATA_MAX_ITEMS} keys and values)"
        stack.extend((child, depth + 1) for child in children)
    return None


def plain_numbers(value: Any) -> Any:
    """Metadata with its fractional numbers (`Decimal`s from `solvers.money.loads`) as the floats
    JSON storage takes; called after `metadata_problem` passed, so the depth is bounded."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: plain_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_numbers(item) for item in value]
    return value


METADATA_REF = "#/components/schemas/Metadata"
METADATA_COMPONENTS: dict[str, Any] = {
    "Metadata": {
        "type": "object",
        "propertyNames": {"pattern": NO_NUL},
        "additionalProperties": {"$ref": "#/components/schemas/MetadataValue"},
        "description": f"Any JSON object with no NUL character (\\u0000) or lone UTF-16 "
                       f"surrogate in its keys and strings, at most {METADATA_MAX_DEPTH} levels "
                       f"of objects/arrays and {METADATA_MAX_ITEMS} keys and values in all.",
    },
    "MetadataValue": {"anyOf": [
        {"type": "string", "pattern": NO_NUL}, {"type": "number"}, {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": {"$ref": "#/components/schemas/MetadataValue"}},
        {"$ref": METADATA_REF},
    ]},
}
"""Recursive, so they live in the OpenAPI components (api.app adds them); `metadata` refers."""


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectIn(_In):
    name: Name | None = Field(default=None, description="Defaults to project-<index>.")
    cost: Money
    metadata: Annotated[dict[str, Any] | None, WithJsonSchema(
        {"anyOf": [{"$ref": METADATA_REF}, {"type": "null"}]}, mode="validation")] = Field(
        default=None, description="Any JSON object (see Metadata for its limits).")

    @field_validator("metadata")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        problem = metadata_problem(value)
        if problem:
            raise ValueError(f"metadata {problem}")
        return plain_numbers(value)

    def as_solver_input(self, index: int) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name or f"project-{index}",
                               "cost": money_text(self.cost)}
        if self.metadata is not None:
            out["metadata"] = self.metadata
        return out


def _bare_cost(value: Any) -> Any:
    """A bare amount (`3`, `"12.50"`), as the CLI and `solvers.solve` take it, is a project
    with that cost and the default name."""
    if isinstance(value, int | float | str | Decimal) and not isinstance(value, bool):
        return {"cost": value}
    return value


class _ProjectOrAmount:
    """JSON schema of a project item: a project object, or a bare amount (its cost)."""

    def __get_pydantic_json_schema__(self, schema: cs.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"anyOf": [handler(schema), MONEY_SCHEMA]}


ProjectItem = Annotated[ProjectIn, BeforeValidator(_bare_cost), _ProjectOrAmount()]
PROJECTS_DESCRIPTION = ("Projects: objects with a `cost`, or bare amounts (`[1200.50, 800]`, "
                        "named project-<index>). At most API_MAX_PROJECTS per request (this "
                        "server's value is `maxItems`; over it: 422 naming `projects`).")
Projects = Annotated[list[ProjectItem], Field(min_length=1, description=PROJECTS_DESCRIPTION)]
MeasureMemory = Annotated[StrictBool, Field(
    description="Also measure peak memory (a second, traced pass: slower). JSON true/false "
                "only (0 and 1 are refused).")]


class SolveRequest(_In):
    projects: Projects
    budget: Money
    algorithm: AlgorithmName = Field(default="auto", description="`auto` lets the selector choose.")
    time_limit: TimeLimit = None
    measure_memory: MeasureMemory = False
    name: Name = Field(default="api request",
                       description="Name stored with the project set if it is new.")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "projects": [{"name": "A", "cost": "1200.50"}, {"name": "B", "cost": 800},
                     {"name": "C", "cost": 450.25}],
        "budget": 2000,
    }, {"projects": [1200.5, 800, 450.25], "budget": 2000}]})


class DatasetRequest(_In):
    name: Name = "dataset"
    projects: Projects
    budgets: list[Money] = Field(default_factory=list, max_length=100)


def _one_budget_schema(schema: dict[str, Any]) -> None:
    """State "exactly one of budget_id and budget (non-null)" in the JSON schema itself."""
    schema["oneOf"] = [
        {"required": [key], "properties": {key: {"not": {"type": "null"}}}}
        for key in ("budget_id", "budget")
    ]
    schema["description"] = "Give exactly one of `budget_id` and `budget` (null counts as absent)."


def _json_integer(value: Any) -> Any:
    """JSON Schema's integer: a number with no fraction (1 or 1.0), never true or "1"."""
    if isinstance(value, bool | str):
        raise ValueError(f"Input should be a JSON integer, got {value!r}")
    return value


BudgetId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_json_integer),
                     WithJsonSchema({"type": "integer", "minimum": 1, **ID_SCHEMA})]


class DatasetSolveRequest(_In):
    budget_id: BudgetId | None = Field(default=None, description="One of the set's budgets…")
    budget: Money | None = Field(default=None, description="…or a new amount (stored).")
    algorithm: AlgorithmName = "auto"
    time_limit: TimeLimit = None
    measure_memory: MeasureMemory = False

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_budget_schema)

    @model_validator(mode="after")
    def _one_budget(self) -> DatasetSolveRequest:
        if (self.budget_id is None) == (self.budget is None):
            raise ValueError("give exactly one of budget_id and budget")
        return self


class SelectedProject(BaseModel):
    """A project as every response shows it (chosen ones, a set's projects): its position in
    the set, name, cost and the metadata sent with it (`{}` when none), as the CLI's `--json`
    `selected_projects` items."""

    index: int
    name: str
    cost: MoneyOut
    cost_exact: MoneyExact
    metadata: dict[str, Any] = Field(default_factory=dict,
                                     description="The metadata sent with the project ({}: none).")


NEXT_DESCRIPTION = "The URL of the next page (same filters), or null on the last page."


class ProjectPage(BaseModel):
    items: list[SelectedProject]
    total: int = Field(description="Projects in the set.")
    limit: int
    offset: int
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)


class Stats(BaseModel):
    execution_time: float = Field(description="Seconds, untraced pass.")
    memory_used: float | None = Field(description="Peak MiB, separate pass; null: not measured.")
    memory_method: str | None = Field(
        default=None, description="\"none\" (not measured), \"tracemalloc\" or \"rss\"; "
                                  "null on a stored run whose method was not recorded.")
    n: int | None = Field(default=None, description="Projects in the instance.")


class Forecast(BaseModel):
    predicted_seconds: float = Field(description="Predicted CPU seconds (capped at the limit).")
    time_limit: float | None = Field(description="The limit the solve got (null: none).")
    expected_proven: bool = Field(description="Expected to be proven optimal within the limit "
                                              "(true only when `proven_answer` is yes).")
    proven_answer: Literal["yes", "no", "unsure"] | None = Field(
        default=None, description="yes, no, or unsure (too close to the limit, or an instance "
                                  "unlike those the runtime model was trained on).")
    seen: bool | None = Field(default=None, description="Whether the instance lies inside the "
                              "runtime model's trust region (null: a model without one).")
    predicted_algorithm: str = Field(description="What was expected to run (auto's choice).")
    runtime_model: str = Field(description="The runtime model, e.g. `model:runtime@v3`.")
    runtime_model_version: int | None = None
    basis: str = Field(description="Which rule decided `expected_proven`.")


class RunResult(BaseModel):
    run_id: int
    dataset_id: int
    budget_id: int
    budget: MoneyOut
    budget_exact: MoneyExact
    selected_indices: list[int]
    selected_projects: list[SelectedProject] = Field(
        description="The chosen projects (name, cost, metadata), as in `budget solve --json`.")
    total_cost: MoneyOut
    total_cost_exact: MoneyExact
    status: Status
    upper_bound: MoneyOut | None
    upper_bound_exact: MoneyExact | None
    algorithm: str = Field(description="What actually ran.")
    requested_algorithm: str | None
    selector: str | None = Field(description="Who chose the algorithm for `auto`.")
    reason: str | None
    flow_run_id: str | None = None
    created_at: datetime | None = None
    stats: Stats
    forecast: Forecast | None = Field(
        default=None, description="The runtime model's forecast for this solve; null without "
                                  "a registered runtime model (see `forecast_note`) and on "
                                  "stored runs (GET /results).")
    forecast_note: str | None = Field(default=None,
                                      description="Why there is no forecast, else null.")


class BudgetOut(BaseModel):
    id: int
    amount: MoneyOut
    amount_exact: MoneyExact


class DatasetCreated(BaseModel):
    id: int
    created: bool
    name: str
    n_projects: int
    content_hash: str
    budgets: list[BudgetOut]


class RunSummary(BaseModel):
    run_id: int
    budget_id: int
    algorithm: str
    requested_algorithm: str | None
    status: Status
    total_cost: MoneyOut
    total_cost_exact: MoneyExact
    upper_bound: MoneyOut | None
    upper_bound_exact: MoneyExact | None
    selector: str | None
    execution_time: float
    created_at: datetime | None


class RunPage(BaseModel):
    items: list[RunSummary]
    total: int
    limit: int
    offset: int
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)


class DatasetOut(BaseModel):
    id: int
    name: str
    family: str
    n_projects: int
    content_hash: str
    created_at: datetime | None
    projects: ProjectPage = Field(description="One page of the projects, in position order "
                                              "(`projects_limit`, `projects_offset`).")
    budgets: list[BudgetOut]
    runs: RunPage


class DatasetSummary(BaseModel):
    id: int
    name: str
    family: str
    n_projects: int
    content_hash: str
    created_at: datetime | None


class DatasetList(BaseModel):
    items: list[DatasetSummary]
    total: int = Field(description="Sets that match the filters.")
    limit: int
    offset: int
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)


class ResultSummary(BaseModel):
    """A recorded run without its chosen projects' details (GET /results/{run_id}/ has them)."""

    run_id: int
    dataset_id: int
    budget_id: int
    budget: MoneyOut
    budget_exact: MoneyExact
    selected_indices: list[int]
    total_cost: MoneyOut
    total_cost_exact: MoneyExact
    status: Status
    upper_bound: MoneyOut | None
    upper_bound_exact: MoneyExact | None
    algorithm: str
    requested_algorithm: str | None
    selector: str | None
    reason: str | None
    execution_time: float
    created_at: datetime | None


class ResultList(BaseModel):
    items: list[ResultSummary]
    total: int = Field(description="Runs that match the filters.")
    limit: int
    offset: int
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)


class AlgorithmFigures(BaseModel):
    algorithm: str
    runs: int
    exact: int
    approximate: int
    failed: int
    mean_time: float
    max_time: float
    mean_gap: float = Field(description="Mean (best total - this total) / budget, 0 = always best.")


class BenchmarkOut(BaseModel):
    family: str
    n: int
    instances: int
    seed: int
    time_limit: float
    results: list[AlgorithmFigures]


class BackgroundRun(BaseModel):
    flow_run_id: str
    deployment: str


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: dict[str, Any]
    model: dict[str, Any]


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: `[\"body\", \"projects\", 3, \"cost\"]`.")
    field: str | None = Field(default=None, description="The same path as text: "
                                                        "`projects[3].cost`.")
    msg: str = Field(description="What is wrong with it (and the value, for money).")
    type: str = Field(description="A machine-readable kind, e.g. `decimal_max_places`.")


PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (`application/problem+json`), for every status.

    `detail` is always a string; bad input (422) lists each field's problem in `errors`."""

    type: str = Field(default="about:blank", description="The problem type (a URI); "
                      "`about:blank`: the status code says it all.")
    title: str = Field(description="The status code's phrase, e.g. `Not Found`.")
    status: int = Field(ge=400, le=599, description="The HTTP status code.")
    detail: str = Field(description="What happened, for a human.")
    instance: str | None = Field(default=None, description="The path that was requested.")
    errors: list[FieldError] | None = Field(
        default=None, description="422 only: one entry per bad field (path and reason).")


def problems(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each a `Problem` (`api.app` documents
    them as `application/problem+json`, and adds the 500 every operation may answer)."""
    return {status: {"model": Problem, "description": text}
            for status, text in descriptions.items()}
