"""Pure export helpers: one database's runs and snapshots as Parquet datasets an analyst can trust.

Layout: one root per database, named after its identity (`db.exports.database_key`: the
backend and a hash of host/port/dbname or of the SQLite file's absolute path; no user, no
password), so two databases never share or overwrite each other's files:

    <data_dir>/exports/<backend>-<hash>/SOURCE.json        {"source": ..., "backend": ...}
    <data_dir>/exports/<backend>-<hash>/runs/requested_algorithm=<alg>/part-<day>-<flow>.parquet
    <data_dir>/exports/<backend>-<hash>/training_runs/...   (same layout)
    <data_dir>/exports/<backend>-<hash>/snapshots/part-<day>-<flow>.parquet

    pandas.read_parquet(root / "runs")
    pyarrow.dataset.dataset(root / "runs", partitioning="hive")
    duckdb: read_parquet('<root>/runs/**/*.parquet', hive_partitioning=true)

**Datasets by kind.** `runs` holds the runs an analyst compares (kinds benchmark, remeasure,
user); `training_runs` holds the selector's replay and training runs. Reading `runs/` never mixes
them; both carry a `kind` column. Snapshots aggregate user-facing runs only.

**Names.** The only path key is `requested_algorithm` (what the analyst asked for and groups by;
`auto` has its partition); `ran_algorithm` is the solver that ran. Snapshots carry
`requested_algorithm` too (their groups). The day is the typed column `date` (date32, UTC day of
`created_at`) inside the files, never a path key, so every reader types it the same.

**Money** is `decimal128(20, 2)` (budget, total_cost, upper_bound, best_total): `sum(total_cost)`
is exact in DuckDB, Polars, pyarrow and pandas. Every field carries Arrow metadata
(`description`, `unit`: seconds, MiB, money, ratio); `accuracy` is defined in
`db.exports.ACCURACY_MEANING`.

**Idempotent, proportional rewrites.** A file holds one group: (dataset, requested algorithm,
UTC day, recording flow run). An export finds the groups its rows fall in and rewrites each of
them whole (hidden temporary file, then rename): exporting twice leaves each run once, a killed
export leaves the previous file, and a benchmark's export rewrites its own flow run's files only
(its cost is its plan's rows, not the day's). Lineage columns: `source` (the database),
`flow_run_id`, `export_flow_run_id`, `code_version`.

**Speed.** PostgreSQL streams through ADBC straight into Arrow when `adbc-driver-postgresql` is
installed (no Python row objects, memory bounded by the batch); otherwise, and on SQLite,
through SQLAlchemy rows, `batch_size` at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from importlib import metadata
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Date, String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.exports import (
    EXPORT_SCHEMA,
    INTERNAL_KINDS,
    database_key,
    database_source,
    export_query,
    iter_export_batches,
    requested_sql,
)
from db.models import AlgorithmRun, AnalyticsSnapshot

RUNS, TRAINING_RUNS, SNAPSHOTS = "runs", "training_runs", "snapshots"
RUN_PARTITIONS = ("requested_algorithm",)
LINEAGE = [pa.field("source", pa.string(), metadata={"description": "the database the row "
                                                     "comes from (no user or password)"}),
           pa.field("export_flow_run_id", pa.string(),
                    metadata={"description": "the export that last wrote this file"}),
           pa.field("code_version", pa.string(),
                    metadata={"description": "git commit (or package version) that wrote it"})]
RUN_FILE_SCHEMA = pa.schema([*EXPORT_SCHEMA, *LINEAGE])


def _f(name: str, type_: pa.DataType, meaning: str, unit: str | None = None) -> pa.Field:
    return pa.field(name, type_, metadata={"description": meaning, **({"unit": unit} if unit
                                                                         else {})})


SNAPSHOT_FIELDS = [
    _f("id", pa.int64(), "snapshot row id in the source database"),
    _f("snapshot_at", pa.timestamp("us", tz="UTC"), "when the snapshot was taken", "UTC"),
    _f("date", pa.date32(), "UTC day of snapshot_at", "UTC day"),
    _f("requested_algorithm", pa.string(), "the requested algorithm the row aggregates (the "
       "runs dataset's partition key)"),
    _f("size_bucket", pa.string(), "small (n<20), medium (<100), large (<1000), xlarge"),
    _f("family", pa.string(), "generator family"),
    _f("run_count", pa.int64(), "runs aggregated (benchmark, remeasure, user kinds)", "runs"),
    _f("exact_rate", pa.float64(), "share of runs with status exact", "ratio"),
    _f("time_mean", pa.float64(), "mean execution_time", "seconds"),
    _f("time_p50", pa.float64(), "median execution_time (percentile_cont)", "seconds"),
    _f("time_p95", pa.float64(), "95th percentile of execution_time", "seconds"),
    _f("memory_mean", pa.float64(), "mean memory_used", "MiB"),
    _f("memory_max", pa.float64(), "max memory_used", "MiB"),
    _f("accuracy_mean", pa.float64(), "mean of the runs' accuracy", "ratio"),
    _f("flow_run_id", pa.string(), "the flow run that took the snapshot"),
]
SNAPSHOT_FILE_SCHEMA = pa.schema([*SNAPSHOT_FIELDS, *LINEAGE])
_REPO = Path(__file__).resolve().parent.parent
_SAFE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ExportRootConflict(RuntimeError):
    """The export folder belongs to another database (never rewritten)."""


@lru_cache(maxsize=1)
def code_version() -> str:
    """The git commit of the code (short), else the installed package version."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=_REPO,
                             capture_output=True, text=True, timeout=5, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        try:
            return metadata.version("budget-allocation")
        except metadata.PackageNotFoundError:
            return "unknown"


def utc_day(when: datetime) -> date:
    """The UTC date of a timestamp (SQLite hands back naive datetimes, stored as UTC)."""
    return (when if when.tzinfo is None else when.astimezone(UTC)).date()


def database_root(exports: str | Path, session: Session) -> Path:
    """`<exports>/<backend>-<hash>`: this database's export root, claimed in SOURCE.json; a
    root claimed by another database raises `ExportRootConflict` (nothing is written)."""
    url = session.get_bind().url
    root, source = Path(exports) / database_key(url), database_source(url)
    marker = root / "SOURCE.json"
    if marker.exists():
        claimed = json.loads(marker.read_text()).get("source")
        if claimed != source:
            raise ExportRootConflict(f"export folder {root} holds {claimed}, not {source}: "
                                     "refusing to rewrite another database's export")
    else:
        root.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"source": source, "backend": url.get_backend_name()}))
    return root


def _flow_tag(flow_run_id: str | None) -> str:
    if not flow_run_id:
        return "0"
    return "f" + (flow_run_id if _SAFE.fullmatch(flow_run_id)
                  else hashlib.sha256(flow_run_id.encode()).hexdigest()[:16])


def _day_sql(column, dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def _dataset_sql() -> ColumnElement[str]:
    kind = AlgorithmRun.__table__.c.kind
    return case((kind.in_(INTERNAL_KINDS), TRAINING_RUNS), else_=RUNS)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


class _GroupWriter:
    """One open Parquet file at a time, each written hidden then renamed into place."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema, self.files, self.rows = schema, 0, 0
        self._writer: pq.ParquetWriter | None = None
        self._path: Path | None = None
        self._tmp: Path | None = None

    def write(self, path: Path, batch: pa.RecordBatch) -> None:
        if path != self._path:
            self.close()
            path.parent.mkdir(parents=True, exist_ok=True)
            self._path, self._tmp = path, path.with_name(f".{path.name}.{os.getpid()}.tmp")
            self._writer = pq.ParquetWriter(self._tmp, self.schema)
        self._writer.write_batch(batch)  # type: ignore[union-attr]
        self.rows += batch.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._tmp.replace(self._path)  # type: ignore[union-attr]
            self.files += 1
        self._writer = self._path = self._tmp = None

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._tmp.unlink(missing_ok=True)  # type: ignore[union-attr]
        self._writer = self._path = self._tmp = None


def _key(dataset: str, requested: str, day: date, flow: str | None) -> str:
    return f"{dataset}|{requested}|{day.isoformat()}|{flow or ''}"


def run_groups(*, session: Session, since: datetime | None = None,
               where: ColumnElement[bool] | None = None
               ) -> tuple[int, set[tuple], list[int] | None]:
    """How many runs match, the (dataset, requested algorithm, UTC day, flow run) groups they
    fall in, and (for a filtered export) the budgets they touch (None: too many, or all)."""
    runs = AlgorithmRun.__table__
    dialect = session.get_bind().dialect.name
    conds = [c for c in (None if since is None else runs.c.created_at >= since, where)
             if c is not None]
    cols = [_dataset_sql(), requested_sql(), _day_sql(runs.c.created_at, dialect),
            runs.c.flow_run_id]
    stmt = select(*cols, func.count()).where(*conds).group_by(*cols)
    count, groups = 0, set()
    for dataset, requested, day, flow, n in session.execute(stmt):
        count += n
        groups.add((dataset, requested, _as_date(day), flow))
    budgets = None
    if conds:
        ids = list(session.scalars(select(runs.c.budget_id).where(*conds).distinct()
                                   .limit(10_001)))
        budgets = sorted(ids) if len(ids) <= 10_000 else None
    return count, groups, budgets


def _coarse(groups: set[tuple]) -> ColumnElement[bool]:
    """A condition on runs covering `groups` (exactness restored by the key filter)."""
    runs = AlgorithmRun.__table__
    days = sorted({g[2] for g in groups})
    flows = {g[3] for g in groups}
    start = datetime.combine(days[0], time.min, UTC)
    end = datetime.combine(days[-1], time.min, UTC) + timedelta(days=1)
    flow_cond = [runs.c.flow_run_id.in_(sorted(f for f in flows if f))]
    if None in flows:
        flow_cond.append(runs.c.flow_run_id.is_(None))
    return and_(runs.c.created_at >= start - timedelta(days=1),  # SQLite compares naive text
                runs.c.created_at < end + timedelta(days=1),
                requested_sql().in_(sorted({g[1] for g in groups})), or_(*flow_cond))


def _batch_keys(batch: pa.RecordBatch) -> pa.Array:
    dataset = pc.if_else(pc.is_in(batch.column("kind"), pa.array(INTERNAL_KINDS)),
                         TRAINING_RUNS, RUNS)
    return pc.binary_join_element_wise(
        dataset, batch.column("requested_algorithm"), pc.cast(batch.column("date"), pa.string()),
        pc.fill_null(batch.column("flow_run_id"), ""), "|")


def _split(batch: pa.RecordBatch, keys: pa.Array) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Consecutive runs of equal keys (the stream is ordered by key)."""
    n = len(keys)
    if n == 0:
        return
    change = pc.indices_nonzero(pc.not_equal(keys[1:], keys[:-1])).to_pylist()
    bounds = [0, *(i + 1 for i in change), n]
    for lo, hi in pairwise(bounds):
        yield keys[lo].as_py(), batch.slice(lo, hi - lo)


def _lineage(batch: pa.RecordBatch, schema: pa.Schema, values: list[str | None]) -> pa.RecordBatch:
    n = batch.num_rows
    base = [batch.column(f.name) for f in schema if f.name not in {x.name for x in LINEAGE}]
    return pa.RecordBatch.from_arrays(
        [*base, *(pa.array([v] * n, pa.string()) for v in values)], schema=schema)


def run_order(dialect: str) -> list:
    """The export's ORDER BY: a group's rows arrive together, in id order."""
    runs = AlgorithmRun.__table__
    return [_dataset_sql(), requested_sql(), _day_sql(runs.c.created_at, dialect),
            func.coalesce(runs.c.flow_run_id, cast("", String)), runs.c.id]


def run_file(root: Path, dataset: str, requested: str, day: str, flow: str | None) -> Path:
    """The file of one group under a database's export root."""
    return (root / dataset / f"requested_algorithm={quote(requested, safe='')}"
            / f"part-{day}-{_flow_tag(flow)}.parquet")


def export_runs(
    *,
    session: Session,
    root: str | Path,
    since: datetime | None = None,
    where: ColumnElement[bool] | None = None,
    export_flow_run_id: str | None = None,
    batch_size: int = 50_000,
    arrow_native: bool | None = None,
) -> dict[str, Any]:
    """Export the runs matching `since`/`where` (default: all) under the database root `root`
    (see `database_root`) by rewriting every group they fall in; returns `runs` (matched),
    `partitions` (files rewritten), `rows_written`, `budgets_scoped` (whether `best` was
    restricted to the touched budgets)."""
    root = Path(root)
    dialect = session.get_bind().dialect.name
    everything = since is None and where is None
    wanted = None
    if everything:  # every group: no discovery pass, the stream itself is counted
        count, groups, budgets = -1, set(), None
    else:
        count, groups, budgets = run_groups(session=session, since=since, where=where)
        if not groups:
            return {"runs": 0, "partitions": 0, "rows_written": 0, "budgets_scoped": False}
        wanted = pa.array(sorted(_key(*g) for g in groups))
    stmt = export_query(None if everything else _coarse(groups), budgets, run_order(dialect))
    source = database_source(session.get_bind().url)
    lineage = [source, export_flow_run_id, code_version()]
    writer = _GroupWriter(RUN_FILE_SCHEMA)
    try:
        for batch in iter_export_batches(session=session, stmt=stmt, batch_size=batch_size,
                                         arrow_native=arrow_native):
            keys = _batch_keys(batch)
            if wanted is not None:
                mask = pc.is_in(keys, wanted)
                batch, keys = batch.filter(mask), keys.filter(mask)
            for key, part in _split(batch, keys):
                dataset, requested, day, flow = key.split("|", 3)
                writer.write(run_file(root, dataset, requested, day, flow or None),
                             _lineage(part, RUN_FILE_SCHEMA, lineage))
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return {"runs": writer.rows if everything else count, "partitions": writer.files,
            "rows_written": writer.rows,
            "budgets_scoped": budgets is not None}


def export_snapshots(
    *,
    session: Session,
    root: str | Path,
    since: datetime | None = None,
    flow_run_id: str | None = None,
    export_flow_run_id: str | None = None,
) -> dict[str, int]:
    """Export analytics snapshots (all, taken at/after `since`, or taken by `flow_run_id`)
    under the database root `root`, rewriting each (day, flow run) file they fall in whole."""
    snap = AnalyticsSnapshot.__table__
    dialect = session.get_bind().dialect.name
    conds = []
    if since is not None:
        conds.append(snap.c.snapshot_at >= since)
    if flow_run_id is not None:
        conds.append(snap.c.flow_run_id == flow_run_id)
    day = _day_sql(snap.c.snapshot_at, dialect)
    touched = {(_as_date(d), f): n for d, f, n in session.execute(
        select(day, snap.c.flow_run_id, func.count()).where(*conds)
        .group_by(day, snap.c.flow_run_id))}
    lineage = [database_source(session.get_bind().url), export_flow_run_id, code_version()]
    for d, f in sorted(touched, key=lambda k: (k[0], k[1] or "")):
        flow_cond = snap.c.flow_run_id.is_(None) if f is None else snap.c.flow_run_id == f
        start = datetime.combine(d, time.min, UTC)
        rows = session.execute(
            select(snap).where(flow_cond, snap.c.snapshot_at >= start - timedelta(days=1),
                               snap.c.snapshot_at < start + timedelta(days=2))
            .order_by(snap.c.id)).mappings().all()
        rows = [r for r in rows if utc_day(r["snapshot_at"]) == d]
        _write_snapshots(root / SNAPSHOTS / f"part-{d.isoformat()}-{_flow_tag(f)}.parquet",
                         rows, lineage)
    return {"snapshots": sum(touched.values()), "partitions": len(touched)}


def _write_snapshots(path: Path, rows: Iterable[Any], lineage: list[str | None]) -> None:
    rows = list(rows)
    cols: dict[str, Any] = {}
    for f in SNAPSHOT_FIELDS:
        if f.name == "date":
            cols[f.name] = [utc_day(r["snapshot_at"]) for r in rows]
        elif f.name == "requested_algorithm":
            cols[f.name] = [r["algorithm_name"] for r in rows]
        elif f.name == "snapshot_at":
            cols[f.name] = [s if s.tzinfo else s.replace(tzinfo=UTC)
                            for s in (r["snapshot_at"] for r in rows)]
        else:
            cols[f.name] = [r[f.name] for r in rows]
    for field, value in zip(LINEAGE, lineage, strict=True):
        cols[field.name] = [value] * len(rows)
    table = pa.Table.from_pydict(cols, schema=SNAPSHOT_FILE_SCHEMA)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
