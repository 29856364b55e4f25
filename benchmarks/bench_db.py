"""Data-layer benchmark on a throwaway PostgreSQL database (created, then dropped).

    .venv/bin/python benchmarks/bench_db.py [--admin-url URL] [--rows 200000]
        [--naive-rows 5000] [--agg-rows 1000000]
    .venv/bin/python benchmarks/bench_db.py --export-rows 1000000 [--plan-runs 240]

`--export-rows N` is its own mode: fill N runs, then, side by side in one run (alternating,
best of `--repeat`): the project's export (`tasks.exporting.export_runs`, the ADBC path when
installed) against a plain ADBC stream of the same query written with
`pyarrow.dataset.write_dataset` partitioned the same way, as a ratio (target <= 1.2x); then a
`--plan-runs` plan recorded into the big table: its export and snapshot cost (scoped) against the
whole table's snapshot.

Measures: bulk insert of AlgorithmRun rows through `record_runs` (COPY via psycopg2 copy_expert)
next to naive ORM inserts (one `add` + `flush` per row, and `add_all` + one flush), then
`compute_snapshot` over `--agg-rows` runs, then streaming them out as Arrow batches.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import pyarrow.dataset as ds
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from db import (
    AlgorithmRun,
    compute_snapshot,
    create_project_set,
    dispose_engines,
    get_sessionmaker,
    iter_run_batches,
    mask_url,
    record_runs,
    upgrade,
)

DEFAULT_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
ALGORITHMS = ("dp", "greedy", "meet_in_the_middle", "branch_and_bound", "hybrid")
FAMILIES = ("uniform", "clustered", "powerlaw")
SIZES = (10, 50, 500, 2000)



def _orm_run(r: dict) -> AlgorithmRun:
    """One ORM row from a generated run dict (the naive ways to insert)."""
    return AlgorithmRun(
        project_set_id=r["project_set_id"],
        budget_id=r["budget_id"],
        algorithm_name=r["algorithm"],
        selected_projects=r["selected_indices"],
        total_cost=r["total_cost"],
        execution_time=r["execution_time"],
        memory_used=r["memory_used"],
        match_type=r["status"],
        selector=r["selector"],
        created_at=r["created_at"],
    )

def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _admin(url: str):
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _seed_sets(session, rng: random.Random) -> list[tuple[int, int, int]]:
    """12 sets (3 families × 4 sizes), 4 budgets each; returns (set_id, budget_id, n)."""
    targets = []
    for family in FAMILIES:
        for n in SIZES:
            ps, _ = create_project_set(
                session=session,
                name=f"{family}-{n}",
                family=family,
                projects=[rng.randint(1, 10**6) for _ in range(n)],
                budgets=[rng.randint(10**5, 10**7) for _ in range(4)],
                generator_params={"family": family, "n": n, "seed": 1},
            )
            targets += [(ps.id, b.id, n) for b in ps.budgets]
    session.commit()
    return targets


def _runs(targets, count: int, rng: random.Random, start: datetime):
    for i in range(count):
        set_id, budget_id, n = targets[i % len(targets)]
        k = min(n, 8)
        yield {
            "project_set_id": set_id,
            "budget_id": budget_id,
            "algorithm": ALGORITHMS[i % len(ALGORITHMS)],
            "status": "exact" if i % 3 else "approximate",
            "selected_indices": sorted(rng.sample(range(n), k)),
            "total_cost": rng.randint(0, 10**9) / 100,
            "execution_time": rng.random(),
            "memory_used": rng.random() * 100,
            "upper_bound": None,
            "reason": None,
            "selector": "rules",
            "created_at": start + timedelta(microseconds=i),
        }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--admin-url", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_ADMIN_URL))
    p.add_argument("--rows", type=int, default=200_000, help="rows for the fast bulk path")
    p.add_argument("--naive-rows", type=int, default=5_000, help="rows for the ORM baselines")
    p.add_argument("--agg-rows", type=int, default=1_000_000, help="runs to aggregate")
    p.add_argument("--export-rows", type=int, default=0,
                   help="export mode: runs to fill, then project export vs plain ADBC stream")
    p.add_argument("--plan-runs", type=int, default=240, help="export mode: a plan's runs")
    p.add_argument("--repeat", type=int, default=2, help="export mode: alternating repeats")
    args = p.parse_args()
    if args.export_rows:
        _with_database(args.admin_url, lambda url: _export_bench(url, args))
        return

    name = f"budget_bench_{uuid.uuid4().hex[:10]}"
    url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
    admin = _admin(args.admin_url)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
        server = conn.execute(text("SHOW server_version")).scalar()
    print(f"machine: {_cpu_model()}, {os.cpu_count()} cores; PostgreSQL {server}")
    print(f"database: {mask_url(url)} (throwaway)")
    rng = random.Random(42)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    try:
        upgrade(url, "head")
        factory = get_sessionmaker(url)
        with factory() as session:
            targets = _seed_sets(session, rng)

        # 1. naive ORM: one add + flush per row
        rows = list(_runs(targets, args.naive_rows, rng, start))
        with factory() as session:
            t0 = time.perf_counter()
            for r in rows:
                session.add(_orm_run(r))
                session.flush()
            session.commit()
            naive = args.naive_rows / (time.perf_counter() - t0)
        # 2. ORM add_all + one flush (SQLAlchemy batches with insertmanyvalues)
        with factory() as session:
            t0 = time.perf_counter()
            session.add_all([_orm_run(r) for r in rows])
            session.commit()
            orm_batch = args.naive_rows / (time.perf_counter() - t0)
        # 3. fast path: record_runs (validation + execute_values), rows generated on the fly
        rows = list(_runs(targets, args.rows, rng, start))
        with factory() as session:
            t0 = time.perf_counter()
            record_runs(session=session, runs=rows, kind="remeasure")  # raw throughput
            session.commit()
            fast_s = time.perf_counter() - t0
        print(f"insert, ORM add+flush per row : {naive:>10,.0f} rows/s  ({args.naive_rows:,} rows)")
        n_naive = f"({args.naive_rows:,} rows)"
        print(f"insert, ORM add_all, one flush: {orm_batch:>10,.0f} rows/s  {n_naive}")
        print(
            f"insert, record_runs (fast)    : {args.rows / fast_s:>10,.0f} rows/s  "
            f"({args.rows:,} rows, {fast_s:.2f} s, incl. validation)"
        )

        # 4. top up to --agg-rows runs, then aggregate
        with factory() as session:
            have = session.scalar(select(func.count()).select_from(AlgorithmRun))
            missing = max(0, args.agg_rows - have)
            t0 = time.perf_counter()
            record_runs(session=session, runs=_runs(targets, missing, rng, start), page_size=20_000,
                        kind="remeasure")
            session.commit()
            fill_s = time.perf_counter() - t0
            print(
                f"fill to {args.agg_rows:,} runs: {missing:,} rows in {fill_s:.1f} s "
                f"({missing / max(fill_s, 1e-9):,.0f} rows/s)"
            )
            session.execute(text("ANALYZE"))
            total = session.scalar(select(func.count()).select_from(AlgorithmRun))
            t0 = time.perf_counter()
            snaps = compute_snapshot(session=session)
            session.commit()
            agg_s = time.perf_counter() - t0
            print(f"compute_snapshot over {total:,} runs: {agg_s:.2f} s ({len(snaps)} groups)")
            t0 = time.perf_counter()
            streamed = sum(b.num_rows for b in iter_run_batches(session=session))
            exp_s = time.perf_counter() - t0
            print(
                f"stream out as Arrow batches: {streamed:,} rows in {exp_s:.1f} s "
                f"({streamed / exp_s:,.0f} rows/s)"
            )
    finally:
        dispose_engines(url)
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _with_database(admin_url: str, body) -> None:
    name = f"budget_bench_{uuid.uuid4().hex[:10]}"
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    admin = _admin(admin_url)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
        server = conn.execute(text("SHOW server_version")).scalar()
    print(f"machine: {_cpu_model()}, {os.cpu_count()} cores; PostgreSQL {server}; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"database: {mask_url(url)} (throwaway)")
    try:
        upgrade(url, "head")
        body(url)
    finally:
        dispose_engines(url)
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _export_bench(url: str, args) -> None:
    """The project's export against a plain ADBC stream of the same query, side by side."""
    from db.exports import adbc_available, export_query, stream_adbc
    from tasks import exporting

    if not adbc_available():
        raise SystemExit("export mode needs adbc-driver-postgresql (pip install it)")
    rng = random.Random(42)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    factory = get_sessionmaker(url)
    with factory() as session:
        targets = _seed_sets(session, rng)
        t0 = time.perf_counter()
        record_runs(session=session, runs=_runs(targets, args.export_rows, rng, start),
                    kind="remeasure")
        session.commit()
        print(f"filled {args.export_rows:,} runs in {time.perf_counter() - t0:.1f} s")
        session.execute(text("ANALYZE"))
        session.commit()
        dialect = session.get_bind().dialect
        stmt = export_query(None, None, exporting.run_order(dialect.name))
        sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    tmp = tempfile.mkdtemp(prefix="bench-export-")
    print(f"peak RSS before exporting: {_rss_mib():.0f} MiB")
    project, plain = [], []
    for i in range(args.repeat):
        with factory() as session:
            t0 = time.perf_counter()
            out = exporting.export_runs(session=session, root=f"{tmp}/project{i}")
            project.append(time.perf_counter() - t0)
        rss_project = _rss_mib()
        t0 = time.perf_counter()
        batches = stream_adbc(sql, make_url(url))
        first = next(batches)
        ds.write_dataset(_reader(first, batches), f"{tmp}/adbc{i}",
                         format="parquet", partitioning=["requested_algorithm"],
                         partitioning_flavor="hive", existing_data_behavior="overwrite_or_ignore")
        plain.append(time.perf_counter() - t0)
        print(f"  round {i + 1}: project {project[-1]:.2f} s ({out['rows_written']:,} rows, "
              f"{out['partitions']} files), plain ADBC {plain[-1]:.2f} s; "
              f"peak RSS so far {rss_project:.0f} MiB (after project), {_rss_mib():.0f} MiB")
    ratio = min(project) / min(plain)
    print(f"export of {args.export_rows:,} runs: project {min(project):.2f} s "
          f"({args.export_rows / min(project):,.0f} rows/s), plain ADBC stream "
          f"{min(plain):.2f} s; ratio {ratio:.2f}x (target <= 1.2x)")
    _plan_bench(factory, rng, args.plan_runs, tmp)


def _reader(first, rest):
    import pyarrow as pa

    return pa.RecordBatchReader.from_batches(first.schema, [first, *rest])


def _plan_bench(factory, rng, plan_runs: int, tmp: str) -> None:
    """A plan of `plan_runs` runs on fresh sets recorded into the big table: its export and
    snapshot, against the whole table's snapshot."""
    from db.models import AlgorithmRun
    from tasks import exporting

    flow = f"plan-{uuid.uuid4().hex[:8]}"
    with factory() as session:  # a benchmark plans fresh instances: new sets and budgets
        fresh = _seed_sets(session, rng)
    rows = [{**r, "flow_run_id": flow}
            for r in _runs(fresh, plan_runs, rng, datetime.now(UTC))]
    with factory() as session:
        record_runs(session=session, runs=rows, kind="remeasure")
        session.commit()
        where = AlgorithmRun.flow_run_id == flow
        t0 = time.perf_counter()
        out = exporting.export_runs(session=session, root=f"{tmp}/project0", where=where)
        exp_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        snap = compute_snapshot(session=session, where=where)
        snap_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        compute_snapshot(session=session, snapshot_at=datetime.now(UTC))
        whole_s = time.perf_counter() - t0
        session.rollback()
    print(f"plan of {plan_runs} runs in the big table: export {exp_s:.3f} s "
          f"({out['rows_written']} rows written, {out['partitions']} files, best scoped: "
          f"{out['budgets_scoped']}); snapshot {snap_s:.3f} s ({len(snap)} groups) vs whole "
          f"table {whole_s:.2f} s")


if __name__ == "__main__":
    main()
