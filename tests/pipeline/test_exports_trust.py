"""Exports an analyst can trust: one root per database, names that mean one thing, exact money,
typed dates, self-describing fields, kinds kept apart, costs that follow the work (issue 17)."""

from __future__ import annotations

import json
import statistics
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from db import create_project_set, record_runs
from db.engine import session_scope
from db.exports import adbc_available, database_key
from db.models import AlgorithmRun
from db.snapshots import compute_snapshot
from tasks import exporting

TENTHS = ["0.10", "0.20", "0.30", "0.70"]  # float sums of these are not exact


def _seed(url: str, *, flow: str = "flow-a", runs_per_alg: int = 6, kind: str = "remeasure",
          name: str = "s", extra: list[dict] | None = None) -> None:
    """One set, one budget; `auto` runs that ran dp, dp runs, greedy runs with cent totals."""
    with session_scope(url) as s:
        ps, _ = create_project_set(session=s, name=name, budgets=["1.00"], projects=[
            {"name": f"p{i}", "cost": c} for i, c in enumerate(TENTHS)],
            generator_params={"family": "uniform", "n": 4, "seed": 1})
        rows = []
        for i in range(runs_per_alg):
            for requested, ran, total, status in [("auto", "dp", "1.00", "exact"),
                                                  ("dp", "dp", "1.00", "exact"),
                                                  ("greedy", "greedy", "0.90", "approximate")]:
                rows.append({"project_set_id": ps.id, "budget_id": ps.budgets[0].id,
                             "algorithm": ran, "requested_algorithm": requested,
                             "selected_indices": [0, 1], "total_cost": total,
                             "upper_bound": "1.00", "status": status,
                             "execution_time": (i + 1) * (0.001 if ran == "dp" else 0.01)
                             * (5 if requested == "auto" else 1),
                             "memory_used": 1.5, "flow_run_id": flow})
        for row in extra or []:
            rows.append({**rows[0], **row})
        record_runs(session=s, runs=rows, kind=kind)


def _export(url: str, exports: Path, snapshot: bool = False, **kw) -> tuple[Path, dict]:
    with session_scope(url) as s:
        if snapshot:
            compute_snapshot(session=s, flow_run_id="snap")
        root = exporting.database_root(exports, s)
        out = exporting.export_runs(session=s, root=root, **kw)
        exporting.export_snapshots(session=s, root=root)
    return root, out


def _ids(url: str, kinds=("benchmark", "remeasure", "user")) -> list[int]:
    with session_scope(url) as s:
        return list(s.scalars(select(AlgorithmRun.id).where(AlgorithmRun.kind.in_(kinds))
                              .order_by(AlgorithmRun.id)))


def _duck(root: Path, sql: str):
    rel = f"read_parquet('{root}/runs/**/*.parquet', hive_partitioning=true)"
    return duckdb.sql(sql.replace("RUNS", rel)).fetchall()


@pytest.mark.postgres
def test_sqlite_then_postgresql_keeps_both_exports(sqlite_migrated_url, pg_migrated_url,
                                                   tmp_path) -> None:
    """Exporting a SQLite database and then a PostgreSQL one into the same data folder keeps
    both, each in its own root, every row tagged with its `source` (no password, no user)."""
    _seed(sqlite_migrated_url, runs_per_alg=2)
    _seed(pg_migrated_url, runs_per_alg=3)
    lite, _ = _export(sqlite_migrated_url, tmp_path / "exports", snapshot=True)
    pg, _ = _export(pg_migrated_url, tmp_path / "exports", snapshot=True)
    assert lite != pg and lite.parent == pg.parent == tmp_path / "exports"
    assert lite.name.startswith("sqlite-") and pg.name.startswith("postgresql-")
    for url, root in [(sqlite_migrated_url, lite), (pg_migrated_url, pg)]:
        table = ds.dataset(root / "runs", partitioning="hive").to_table()
        assert sorted(table["id"].to_pylist()) == _ids(url)
        sources = set(table["source"].to_pylist())
        assert len(sources) == 1 and "postgres@" not in sources.pop()
        snaps = pq.read_table(root / "snapshots")
        assert set(snaps["source"].to_pylist()) == set(table["source"].to_pylist())
        assert json.loads((root / "SOURCE.json").read_text())["source"] in \
            table["source"].to_pylist()


def test_a_root_claimed_by_another_database_is_refused(sqlite_migrated_url, tmp_path) -> None:
    """A root whose SOURCE.json names another database is never rewritten: one-line error."""
    _seed(sqlite_migrated_url)
    with session_scope(sqlite_migrated_url) as s:
        root = tmp_path / "exports" / database_key(s.get_bind().url)
    root.mkdir(parents=True)
    (root / "SOURCE.json").write_text(json.dumps({"source": "sqlite:////elsewhere.db"}))
    with pytest.raises(exporting.ExportRootConflict, match="refusing"):
        _export(sqlite_migrated_url, tmp_path / "exports")
    assert not (root / "runs").exists()


def test_partitions_are_requested_algorithms_and_medians_match(sqlite_migrated_url,
                                                               tmp_path) -> None:
    """`auto` has its own partition; `ran_algorithm` says what ran; the DuckDB median by
    requested algorithm equals the database's, and the snapshot's p50."""
    _seed(sqlite_migrated_url)
    root, _ = _export(sqlite_migrated_url, tmp_path / "exports")
    parts = sorted(p.name for p in (root / "runs").iterdir())
    assert parts == ["requested_algorithm=auto", "requested_algorithm=dp",
                     "requested_algorithm=greedy"]
    got = dict(_duck(root, "select requested_algorithm, median(execution_time) from RUNS "
                           "group by 1"))
    with session_scope(sqlite_migrated_url) as s:
        rows = s.execute(select(AlgorithmRun.requested_algorithm, AlgorithmRun.execution_time,
                                AlgorithmRun.algorithm_name)).all()
        snap = {r.algorithm_name: r.time_p50 for r in compute_snapshot(session=s)}
    for alg in ("auto", "dp", "greedy"):
        want = statistics.median(t for a, t, _ in rows if a == alg)
        assert got[alg] == pytest.approx(want) == pytest.approx(snap[alg])
    ran = _duck(root, "select distinct ran_algorithm from RUNS where requested_algorithm='auto'")
    assert ran == [("dp",)]


def test_date_and_money_read_the_same_in_every_reader(sqlite_migrated_url, tmp_path) -> None:
    """`date` is a date in pandas, pyarrow and DuckDB; money is decimal128(20, 2) and DuckDB's
    sum(total_cost) is exact (float64 would drift)."""
    _seed(sqlite_migrated_url, runs_per_alg=7)
    root, _ = _export(sqlite_migrated_url, tmp_path / "exports")
    table = ds.dataset(root / "runs", partitioning="hive").to_table()
    assert table.schema.field("date").type == pa.date32()
    assert table.schema.field("total_cost").type == pa.decimal128(20, 2)
    frame = pd.read_parquet(root / "runs", dtype_backend="pyarrow")
    assert str(frame["date"].dtype) == "date32[day][pyarrow]"
    plain = pd.read_parquet(root / "runs")
    assert type(plain["date"].iloc[0]).__name__ == "date"
    assert _duck(root, "select distinct typeof(date) from RUNS") == [("DATE",)]
    (total,) = _duck(root, "select sum(total_cost) from RUNS")[0]
    with session_scope(sqlite_migrated_url) as s:
        exact = sum(s.scalars(select(AlgorithmRun.total_cost)), Decimal(0))
    assert total == exact == Decimal("20.30")  # 14 x 1.00 + 7 x 0.90


def test_fields_are_self_describing_with_accuracy_and_kind(sqlite_migrated_url,
                                                          tmp_path) -> None:
    """Units and meanings travel in Arrow field metadata; `accuracy` = total / best total of
    the same set and budget (0.9 for greedy here); `kind` is a column."""
    _seed(sqlite_migrated_url)
    root, _ = _export(sqlite_migrated_url, tmp_path / "exports")
    schema = ds.dataset(root / "runs", partitioning="hive").schema
    unit = {f.name: (f.metadata or {}).get(b"unit") for f in schema}
    assert unit["execution_time"] == b"seconds" and unit["memory_used"] == b"MiB"
    assert b"best" in schema.field("accuracy").metadata[b"description"]
    acc = dict(_duck(root, "select requested_algorithm, avg(accuracy) from RUNS group by 1"))
    assert acc == {"auto": 1.0, "dp": 1.0, "greedy": pytest.approx(0.9)}
    assert _duck(root, "select distinct kind from RUNS") == [("remeasure",)]


def test_training_runs_stay_out_of_runs_and_snapshots(sqlite_migrated_url, tmp_path) -> None:
    """Replay and training runs land in `training_runs/`, never in `runs/`, and no snapshot
    counts them."""
    _seed(sqlite_migrated_url, runs_per_alg=2, extra=[
        {"kind": "training", "requested_algorithm": "dp", "execution_time": 99.0},
        {"kind": "replay", "requested_algorithm": "greedy", "execution_time": 99.0}])
    root, _ = _export(sqlite_migrated_url, tmp_path / "exports")
    runs = ds.dataset(root / "runs", partitioning="hive").to_table()
    internal = ds.dataset(root / "training_runs", partitioning="hive").to_table()
    assert sorted(runs["id"].to_pylist()) == _ids(sqlite_migrated_url)
    assert sorted(internal["kind"].to_pylist()) == ["replay", "training"]
    with session_scope(sqlite_migrated_url) as s:
        snap = compute_snapshot(session=s)
    assert sum(r.run_count for r in snap) == len(runs) and max(r.time_p95 for r in snap) < 99


def test_a_plan_export_rewrites_only_its_own_files(sqlite_migrated_url, tmp_path) -> None:
    """Exporting a later flow run's runs rewrites only that flow run's files: the earlier
    files are untouched, rows_written is the plan's, `best` is scoped to its budgets, and
    exporting everything again changes nothing but keeps every run once."""
    _seed(sqlite_migrated_url, flow="flow-a", runs_per_alg=20, name="a")
    exports = tmp_path / "exports"
    root, first = _export(sqlite_migrated_url, exports)
    before = {p: p.stat().st_mtime_ns for p in (root / "runs").rglob("*.parquet")}
    _seed(sqlite_migrated_url, flow="flow-b", runs_per_alg=2, name="b")
    _, plan = _export(sqlite_migrated_url, exports, where=AlgorithmRun.flow_run_id == "flow-b")
    assert plan["runs"] == plan["rows_written"] == 6 and plan["budgets_scoped"]
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())
    assert first["rows_written"] == 60
    _export(sqlite_migrated_url, exports)
    ids = sorted(ds.dataset(root / "runs", partitioning="hive").to_table()["id"].to_pylist())
    assert ids == _ids(sqlite_migrated_url)


@pytest.mark.postgres
@pytest.mark.skipif(not adbc_available(), reason="adbc-driver-postgresql not installed")
def test_adbc_and_row_paths_write_the_same_content(pg_migrated_url, tmp_path) -> None:
    """On PostgreSQL the ADBC stream and the SQLAlchemy fallback write identical datasets."""
    _seed(pg_migrated_url, extra=[{"kind": "training", "total_cost": "0.30"}])
    tables = []
    for native in (True, False):
        with session_scope(pg_migrated_url) as s:
            root = exporting.database_root(tmp_path / str(native), s)
            exporting.export_runs(session=s, root=root, arrow_native=native)
        for name in ("runs", "training_runs"):
            t = ds.dataset(root / name, partitioning="hive").to_table()
            tables.append(t.drop_columns(["code_version"]).sort_by("id"))
    assert tables[0].equals(tables[2]) and tables[1].equals(tables[3])
