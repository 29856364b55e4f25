"""Exports: runs stream out as Arrow batches of bounded size, and into Parquet."""

from __future__ import annotations

from decimal import Decimal

import pyarrow.parquet as pq

from db import export_runs_parquet, iter_run_batches, record_runs
from db.exports import RUN_SCHEMA


def _store(session, project_set, solver_result, n: int) -> None:
    budget = project_set.budgets[0]
    record_runs(
        session=session,
        kind="remeasure",  # n measurements of one pair, on purpose
        runs=[
            {
                **solver_result(execution_time=i / 10, selected_indices=[i % 5]),
                "project_set_id": project_set.id,
                "budget_id": budget.id,
            }
            for i in range(n)
        ],
    )
    session.commit()


def test_runs_stream_in_bounded_batches(session, project_set, solver_result):
    """23 runs with batch_size 10 arrive as batches of 10, 10 and 3, in id order, typed."""
    _store(session, project_set, solver_result, 23)
    batches = list(iter_run_batches(session=session, batch_size=10))
    assert [b.num_rows for b in batches] == [10, 10, 3]
    assert all(b.schema == RUN_SCHEMA for b in batches)
    first = batches[0].to_pylist()[0]
    assert first["selected_projects"] == [0]
    assert first["total_cost"] == 60.5 and first["total_cost_exact"] == "60.50"
    assert Decimal(first["upper_bound_exact"]) == Decimal("60.50")
    assert first["status"] == "exact"
    ids = [row["id"] for b in batches for row in b.to_pylist()]
    assert ids == sorted(ids)


def test_parquet_export_round_trips(session, project_set, solver_result, tmp_path):
    """export_runs_parquet writes every run; reading the file back gives the same rows."""
    _store(session, project_set, solver_result, 12)
    path = tmp_path / "out" / "runs.parquet"
    assert export_runs_parquet(session=session, path=path, batch_size=5) == 12
    table = pq.read_table(path)
    assert table.num_rows == 12
    assert table.column("execution_time").to_pylist() == [i / 10 for i in range(12)]


def test_runs_are_self_describing_and_numeric_in_pandas(session, project_set, solver_result,
                                                        tmp_path):
    """A run row carries n, family and the budget amount, calls its status `status`, and its
    money reads into pandas as float64 (with the exact decimal beside it as text)."""
    _store(session, project_set, solver_result, 2)
    path = tmp_path / "runs.parquet"
    export_runs_parquet(session=session, path=path)
    frame = pq.read_table(path).to_pandas()
    assert "match_type" not in frame.columns
    row = frame.iloc[0]
    assert (row["n"], row["family"], row["status"]) == (5, project_set.family, "exact")
    assert row["budget"] == 60.0 and row["budget_exact"] == "60"  # solvers.money.money_text
    for column in ("total_cost", "upper_bound", "budget", "execution_time"):
        assert str(frame[column].dtype) == "float64", column
    assert frame["total_cost_exact"].map(Decimal).sum() == Decimal("121.00")


def test_export_filters_by_set(session, project_set, solver_result):
    """Filtering by another set's id yields nothing."""
    _store(session, project_set, solver_result, 3)
    assert list(iter_run_batches(session=session, project_set_id=project_set.id + 1)) == []


def test_database_identity_names_no_user_or_password(tmp_path):
    """The export source and folder name come from host/port/dbname or the SQLite file's
    absolute path: no user, no password; two SQLite files differ, one file reached by two
    spellings is the same database."""
    from sqlalchemy.engine import make_url

    from db.exports import database_key, database_source

    pg = make_url("postgresql+psycopg2://alice:s3cret@db.example:6543/budget")
    assert database_source(pg) == "postgresql://db.example:6543/budget"
    assert "s3cret" not in database_key(pg) and database_key(pg).startswith("postgresql-")
    a = make_url(f"sqlite:///{tmp_path / 'a.db'}")
    again = make_url(f"sqlite:///{tmp_path / 'x' / '..' / 'a.db'}")
    b = make_url(f"sqlite:///{tmp_path / 'b.db'}")
    assert database_key(a) == database_key(again) != database_key(b)
    assert database_source(a) == f"sqlite:///{tmp_path / 'a.db'}"


def test_export_batches_are_exact_typed_and_bounded(session, project_set, solver_result):
    """The analyst's batches: decimal128(20, 2) money equal to the stored Decimal, a typed
    date, both algorithm names, accuracy against the pair's best, at most batch_size rows
    each (the fallback path; ADBC is compared with it in tests/pipeline)."""
    import pyarrow as pa

    from db.exports import EXPORT_SCHEMA, export_query, iter_export_batches

    _store(session, project_set, solver_result, 23)
    batches = list(iter_export_batches(session=session, stmt=export_query(), batch_size=10,
                                       arrow_native=False))
    assert [b.num_rows for b in batches] == [10, 10, 3]
    schema = batches[0].schema
    assert schema.remove(schema.get_field_index("requested_algorithm")) == EXPORT_SCHEMA
    row = batches[0].to_pylist()[0]
    assert row["total_cost"] == Decimal("60.50") and row["budget"] == Decimal("60.00")
    assert schema.field("total_cost").type == pa.decimal128(20, 2)
    assert schema.field("date").type == pa.date32() and row["date"] == row["created_at"].date()
    assert (row["requested_algorithm"], row["ran_algorithm"]) == ("dp", "dp")
    assert row["accuracy"] == 1.0 and row["best_total"] == Decimal("60.50")
    assert schema.field("memory_used").metadata[b"unit"] == b"MiB"
