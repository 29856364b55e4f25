"""Stream runs out as self-describing Arrow record batches; the table never sits in memory whole.

Each row carries what a reader needs without joining anything: the set's `family` and `n`, the
budget amount, the run's `status` (the name the CLI and the API use; the column is
`match_type` in the database) and the money both ways:

    total_cost, upper_bound, budget         float64 (pandas gets a number, not an object)
    total_cost_exact, upper_bound_exact, budget_exact   the exact amount as text (money_text:
                                                        "1650", "1650.75")

float64 is exact up to 2**53 (about 9·10**15 with cents as integers, 9·10**13 as money); beyond
that use the `*_exact` columns (`Decimal(row.total_cost_exact)`).

The query runs with `yield_per` (a server-side cursor on PostgreSQL), and each partition of
`batch_size` rows becomes one `pyarrow.RecordBatch` with the fixed `RUN_SCHEMA`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import URL, Date, Float, Select, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.models import AlgorithmRun, Budget, ProjectSet
from solvers.money import money_text  # the one money format (tests/test_layering.py: allowed)

RUN_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("project_set_id", pa.int64()),
        ("budget_id", pa.int64()),
        ("family", pa.string()),
        ("n", pa.int32()),
        ("budget", pa.float64()),
        ("budget_exact", pa.string()),
        ("algorithm_name", pa.string()),
        ("requested_algorithm", pa.string()),
        ("status", pa.string()),
        ("selected_projects", pa.list_(pa.int32())),
        ("total_cost", pa.float64()),
        ("total_cost_exact", pa.string()),
        ("upper_bound", pa.float64()),
        ("upper_bound_exact", pa.string()),
        ("execution_time", pa.float64()),
        ("memory_used", pa.float64()),
        ("reason", pa.string()),
        ("selector", pa.string()),
        ("flow_run_id", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)
_MONEY = ("budget", "total_cost", "upper_bound")


def _query() -> Select:
    runs, sets, budgets = AlgorithmRun.__table__, ProjectSet.__table__, Budget.__table__
    return (
        select(runs.c.id, runs.c.project_set_id, runs.c.budget_id, sets.c.family,
               sets.c.n_projects.label("n"), budgets.c.amount.label("budget"),
               runs.c.algorithm_name, runs.c.requested_algorithm,
               runs.c.match_type.label("status"), runs.c.selected_projects, runs.c.total_cost,
               runs.c.upper_bound, runs.c.execution_time, runs.c.memory_used, runs.c.reason,
               runs.c.selector, runs.c.flow_run_id, runs.c.created_at)
        .join(sets, sets.c.id == runs.c.project_set_id)
        .join(budgets, budgets.c.id == runs.c.budget_id)
        .order_by(runs.c.id)
    )


def _exact(value: Any) -> str | None:
    """The stored amount as its exact text, by the one rule (`money_text`: "1650", "1650.75")."""
    if value is None:
        return None
    if not isinstance(value, int | Decimal):  # a driver handing back a float: its stored cents
        value = Decimal(str(value)).quantize(Decimal("0.01"))
    return money_text(value)


def _batch(rows: list[Any], keys: list[str]) -> pa.RecordBatch:
    columns: dict[str, Any] = dict(zip(keys, zip(*rows, strict=True), strict=True))
    for name in _MONEY:
        values = columns[name]
        columns[name] = [None if v is None else float(v) for v in values]
        columns[f"{name}_exact"] = [_exact(v) for v in values]
    return pa.RecordBatch.from_arrays(
        [pa.array(columns[f.name], type=f.type) for f in RUN_SCHEMA], schema=RUN_SCHEMA)


def iter_run_batches(
    *,
    session: Session,
    batch_size: int = 50_000,
    project_set_id: int | None = None,
    since: datetime | None = None,
    where: ColumnElement[bool] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Yield runs (optionally of one set, created at/after `since`, or matching `where`, a
    condition on `algorithm_runs` columns) in id order, as `RUN_SCHEMA` batches."""
    runs = AlgorithmRun.__table__
    stmt = _query()
    if project_set_id is not None:
        stmt = stmt.where(runs.c.project_set_id == project_set_id)
    if since is not None:
        stmt = stmt.where(runs.c.created_at >= since)
    if where is not None:
        stmt = stmt.where(where)
    result = session.execute(stmt, execution_options={"yield_per": batch_size})
    keys = list(result.keys())
    try:
        for rows in result.partitions():
            yield _batch(list(rows), keys)
    finally:
        result.close()


def export_runs_parquet(
    *, session: Session, path: str | Path, batch_size: int = 50_000, **filters: object
) -> int:
    """Write runs to a Parquet file batch by batch; returns the number of rows written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with pq.ParquetWriter(path, RUN_SCHEMA) as writer:
        for batch in iter_run_batches(session=session, batch_size=batch_size, **filters):  # type: ignore[arg-type]
            writer.write_batch(batch)
            written += batch.num_rows
    return written


# --------------------------------------------------------------------------------------------
# The analyst's dataset: exact money, both algorithm names, per-run accuracy, units, lineage.
# --------------------------------------------------------------------------------------------

MONEY_TYPE = pa.decimal128(20, 2)
USER_KINDS = ("benchmark", "remeasure", "user")
"""Runs an analyst reads by default (the `runs` dataset): measurements and users' solves."""
INTERNAL_KINDS = ("replay", "training")
"""Runs recorded for the selector (the `training_runs` dataset): never mixed with the above."""
ACCURACY_MEANING = (
    "total_cost / best_total, where best_total is the highest total among the non-failed runs "
    "of the same set and budget (the proven optimum whenever a run of that pair is exact); "
    "1.0 when best_total is 0; null for failed runs. Same definition as the snapshots' "
    "accuracy_mean.")


def _field(name: str, type_: pa.DataType, meaning: str, unit: str | None = None) -> pa.Field:
    meta = {"description": meaning}
    if unit:
        meta["unit"] = unit
    return pa.field(name, type_, metadata=meta)


EXPORT_FIELDS = [
    _field("id", pa.int64(), "run id in the source database (unique per `source` only)"),
    _field("kind", pa.string(), "what recorded the run: benchmark, remeasure, user (runs); "
           "replay, training (training_runs)"),
    _field("project_set_id", pa.int64(), "dataset id in the source database"),
    _field("budget_id", pa.int64(), "budget id in the source database"),
    _field("family", pa.string(), "generator family of the dataset (custom for user data)"),
    _field("n", pa.int32(), "number of projects in the dataset", "projects"),
    _field("budget", MONEY_TYPE, "the budget amount, exact", "money"),
    _field("ran_algorithm", pa.string(), "the solver that actually ran (auto and hybrid "
           "dispatch to one); the partition key is the requested algorithm"),
    _field("status", pa.string(), "exact (proven optimal), approximate or failed"),
    _field("selected_projects", pa.list_(pa.int32()), "positions of the chosen projects"),
    _field("total_cost", MONEY_TYPE, "sum of the chosen projects' costs, exact", "money"),
    _field("upper_bound", MONEY_TYPE, "proven upper bound on the optimum, exact", "money"),
    _field("best_total", MONEY_TYPE, "highest total among non-failed runs of the same set "
           "and budget", "money"),
    _field("accuracy", pa.float64(), ACCURACY_MEANING, "ratio"),
    _field("execution_time", pa.float64(), "wall time of the solve", "seconds"),
    _field("memory_used", pa.float64(), "peak memory of the solve (see memory_method)", "MiB"),
    _field("memory_method", pa.string(), "how memory was measured: tracemalloc, rss or none"),
    _field("reason", pa.string(), "why the solver chose its method, or why it failed"),
    _field("selector", pa.string(), "the model that picked the algorithm for auto, if any"),
    _field("flow_run_id", pa.string(), "the Prefect flow run that recorded the run"),
    _field("created_at", pa.timestamp("us", tz="UTC"), "when the run was recorded", "UTC"),
    _field("date", pa.date32(), "UTC day of created_at (a typed column, not a path key: the "
           "same date type in pandas, pyarrow, DuckDB and Polars)", "UTC day"),
]
EXPORT_SCHEMA = pa.schema(EXPORT_FIELDS)
_SQL_COLUMNS = [f.name for f in EXPORT_FIELDS if f.name != "date"] + ["requested_algorithm"]


def requested_sql() -> ColumnElement[str]:
    """The requested algorithm (runs recorded without a request: the one that ran)."""
    runs = AlgorithmRun.__table__
    return func.coalesce(runs.c.requested_algorithm, runs.c.algorithm_name)


def day_sql(dialect: str) -> ColumnElement:
    """The UTC day of `created_at` in SQL (SQLite stores naive UTC text)."""
    created = AlgorithmRun.__table__.c.created_at
    if dialect == "postgresql":
        return cast(func.timezone("UTC", created), Date)
    return func.date(created)


def export_query(where: ColumnElement[bool] | None = None,
                 best_budgets: list[int] | None = None, order_by: list | None = None) -> Select:
    """The dataset's columns, computed in SQL (money stays NUMERIC, accuracy joined in): runs
    matching `where`; `best` aggregated over `best_budgets` only when given (a plan's pairs)."""
    runs, sets, budgets = AlgorithmRun.__table__, ProjectSet.__table__, Budget.__table__
    best = select(runs.c.budget_id, func.max(runs.c.total_cost).label("best")).where(
        runs.c.match_type != "failed")
    if best_budgets is not None:
        best = best.where(runs.c.budget_id.in_(best_budgets))
    best = best.group_by(runs.c.budget_id).subquery("best")
    accuracy = case((runs.c.match_type == "failed", None),
                    (best.c.best > 0, cast(runs.c.total_cost, Float) / cast(best.c.best, Float)),
                    else_=1.0)
    stmt = (
        select(runs.c.id, runs.c.kind, runs.c.project_set_id, runs.c.budget_id, sets.c.family,
               sets.c.n_projects.label("n"), budgets.c.amount.label("budget"),
               runs.c.algorithm_name.label("ran_algorithm"), runs.c.match_type.label("status"),
               runs.c.selected_projects, runs.c.total_cost, runs.c.upper_bound,
               best.c.best.label("best_total"), accuracy.label("accuracy"),
               runs.c.execution_time, runs.c.memory_used, runs.c.memory_method, runs.c.reason,
               runs.c.selector, runs.c.flow_run_id, runs.c.created_at,
               requested_sql().label("requested_algorithm"))
        .join(sets, sets.c.id == runs.c.project_set_id)
        .join(budgets, budgets.c.id == runs.c.budget_id)
        .outerjoin(best, best.c.budget_id == runs.c.budget_id)
    )
    if where is not None:
        stmt = stmt.where(where)
    return stmt.order_by(*(order_by if order_by is not None else [runs.c.id]))


def _as_export_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Cast a batch of `export_query` columns (any driver's types) to `EXPORT_SCHEMA` plus
    `requested_algorithm` (last), computing `date` from `created_at`."""
    arrays = []
    for f in EXPORT_FIELDS:
        if f.name == "date":
            created = arrays[-1]
            arrays.append(pc.cast(created, pa.timestamp("us", tz="UTC")).cast(pa.date32()))
            continue
        col = batch.column(f.name)
        if isinstance(col.type, pa.ExtensionType):  # ADBC's NUMERIC: opaque over string
            col = col.storage
        arrays.append(col if col.type == f.type else col.cast(f.type))
    req = batch.column("requested_algorithm")
    return pa.RecordBatch.from_arrays([*arrays, req.cast(pa.string())],
                                      schema=EXPORT_SCHEMA.append(
                                          pa.field("requested_algorithm", pa.string())))


def _money(values: tuple) -> pa.Array:
    return pa.array([None if v is None else Decimal(v) if isinstance(v, int | Decimal)
                     else Decimal(str(v)).quantize(Decimal("0.01")) for v in values],
                    MONEY_TYPE)


def _rows_batch(rows: list[Any], keys: list[str]) -> pa.RecordBatch:
    cols = dict(zip(keys, zip(*rows, strict=True), strict=True))
    arrays = {}
    for name in keys:
        f = EXPORT_SCHEMA.field(name) if name in EXPORT_SCHEMA.names else None
        if f is not None and f.type == MONEY_TYPE:
            arrays[name] = _money(cols[name])
        elif name == "created_at":
            arrays[name] = pa.array([None if v is None else
                                     v if v.tzinfo else v.replace(tzinfo=UTC)
                                     for v in cols[name]], pa.timestamp("us", tz="UTC"))
        else:
            arrays[name] = pa.array(cols[name], f.type if f is not None else pa.string())
    return pa.RecordBatch.from_pydict(arrays)


def adbc_available() -> bool:
    """Whether the Arrow-native PostgreSQL path (ADBC) is installed."""
    try:
        import adbc_driver_postgresql.dbapi  # noqa: F401
    except ImportError:
        return False
    return True


def adbc_uri(url: URL) -> str:
    """A libpq URI for ADBC from a SQLAlchemy URL (driver suffix dropped)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def stream_adbc(sql: str, url: URL, batch_bytes: int = 8 << 20) -> Iterator[pa.RecordBatch]:
    """Yield Arrow batches of `sql` straight from PostgreSQL (ADBC's COPY binary stream; no
    Python row objects); each batch about `batch_bytes` (memory bounded by it)."""
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(adbc_uri(url)) as conn, conn.cursor() as cur:
        cur.adbc_statement.set_options(
            **{"adbc.postgresql.batch_size_hint_bytes": str(batch_bytes)})
        cur.execute(sql)
        reader = cur.fetch_record_batch()
        yield from reader


def iter_export_batches(*, session: Session, stmt: Select, batch_size: int = 50_000,
                        arrow_native: bool | None = None) -> Iterator[pa.RecordBatch]:
    """`stmt` (an `export_query`) as `EXPORT_SCHEMA` (+ requested_algorithm) batches: from
    PostgreSQL through ADBC when installed (`arrow_native`: None = when available), else
    through SQLAlchemy rows `batch_size` at a time."""
    bind = session.get_bind()
    native = bind.dialect.name == "postgresql" and (
        adbc_available() if arrow_native is None else arrow_native)
    if native:
        sql = str(stmt.compile(dialect=bind.dialect, compile_kwargs={"literal_binds": True}))
        for batch in stream_adbc(sql, bind.url, batch_bytes=max(batch_size, 1) * 160):
            if batch.num_rows:
                yield _as_export_batch(batch)
        return
    result = session.execute(stmt, execution_options={"yield_per": batch_size})
    keys = list(result.keys())
    try:
        for rows in result.partitions():
            yield _as_export_batch(_rows_batch(list(rows), keys))
    finally:
        result.close()


def database_source(url: URL) -> str:
    """Who the rows come from, without user or password: `postgresql://host:port/dbname`, or
    `sqlite:///<absolute path>` (the `source` lineage column)."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        db = url.database or ":memory:"
        path = db if db == ":memory:" or db.startswith("file:") else str(Path(db).resolve())
        return f"sqlite:///{path}"
    return f"{backend}://{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def database_key(url: URL) -> str:
    """The export folder name of a database: `<backend>-<12 hex of sha256(source)>`."""
    source = database_source(url)
    return f"{url.get_backend_name()}-{hashlib.sha256(source.encode()).hexdigest()[:12]}"
