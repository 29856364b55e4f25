"""Cold start-up of the `budget` CLI: medians of N fresh processes.

    python benchmarks/bench_cli_start.py [--runs 7] [--server] [--pipeline-runs 3]

Times (wall, each a new process, so every import is paid): `budget --help`, `budget --version`,
`budget solve data/examples/portfolio.csv --budget 1000`. With `--server`, also starts `budget
server start --port 0` (timed once) in a temporary DATA_DIR and times a small pipeline command
(`budget generate --sizes 5 --per-size 1 --families uniform --no-parquet --json`) against it:
the whole command, Prefect's start-up included, is an upper bound of the orchestration
start-up a second pipeline command pays; then stops the server. Everything runs in a temporary
DATA_DIR with its own SQLite DATABASE_URL (the user's data is never touched).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET = str(Path(sys.executable).with_name("budget"))
EXAMPLE = ROOT / "data" / "examples" / "portfolio.csv"


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return elapsed


def median_of(label: str, argv: list[str], env: dict[str, str], runs: int) -> None:
    times = [timed(argv, env) for _ in range(runs)]
    print(f"{label:<58} median {statistics.median(times):6.3f} s   "
          f"min {min(times):6.3f}  max {max(times):6.3f}  (n={runs})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--server", action="store_true",
                        help="also time a pipeline command against `budget server start`")
    parser.add_argument("--pipeline-runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as data:
        env = {**os.environ, "DATA_DIR": data,
               "DATABASE_URL": f"sqlite:///{Path(data) / 'budget.db'}"}
        env.pop("PREFECT_API_URL", None)
        print(f"python {sys.version.split()[0]}, {BUDGET}")
        median_of("budget --help", [BUDGET, "--help"], env, args.runs)
        median_of("budget --version", [BUDGET, "--version"], env, args.runs)
        median_of("budget solve portfolio.csv --budget 1000",
                  [BUDGET, "solve", str(EXAMPLE), "--budget", "1000"], env, args.runs)
        if args.server:
            started = time.perf_counter()
            subprocess.run([BUDGET, "server", "start", "--port", "0"], env=env, check=True,
                           capture_output=True, timeout=300)
            print(f"{'budget server start (once)':<58} {time.perf_counter() - started:6.3f} s",
                  flush=True)
            try:
                pipeline = [BUDGET, "generate", "--sizes", "5", "--per-size", "1", "--families",
                            "uniform", "--no-parquet", "--json"]
                timed(pipeline, env)  # the first one migrates the new SQLite database
                median_of("budget generate (tiny) with the server running", pipeline, env,
                          args.pipeline_runs)
            finally:
                subprocess.run([BUDGET, "server", "stop"], env=env, capture_output=True,
                               timeout=120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
