"""ORM models: datasets, budgets, algorithm runs, analytics snapshots, model registry, alerts,
API keys.

Money columns (`Project.cost`, `Budget.amount`, `AlgorithmRun.total_cost`, `upper_bound`) are
NUMERIC(20, 2): integer costs and costs with cents are both exact and come back as `Decimal`.
On SQLite, NUMERIC has REAL affinity, so values stay exact up to about 10**13 with cents.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import NAME_LENGTH, Base, BigId, IntList, JSONDoc, Money

MATCH_TYPES = ("exact", "approximate", "failed")
RUN_KINDS = ("benchmark", "remeasure", "user", "replay", "training")
"""What recorded a run: a benchmark plan's pair, a deliberate re-measurement (`--remeasure`), a
user's solve (API, solve flow), a replay of a user instance, the selector's training history."""
UNIQUE_RUN_KINDS = ("benchmark", "replay")
BENCHMARK_RUN_KINDS = ("benchmark", "remeasure")
"""What a benchmark plan counts as its own runs (never a user solve, a replay or training)."""
"""Kinds recorded at most once per pair (budget, requested algorithm): the database enforces it
with the partial unique index `uq_algorithm_runs_pair`; the others may repeat a pair."""
SIZE_BUCKETS = ("small", "medium", "large", "xlarge")
ALERT_SEVERITIES = ("info", "warning", "error", "critical")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


PAIR_UNIQUE_WHERE = _in("kind", UNIQUE_RUN_KINDS)
"""The partial index's predicate (also the ON CONFLICT target's WHERE)."""
PAIR_COLUMNS = ("kind", "budget_id", "requested_algorithm")
"""The partial unique index's columns: a pair, per kind."""


class ProjectSet(Base):
    """One dataset of projects; the same content is never stored twice (`content_hash`).

    `owner_id` is the API key owner who stored it (`db.keys`); sets stored by the CLI, the
    flows and benchmarks, and every set stored before keys existed, have none and only an admin
    key sees them. An owned set's `content_hash` is scoped by its owner
    (`db.datasets.owned_hash`), so two owners sending the same projects get a set each and
    neither learns the other's exists.
    """

    __tablename__ = "project_sets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    owner_id: Mapped[str | None] = mapped_column(String(100), index=True)
    family: Mapped[str] = mapped_column(String(50), default="custom", server_default="custom")
    n_projects: Mapped[int] = mapped_column(Integer)
    generator_params: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)

    projects: Mapped[list[Project]] = relationship(
        back_populates="project_set", order_by="Project.position", cascade="all, delete-orphan"
    )
    budgets: Mapped[list[Budget]] = relationship(
        back_populates="project_set", order_by="Budget.id", cascade="all, delete-orphan"
    )


class Project(Base):
    """One project of a set; `position` is its index, the number solvers report."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("project_set_id", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_set_id: Mapped[int] = mapped_column(
        ForeignKey("project_sets.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    cost: Mapped[Decimal] = mapped_column(Money)
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONDoc)

    project_set: Mapped[ProjectSet] = relationship(back_populates="projects")


class Budget(Base):
    """A budget the set is solved against."""

    __tablename__ = "budgets"
    __table_args__ = (UniqueConstraint("project_set_id", "amount"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_set_id: Mapped[int] = mapped_column(
        ForeignKey("project_sets.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money)

    project_set: Mapped[ProjectSet] = relationship(back_populates="budgets")


class AlgorithmRun(Base):
    """One solver result for (set, budget): what ran, what it chose, how long, how good.

    `kind` says what recorded it (`RUN_KINDS`); a benchmark's (or replay's) pair is recorded
    once, whoever else records it at the same time (`uq_algorithm_runs_pair`).
    """

    __tablename__ = "algorithm_runs"
    __table_args__ = (
        CheckConstraint(_in("match_type", MATCH_TYPES), name="match_type"),
        CheckConstraint(_in("kind", RUN_KINDS), name="kind"),
        CheckConstraint(f"NOT ({PAIR_UNIQUE_WHERE}) OR requested_algorithm IS NOT NULL",
                        name="pair_requested"),
        Index("uq_algorithm_runs_pair", *PAIR_COLUMNS, unique=True,
              postgresql_where=text(PAIR_UNIQUE_WHERE), sqlite_where=text(PAIR_UNIQUE_WHERE)),
        Index("ix_algorithm_runs_project_set_id", "project_set_id"),
        Index("ix_algorithm_runs_budget_id", "budget_id"),
        Index("ix_algorithm_runs_algorithm_created", "algorithm_name", "created_at"),
        Index("ix_algorithm_runs_flow_run_id", "flow_run_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_set_id: Mapped[int] = mapped_column(ForeignKey("project_sets.id", ondelete="CASCADE"))
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"))
    algorithm_name: Mapped[str] = mapped_column(String(64))
    requested_algorithm: Mapped[str | None] = mapped_column(String(64))
    selected_projects: Mapped[list[int]] = mapped_column(IntList)
    total_cost: Mapped[Decimal] = mapped_column(Money)
    execution_time: Mapped[float] = mapped_column(Float)
    memory_used: Mapped[float | None] = mapped_column(Float)
    memory_method: Mapped[str | None] = mapped_column(String(16))  # tracemalloc | rss | none
    match_type: Mapped[str] = mapped_column(String(16))
    upper_bound: Mapped[Decimal | None] = mapped_column(Money)
    reason: Mapped[str | None] = mapped_column(Text)
    selector: Mapped[str | None] = mapped_column(String(64))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    kind: Mapped[str] = mapped_column(String(16), default="user", server_default="user")

    def to_dict(self) -> dict[str, Any]:
        """The run as plain data, in the solver result's vocabulary plus the row's ids."""
        return {
            "id": self.id,
            "project_set_id": self.project_set_id,
            "budget_id": self.budget_id,
            "selected_indices": list(self.selected_projects),
            "total_cost": self.total_cost,
            "execution_time": self.execution_time,
            "memory_used": self.memory_used,
            "memory_method": self.memory_method,
            "status": self.match_type,
            "algorithm": self.algorithm_name,
            "requested_algorithm": self.requested_algorithm,
            "upper_bound": self.upper_bound,
            "reason": self.reason,
            "selector": self.selector,
            "flow_run_id": self.flow_run_id,
            "created_at": self.created_at,
            "kind": self.kind,
        }


class AnalyticsSnapshot(Base):
    """Aggregates per algorithm × size bucket × family, taken at `snapshot_at`."""

    __tablename__ = "analytics_snapshots"
    __table_args__ = (
        UniqueConstraint(
            "snapshot_at",
            "algorithm_name",
            "size_bucket",
            "family",
            name="uq_analytics_snapshots_key",
        ),
        CheckConstraint(_in("size_bucket", SIZE_BUCKETS), name="size_bucket"),
        Index("ix_analytics_snapshots_snapshot_at", "snapshot_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    snapshot_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    algorithm_name: Mapped[str] = mapped_column(String(64))
    size_bucket: Mapped[str] = mapped_column(String(16))
    family: Mapped[str] = mapped_column(String(50))
    run_count: Mapped[int] = mapped_column(Integer)
    exact_rate: Mapped[float] = mapped_column(Float)
    time_mean: Mapped[float] = mapped_column(Float)
    time_p50: Mapped[float] = mapped_column(Float)
    time_p95: Mapped[float] = mapped_column(Float)
    memory_mean: Mapped[float | None] = mapped_column(Float)
    memory_max: Mapped[float | None] = mapped_column(Float)
    accuracy_mean: Mapped[float | None] = mapped_column(Float)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))


class ModelVersion(Base):
    """A trained selector model; `version` counts up per `name`."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    feature_names: Mapped[list[str] | None] = mapped_column(JSONDoc)
    class_order: Mapped[list[str] | None] = mapped_column(JSONDoc)
    library_versions: Mapped[dict[str, str] | None] = mapped_column(JSONDoc)
    training_window_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    training_window_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ModelAlias(Base):
    """A movable name for one version of a model, e.g. `champion` → version 3."""

    __tablename__ = "model_aliases"
    __table_args__ = (UniqueConstraint("model_name", "alias"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(100))
    alias: Mapped[str] = mapped_column(String(50))
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    model_version: Mapped[ModelVersion] = relationship()


class Alert(Base):
    """Something an operator should see: drift, a failing selector, a slow algorithm."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(_in("severity", ALERT_SEVERITIES), name="severity"),
        Index("ix_alerts_kind_created", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiKey(Base):
    """An API key of one owner: only its SHA-256 (`key_hash`) is stored, never the key.

    `prefix` is the key's first characters, shown by `budget keys list` to tell keys apart;
    an `admin` key may start benchmarks and sees every owner's data. A revoked key
    (`revoked_at` set) authenticates nothing.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
