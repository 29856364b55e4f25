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

`--compare-rows N` is another mode (issue 17), side by side in one run, alternating, best of
`--repeat`, as ratios: fill N runs plus a `--plan-runs` plan on fresh sets, then
* snapshot: the project's `compute_snapshot` (whole table; one plan's `plan_filter`-style
  `where`) against one SQL `GROUP BY` with `percentile_cont` computing the same columns (same
  `best` rule; values checked equal), for the whole table and for the plan;
* insert: `record_runs` of `--insert-rows` rows against `psql \\copy` of the same rows (a CSV
  written beforehand, not timed) into the same table, indexes and foreign keys.

    .venv/bin/python benchmarks/bench_db.py --compare-rows 1000000 --insert-rows 200000

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
    p.add_argument("--repeat", type=int, default=2, help="export/compare modes: repeats")
    p.add_argument("--compare-rows", type=int, default=0,
                   help="compare mode: runs to fill, then snapshot vs SQL GROUP BY and "
                        "record_runs vs psql \\copy")
    p.add_argument("--insert-rows", type=int, default=200_000,
                   help="compare mode: rows per insert round")
    args = p.parse_args()
    if args.compare_rows:
        _with_database(args.admin_url, lambda url: _compare_bench(url, args))
        return
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


SNAPSHOT_SQL = """
WITH best AS (
  SELECT project_set_id, budget_id, max(total_cost) AS best FROM algorithm_runs
  WHERE match_type <> 'failed' {best_where} GROUP BY project_set_id, budget_id)
SELECT coalesce(r.requested_algorithm, r.algorithm_name) AS algorithm_name,
  CASE WHEN s.n_projects < 20 THEN 'small' WHEN s.n_projects < 100 THEN 'medium'
       WHEN s.n_projects < 1000 THEN 'large' ELSE 'xlarge' END AS size_bucket,
  s.family, count(*) AS run_count,
  avg(CASE WHEN r.match_type = 'exact' THEN 1.0 ELSE 0.0 END) AS exact_rate,
  avg(r.execution_time) AS time_mean,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY r.execution_time) AS time_p50,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY r.execution_time) AS time_p95,
  avg(r.memory_used) AS memory_mean, max(r.memory_used) AS memory_max,
  avg(CASE WHEN r.match_type = 'failed' THEN NULL
           WHEN b.best > 0 THEN r.total_cost::float8 / b.best::float8 ELSE 1.0 END)
    AS accuracy_mean
FROM algorithm_runs r JOIN project_sets s ON s.id = r.project_set_id
LEFT JOIN best b ON b.project_set_id = r.project_set_id AND b.budget_id = r.budget_id
WHERE r.kind IN ('benchmark', 'remeasure', 'user') {run_where}
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""
RUN_COLUMNS = ("project_set_id", "budget_id", "algorithm_name", "requested_algorithm",
               "selected_projects", "total_cost", "execution_time", "memory_used",
               "memory_method", "match_type", "upper_bound", "reason", "selector",
               "flow_run_id", "created_at", "kind")


def _sql_snapshot(session, flow: str | None) -> list[tuple]:
    """The peer: one GROUP BY with percentile_cont (the plan's `best` restricted alike)."""
    if flow is None:
        sql = SNAPSHOT_SQL.format(best_where="", run_where="")
    else:
        sql = SNAPSHOT_SQL.format(
            best_where="AND budget_id IN (SELECT budget_id FROM algorithm_runs "
                       "WHERE flow_run_id = :flow)",
            run_where="AND r.flow_run_id = :flow")
    return [tuple(row) for row in session.execute(text(sql), {"flow": flow})]


def _same(project: list[tuple], peer: list[tuple]) -> bool:
    """Same groups, counts and medians (algorithm, bucket, family, runs, p50)."""
    mine = sorted(project)
    theirs = sorted((r[0], r[1], r[2], r[3], float(r[6])) for r in peer)
    return len(mine) == len(theirs) and all(
        a[:4] == b[:4] and abs(a[4] - b[4]) <= 1e-9 * max(1.0, abs(b[4]))
        for a, b in zip(mine, theirs, strict=True))


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _compare_bench(url: str, args) -> None:
    """Snapshot vs one SQL GROUP BY (whole table, one plan) and record_runs vs psql \\copy."""
    import subprocess

    from db.models import AlgorithmRun

    rng = random.Random(42)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    factory = get_sessionmaker(url)
    with factory() as session:
        targets = _seed_sets(session, rng)
        fill_s, _ = _timed(lambda: record_runs(
            session=session, runs=_runs(targets, args.compare_rows, rng, start),
            kind="remeasure"))
        fresh = _seed_sets(session, rng)
        flow = f"plan-{uuid.uuid4().hex[:8]}"
        record_runs(session=session, kind="remeasure",
                    runs=[{**r, "flow_run_id": flow}
                          for r in _runs(fresh, args.plan_runs, rng, datetime.now(UTC))])
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
    print(f"filled {args.compare_rows:,} runs in {fill_s:.1f} s, plus a plan of "
          f"{args.plan_runs} runs on fresh sets")

    snap: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        for scope, where, flow_id in (("whole table", None, None),
                                      ("one plan", AlgorithmRun.flow_run_id == flow, flow)):
            with factory() as session:
                mine_s, mine = _timed(lambda w=where: compute_snapshot(session=session, where=w))
                rows = [(r.algorithm_name, r.size_bucket, r.family, r.run_count, r.time_p50)
                        for r in mine]
                session.rollback()
            with factory() as session:
                peer_s, peer = _timed(lambda f=flow_id: _sql_snapshot(session, f))
            assert _same(rows, peer), f"{scope}: values differ"
            snap.setdefault(f"{scope}: project", []).append(mine_s)
            snap.setdefault(f"{scope}: SQL", []).append(peer_s)
            print(f"  snapshot, {scope}: project {mine_s:.3f} s, one SQL GROUP BY "
                  f"{peer_s:.3f} s ({len(peer)} groups, values equal)", flush=True)
    for scope in ("whole table", "one plan"):
        mine, peer = min(snap[f"{scope}: project"]), min(snap[f"{scope}: SQL"])
        print(f"snapshot, {scope}: project {mine:.3f} s vs SQL GROUP BY {peer:.3f} s; "
              f"ratio {mine / peer:.2f}x")

    tmp = tempfile.mkdtemp(prefix="bench-copy-")
    csv_path = f"{tmp}/runs.csv"
    cols = ", ".join(RUN_COLUMNS)
    pg = make_url(url)
    psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg.host or "127.0.0.1",
            "-p", str(pg.port or 5432), "-U", pg.username or "postgres", "-d", pg.database]
    env = {**os.environ, **({"PGPASSWORD": pg.password} if pg.password else {})}
    insert: dict[str, list[float]] = {"project": [], "psql": []}
    for i in range(args.repeat):
        rows = list(_runs(targets, args.insert_rows, rng, start + timedelta(days=1 + i)))
        with factory() as session:
            before = session.scalar(select(func.max(AlgorithmRun.id)))
            t0 = time.perf_counter()
            record_runs(session=session, runs=rows, kind="remeasure")
            session.commit()
            insert["project"].append(time.perf_counter() - t0)
        # the same rows, as PostgreSQL stores them, to a CSV (not timed), then \copy them in
        subprocess.run([*psql, "-c", f"\\copy (SELECT {cols} FROM algorithm_runs WHERE id > "
                                     f"{before} ORDER BY id) TO '{csv_path}' CSV"],
                       check=True, env=env)
        t0 = time.perf_counter()
        subprocess.run([*psql, "-c", f"\\copy algorithm_runs ({cols}) FROM '{csv_path}' CSV"],
                       check=True, env=env)
        insert["psql"].append(time.perf_counter() - t0)
        print(f"  insert round {i + 1}: record_runs {insert['project'][-1]:.2f} s, "
              f"psql \\copy {insert['psql'][-1]:.2f} s ({args.insert_rows:,} rows each)",
              flush=True)
    mine, peer = min(insert["project"]), min(insert["psql"])
    print(f"insert of {args.insert_rows:,} rows: record_runs {args.insert_rows / mine:,.0f} "
          f"rows/s vs psql \\copy {args.insert_rows / peer:,.0f} rows/s; time ratio "
          f"{mine / peer:.2f}x")


if __name__ == "__main__":
    main()
