"""Algorithm runs: record one (ORM) or many (bulk fast path), fetch one back.

A run row comes from a solver result dict (`selected_indices`, `total_cost`, `execution_time`,
`memory_used`, `status`, `algorithm`, `upper_bound`, `reason`, optional `selector`) plus
`project_set_id` and `budget_id` (and optionally `flow_run_id`, `requested_algorithm`,
`created_at`, `kind`). Every row is checked before it is written, and the budget must belong to
the set.

One record per pair: a run's `kind` (`db.models.RUN_KINDS`) says what recorded it. Benchmark
(and replay) runs are unique per pair (budget, requested algorithm), enforced by the database's
partial unique index `uq_algorithm_runs_pair`; every insert says `ON CONFLICT DO NOTHING`, so
two benchmarks recording the same plan at once store each pair once (the second waits for the
first's transaction, then skips). Remeasure, user and training runs may repeat a pair.
`record_runs` returns a `Recorded`: the number stored, with `.skipped` (pairs already there).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Select, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db import _validate as v
from db.errors import BudgetMismatchError, DataValidationError, NotFoundError
from db.models import (
    BENCHMARK_RUN_KINDS,
    MATCH_TYPES,
    PAIR_COLUMNS,
    PAIR_UNIQUE_WHERE,
    RUN_KINDS,
    UNIQUE_RUN_KINDS,
    AlgorithmRun,
    Budget,
    ProjectSet,
)

_COLUMNS = (
    "project_set_id",
    "budget_id",
    "algorithm_name",
    "requested_algorithm",
    "selected_projects",
    "total_cost",
    "execution_time",
    "memory_used",
    "memory_method",
    "match_type",
    "upper_bound",
    "reason",
    "selector",
    "flow_run_id",
    "created_at",
    "kind",
)
_TEXT_COLUMNS = frozenset(
    {"algorithm_name", "requested_algorithm", "memory_method", "reason", "selector",
     "flow_run_id", "kind"}
)
# PostgreSQL's COPY cannot skip conflicts: pages are copied into a temporary staging table (one
# per transaction, dropped at commit), then moved with INSERT ... SELECT ... ON CONFLICT DO
# NOTHING, in pair order (two writers of overlapping pages lock the pairs in the same order).
_STAGE = "algorithm_runs_stage"
_CONFLICT = f"ON CONFLICT ({', '.join(PAIR_COLUMNS)}) WHERE {PAIR_UNIQUE_WHERE} DO NOTHING"
_STAGE_SQL = (f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} ON COMMIT DROP AS "
              f"SELECT 0::bigint AS seq, {', '.join(_COLUMNS)} FROM algorithm_runs WITH NO DATA")
_COPY_SQL = f"COPY {_STAGE} (seq, {', '.join(_COLUMNS)}) FROM STDIN"
# Pages whose runs may all repeat a pair (remeasure, user, training) cannot conflict: straight in.
_COPY_DIRECT_SQL = f"COPY algorithm_runs ({', '.join(_COLUMNS)}) FROM STDIN"
_MOVE_SQL = (f"INSERT INTO algorithm_runs ({', '.join(_COLUMNS)}) "
             f"SELECT {', '.join(_COLUMNS)} FROM {_STAGE} "
             f"ORDER BY {', '.join(PAIR_COLUMNS)}, seq {_CONFLICT}")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(column: str, value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if column in _TEXT_COLUMNS:
        return value.translate(_ESCAPES)
    if column == "selected_projects":
        return "{" + ",".join(map(str, value)) + "}"
    if column == "created_at":
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _copy_line(seq: int | None, row: Mapping[str, Any]) -> str:
    line = "\t".join([_copy_field(c, row[c]) for c in _COLUMNS]) + "\n"
    return line if seq is None else f"{seq}\t{line}"


class _LazyLines:
    """A file-like `read()` over generated lines, so PostgreSQL ingests one chunk while Python
    checks and formats the next (the COPY is pipelined, not buffered whole)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.error: Exception | None = None

    def read(self, size: int = -1) -> str:
        chunk: list[str] = []
        length = 0
        try:
            for line in self._lines:
                chunk.append(line)
                length += len(line)
                if 0 < size <= length:
                    break
        except Exception as exc:  # end the COPY cleanly; the caller re-raises (and rolls back)
            self.error = exc
            return ""
        return "".join(chunk)

    readline = read


def _copy_page(dbapi_connection: Any, lines: Iterator[str], sql: str = _COPY_SQL) -> None:
    """COPY generated lines (into the staging table by default), inside the caller's
    transaction."""
    source = _LazyLines(lines)
    with dbapi_connection.cursor() as cursor:
        cursor.copy_expert(sql, source, size=1 << 16)
    if source.error is not None:
        raise source.error


class _Owners:
    """Caches budget → set and set → size lookups across the pages of one bulk write."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.budget_set: dict[int, int] = {}
        self.set_size: dict[int, int] = {}

    def load(self, rows: list[Mapping[str, Any]]) -> None:
        budgets = {r.get("budget_id") for r in rows} - self.budget_set.keys()
        budgets = {b for b in budgets if isinstance(b, int) and not isinstance(b, bool)}
        if budgets:
            found = self.session.execute(
                select(Budget.id, Budget.project_set_id).where(Budget.id.in_(budgets))
            )
            self.budget_set.update({key: value for key, value in found})
        sets = {r.get("project_set_id") for r in rows} - self.set_size.keys()
        sets = {s for s in sets if isinstance(s, int) and not isinstance(s, bool)}
        if sets:
            found = self.session.execute(
                select(ProjectSet.id, ProjectSet.n_projects).where(ProjectSet.id.in_(sets))
            )
            self.set_size.update({key: value for key, value in found})

    def check(self, where: str | int, set_id: Any, budget_id: Any) -> int:
        owner = self.budget_set.get(budget_id)
        if set_id in self.set_size and owner == set_id:
            return self.set_size[set_id]
        if isinstance(where, int):
            where = f"runs[{where}]"
        if set_id not in self.set_size:
            raise DataValidationError(f"{where}.project_set_id: no project set {set_id!r}")
        if owner is None:
            raise BudgetMismatchError(f"{where}.budget_id: no budget {budget_id!r}")
        if owner != set_id:
            raise BudgetMismatchError(
                f"{where}.budget_id: budget {budget_id} belongs to project set {owner}, "
                f"not to project set {set_id}"
            )
        return self.set_size[set_id]


def _row(where: str | int, row: Mapping[str, Any], n: int, now: datetime,
         kind: str) -> dict[str, Any]:
    """Checked column values; `where` ("run" or an index) prefixes the field in errors; `kind`
    unless the row names its own."""
    try:
        return _columns(row, n, now, kind)
    except DataValidationError as exc:
        label = f"runs[{where}]" if isinstance(where, int) else where
        raise type(exc)(f"{label}.{exc}") from None


def _columns(row: Mapping[str, Any], n: int, now: datetime, kind: str) -> dict[str, Any]:
    selected = row.get("selected_indices", row.get("selected_projects"))
    kind = v.choice("kind", row.get("kind") or kind, RUN_KINDS)
    algorithm = v.text("algorithm", row.get("algorithm"), max_length=64)
    requested = v.text("requested_algorithm", row.get("requested_algorithm"), max_length=64,
                       required=False)
    if requested is None and kind in UNIQUE_RUN_KINDS:
        requested = algorithm  # a pair without a request counts under what ran (latest_run_ids)
    return {
        "project_set_id": row["project_set_id"],
        "budget_id": row["budget_id"],
        "algorithm_name": algorithm,
        "requested_algorithm": requested,
        "selected_projects": v.positions("selected_indices", selected, n=n),
        # The solver's exact decimal strings when present: the floats lose cents above ~9e13.
        "total_cost": v.money("total_cost", _exact(row, "total_cost")),
        "execution_time": v.seconds("execution_time", row.get("execution_time")),
        "memory_used": v.seconds("memory_used", row.get("memory_used"), required=False),
        "memory_method": v.text("memory_method", row.get("memory_method"), max_length=16,
                                required=False),
        "match_type": v.choice("status", row.get("status"), MATCH_TYPES),
        "upper_bound": v.money("upper_bound", _exact(row, "upper_bound"), required=False),
        "reason": v.text("reason", row.get("reason"), max_length=10_000, required=False),
        "selector": v.text("selector", row.get("selector"), max_length=64, required=False),
        "flow_run_id": v.text("flow_run_id", row.get("flow_run_id"), max_length=64, required=False),
        "created_at": _timestamp("created_at", row.get("created_at"), now),
        "kind": kind,
    }


def _exact(row: Mapping[str, Any], key: str) -> Any:
    exact = row.get(f"{key}_exact")
    return exact if exact is not None else row.get(key)


def _timestamp(field: str, value: Any, default: datetime) -> datetime:
    if value is None:
        return default
    if not isinstance(value, datetime):
        raise DataValidationError(f"{field} must be a datetime, got {value!r}")
    return value


def _pages(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    it = iter(rows)
    while page := list(islice(it, size)):
        yield page


class Recorded(int):
    """What a bulk write stored: the int is the number of runs inserted; `.skipped` counts the
    runs not stored because their pair was recorded already (benchmark and replay runs, by
    `uq_algorithm_runs_pair`); `.offered` is their sum."""

    inserted: int
    skipped: int

    def __new__(cls, inserted: int, skipped: int = 0) -> Recorded:
        obj = super().__new__(cls, inserted)
        obj.inserted, obj.skipped = inserted, skipped
        return obj

    @property
    def offered(self) -> int:
        return self.inserted + self.skipped

    def __reduce__(self) -> tuple[Any, ...]:  # survives pickling (Prefect, Dask)
        return (Recorded, (self.inserted, self.skipped))

    def __repr__(self) -> str:
        return f"Recorded(inserted={self.inserted}, skipped={self.skipped})"


def _dialect_insert(session: Session) -> Any:
    """INSERT INTO algorithm_runs ... ON CONFLICT (the pair index) DO NOTHING RETURNING id."""
    table = AlgorithmRun.__table__
    name = session.connection().dialect.name
    if name not in ("postgresql", "sqlite"):  # no other database is supported (Settings)
        return insert(table).returning(table.c.id)
    dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert
    return (dialect_insert(table)
            .on_conflict_do_nothing(index_elements=list(PAIR_COLUMNS),
                                    index_where=text(PAIR_UNIQUE_WHERE))
            .returning(table.c.id))


def store_run(
    *,
    session: Session,
    project_set_id: int,
    budget_id: int,
    result: Mapping[str, Any],
    flow_run_id: str | None = None,
    requested_algorithm: str | None = None,
    kind: str = "user",
) -> tuple[AlgorithmRun, bool]:
    """Store one solver result for (set, budget): (the row, True), or, for a kind recorded once
    per pair (benchmark, replay) whose pair is recorded already, (that row, False)."""
    row = {**result, "project_set_id": project_set_id, "budget_id": budget_id}
    if flow_run_id is not None:
        row["flow_run_id"] = flow_run_id
    if requested_algorithm is not None:
        row["requested_algorithm"] = requested_algorithm
    owners = _Owners(session)
    owners.load([row])
    n = owners.check("run", project_set_id, budget_id)
    values = _row("run", row, n, datetime.now(UTC), kind)
    if values["kind"] not in UNIQUE_RUN_KINDS:
        run = AlgorithmRun(**values)
        session.add(run)
        session.flush()
        return run, True
    new_id = session.execute(_dialect_insert(session), values).scalar()
    run_id = new_id if new_id is not None else session.scalar(
        select(AlgorithmRun.id).where(*(getattr(AlgorithmRun, c) == values[c]
                                        for c in PAIR_COLUMNS)))
    run = session.get(AlgorithmRun, run_id)
    assert run is not None  # inserted, or the conflicting row (visible: committed or ours)
    return run, new_id is not None


def record_run(
    *,
    session: Session,
    project_set_id: int,
    budget_id: int,
    result: Mapping[str, Any],
    flow_run_id: str | None = None,
    requested_algorithm: str | None = None,
    kind: str = "user",
) -> AlgorithmRun:
    """Store one solver result for (set, budget) and return the row, id assigned. A user's solve
    by default (`kind="user"`: may repeat a pair); see `store_run` for the other kinds."""
    run, _ = store_run(session=session, project_set_id=project_set_id, budget_id=budget_id,
                       result=result, flow_run_id=flow_run_id,
                       requested_algorithm=requested_algorithm, kind=kind)
    return run


def record_runs(
    *, session: Session, runs: Iterable[Mapping[str, Any]], page_size: int = 20_000,
    kind: str = "benchmark",
) -> Recorded:
    """Store many runs at once; returns a `Recorded` (how many stored, how many skipped).
    All or nothing.

    `kind` is the runs' kind unless a row names its own (`"kind"`): `benchmark` by default (a
    pair already recorded is skipped, not stored twice, whoever recorded it, even at the same
    time); `remeasure` records a new measurement of a pair on purpose.

    Rows are checked and written page by page (the input may be a generator), all inside one
    SAVEPOINT: a bad row anywhere undoes the pages already written, even if the caller then
    commits. PostgreSQL takes COPY (psycopg2 `copy_expert`): straight into the table for kinds
    that may repeat a pair, else into a staging table, then INSERT ... SELECT ... ON CONFLICT
    DO NOTHING; other databases an executemany with ON CONFLICT DO NOTHING.
    """
    if page_size < 1:
        raise DataValidationError(f"page_size must be >= 1, got {page_size}")
    v.choice("kind", kind, RUN_KINDS)
    owners = _Owners(session)
    now = datetime.now(UTC)
    count = inserted = 0
    with session.begin_nested():
        connection = session.connection()
        fast = connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg2"
        staged = False
        for page in _pages(runs, page_size):
            owners.load(page)
            start = count

            def checked(page=page, start=start) -> Iterator[dict[str, Any]]:
                for i, raw in enumerate(page, start=start):
                    n = owners.check(i, raw.get("project_set_id"), raw.get("budget_id"))
                    yield _row(i, raw, n, now, kind)

            if fast:
                import psycopg2

                unique = kind in UNIQUE_RUN_KINDS or any(
                    r.get("kind") in UNIQUE_RUN_KINDS for r in page)
                if unique and not staged:
                    session.execute(text(_STAGE_SQL))
                    staged = True
                sql = _COPY_SQL if unique else _COPY_DIRECT_SQL
                lines = (_copy_line(i if unique else None, r) for i, r in enumerate(checked()))
                try:
                    _copy_page(connection.connection.dbapi_connection, lines, sql)
                except psycopg2.Error as exc:  # same exception types as the ORM path
                    raise DBAPIError.instance(sql, None, exc, psycopg2.Error) from exc
                if unique:
                    inserted += session.execute(text(_MOVE_SQL)).rowcount
                    session.execute(text(f"TRUNCATE {_STAGE}"))
                else:
                    inserted += len(page)
            else:
                inserted += len(session.execute(_dialect_insert(session), list(checked())).all())
            count += len(page)
    return Recorded(inserted, count - inserted)


def get_run(*, session: Session, run_id: int) -> AlgorithmRun:
    """The run with this id; `NotFoundError` if there is none."""
    run = session.get(AlgorithmRun, run_id)
    if run is None:
        raise NotFoundError(f"algorithm run {run_id} does not exist")
    return run


def latest_run_ids(budget_ids: Iterable[int], algorithms: Iterable[str]) -> Select:
    """The id of the newest run of each (budget, requested algorithm) among these: one per
    planned pair of a benchmark, whichever flow run recorded it (a rerun after a crash finds
    the pairs the first attempt stored). Runs recorded without a request count under the
    algorithm that ran. Only benchmark runs (`BENCHMARK_RUN_KINDS`) count: a user solve or a
    replay of a benchmark's dataset never stands in for the benchmark's own run."""
    runs = AlgorithmRun.__table__
    requested = func.coalesce(runs.c.requested_algorithm, runs.c.algorithm_name)
    return (select(func.max(runs.c.id))
            .where(runs.c.budget_id.in_(sorted(set(budget_ids))),
                   requested.in_(sorted(set(algorithms))),
                   runs.c.kind.in_(BENCHMARK_RUN_KINDS))
            .group_by(runs.c.budget_id, requested))


def plan_filter(budget_ids: Iterable[int], algorithms: Iterable[str]) -> ColumnElement[bool]:
    """A condition on `algorithm_runs` selecting `latest_run_ids(...)`: a benchmark plan's runs,
    the ones already recorded included, for snapshots and exports of that plan."""
    return AlgorithmRun.__table__.c.id.in_(latest_run_ids(budget_ids, algorithms))
