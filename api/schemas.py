"""Request and response bodies (pydantic): the OpenAPI schema at /docs is generated from these.

Money comes in as a JSON number or a string with at most two decimals ("1200.50") and is kept
as `Decimal` until the solver scales it to exact integers. It goes out as a JSON number: an
integer when whole, else a float rounded to cents.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from solvers import ALGORITHMS
from solvers.instances import FAMILIES

MAX_ID = 2**63 - 1  # BIGINT

Money = Annotated[
    Decimal,
    Field(ge=0, lt=Decimal(10) ** 18, decimal_places=2, allow_inf_nan=False,
          description="Non-negative amount, at most two decimals; a number or a string.",
          examples=["1200.50"]),
]
MoneyOut = int | float
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
    """A stored or computed amount as a JSON number (int when whole)."""
    if value is None:
        return None
    amount = Decimal(str(value))
    return int(amount) if amount == amount.to_integral_value() else float(amount)


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


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectIn(_In):
    name: Name | None = Field(default=None, description="Defaults to project-<index>.")
    cost: Money
    metadata: dict[str, Any] | None = Field(default=None, description="Any JSON object.")

    @field_validator("metadata")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        problem = metadata_problem(value)
        if problem:
            raise ValueError(f"metadata {problem}")
        return value

    def as_solver_input(self, index: int) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name or f"project-{index}", "cost": str(self.cost)}
        if self.metadata is not None:
            out["metadata"] = self.metadata
        return out


class SolveRequest(_In):
    projects: list[ProjectIn] = Field(min_length=1, description="At most API_MAX_PROJECTS.")
    budget: Money
    algorithm: AlgorithmName = Field(default="auto", description="`auto` lets the selector choose.")
    time_limit: TimeLimit = None
    measure_memory: bool = Field(
        default=False, description="Also measure peak memory (a second, traced pass: slower).")
    name: Name = Field(default="api request",
                       description="Name stored with the project set if it is new.")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "projects": [{"name": "A", "cost": "1200.50"}, {"name": "B", "cost": 800},
                     {"name": "C", "cost": 450.25}],
        "budget": 2000,
    }]})


class DatasetRequest(_In):
    name: Name = "dataset"
    projects: list[ProjectIn] = Field(min_length=1, description="At most API_MAX_PROJECTS.")
    budgets: list[Money] = Field(default_factory=list, max_length=100)


class DatasetSolveRequest(_In):
    budget_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                  description="One of the set's budgets…")
    budget: Money | None = Field(default=None, description="…or a new amount (stored).")
    algorithm: AlgorithmName = "auto"
    time_limit: TimeLimit = None
    measure_memory: bool = Field(
        default=False, description="Also measure peak memory (a second, traced pass: slower).")

    @model_validator(mode="after")
    def _one_budget(self) -> DatasetSolveRequest:
        if (self.budget_id is None) == (self.budget is None):
            raise ValueError("give exactly one of budget_id and budget")
        return self


class SelectedProject(BaseModel):
    index: int
    name: str
    cost: MoneyOut


class Stats(BaseModel):
    execution_time: float = Field(description="Seconds, untraced pass.")
    memory_used: float | None = Field(description="Peak MiB, separate pass.")
    memory_method: str | None = None
    n: int | None = None


class RunResult(BaseModel):
    run_id: int
    dataset_id: int
    budget_id: int
    budget: MoneyOut
    selected_indices: list[int]
    selected: list[SelectedProject]
    total_cost: MoneyOut
    status: Status
    upper_bound: MoneyOut | None
    algorithm: str = Field(description="What actually ran.")
    requested_algorithm: str | None
    selector: str | None = Field(description="Who chose the algorithm for `auto`.")
    reason: str | None
    flow_run_id: str | None = None
    created_at: datetime | None = None
    stats: Stats


class BudgetOut(BaseModel):
    id: int
    amount: MoneyOut


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
    upper_bound: MoneyOut | None
    selector: str | None
    execution_time: float
    created_at: datetime | None


class RunPage(BaseModel):
    items: list[RunSummary]
    total: int
    limit: int
    offset: int


class DatasetOut(BaseModel):
    id: int
    name: str
    family: str
    n_projects: int
    content_hash: str
    created_at: datetime | None
    projects: list[SelectedProject]
    budgets: list[BudgetOut]
    runs: RunPage


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


class Message(BaseModel):
    detail: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str
    field: str | None = None


class ValidationErrors(BaseModel):
    detail: list[FieldError]
