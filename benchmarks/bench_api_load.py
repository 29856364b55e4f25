"""Load check of the REST API on loopback: wrk against POST /solve/ (n=100) and GET /results/{id}/.

    .venv/bin/python benchmarks/bench_api_load.py            # sweep, then 60 s at the best level
    .venv/bin/python benchmarks/bench_api_load.py --workers 2 --connections 1 2 4 --duration 60

Creates a throwaway PostgreSQL database (`budget_load_*`, dropped at the end), starts `budget api`
(uvicorn) on it, seeds runs, then for each endpoint runs wrk (one thread, closed loop) at a
rising number of connections for `--probe` seconds each. The highest throughput whose p99 stays
under `--p99-ms` with zero errors is then held for `--duration` seconds and reported.
Needs `wrk` (Debian: `apt-get install wrk`). Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db.migrate import upgrade
from solvers.instances import generate

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"

LUA = r"""
local bodies = {BODIES}
local ids = {IDS}
local mode = "{MODE}"
local counter = 0
request = function()
  counter = counter + 1
  if mode == "solve" then
    local body = bodies[(counter % #bodies) + 1]
    return wrk.format("POST", "/solve/", {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", "/results/" .. ids[(counter % #ids) + 1] .. "/")
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "errors": %d, "non2xx": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown CPU"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin_engine(url: str):
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _post(base: str, path: str, payload: dict) -> dict:
    req = urllib.request.Request(base + path, data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"budget api exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    sys.exit("budget api did not become healthy")


def _lua_list(items: list[str]) -> str:
    return "{" + ",".join(f"[==[{s}]==]" for s in items) + "}"


def _wrk(base: str, script: Path, connections: int, seconds: int) -> dict:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
           "-s", str(script), base]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith('{"requests"'))
    data = json.loads(line)
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    data["connections"] = connections
    return data


def _row(label: str, r: dict, seconds: int) -> str:
    return (f"| {label} | {r['connections']} | {seconds} s | {r['requests']:,} | "
            f"{r['rps']:,.0f} | {r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | "
            f"{r['max_us'] / 1000:.1f} | {r['errors'] + r['non2xx']} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_ADMIN))
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--probe", type=int, default=10, help="seconds per sweep step")
    parser.add_argument("--duration", type=int, default=60, help="seconds of the final run")
    parser.add_argument("--p99-ms", type=float, default=50.0)
    parser.add_argument("--instances", type=int, default=50, help="distinct n=100 instances")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")

    name = f"budget_load_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine(args.admin_url)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url, "head")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": url, "API_PORT": str(port), "API_HOST": "127.0.0.1",
           "API_WORKERS": str(args.workers)}
    multiproc = tempfile.mkdtemp(prefix="prom-") if args.workers > 1 else None
    if multiproc:
        env["PROMETHEUS_MULTIPROC_DIR"] = multiproc
    budget = str(Path(sys.executable).parent / "budget")
    proc = subprocess.Popen([budget, "api", "--no-access-log", "--log-level", "warning"],
                            env=env, cwd=ROOT)
    results: list[str] = []
    load_before = os.getloadavg()
    try:
        _wait_healthy(base, proc)
        bodies, ids = [], []
        for seed in range(args.instances):
            inst = generate("portfolio", 100, seed)
            body = {"projects": inst.projects(), "budget": inst.budget}
            bodies.append(json.dumps(body, separators=(",", ":")))
            ids.append(str(_post(base, "/solve/", body)["run_id"]))
        with tempfile.TemporaryDirectory() as tmp:
            for mode, label in (("solve", "POST /solve/ (n=100)"),
                                ("result", "GET /results/{id}/")):
                script = Path(tmp) / f"{mode}.lua"
                script.write_text(LUA.replace("{BODIES}", _lua_list(bodies))
                                  .replace("{IDS}", _lua_list(ids)).replace("{MODE}", mode))
                best = None
                for c in args.connections:
                    r = _wrk(base, script, c, args.probe)
                    ok = r["errors"] + r["non2xx"] == 0 and r["p99_us"] / 1000 < args.p99_ms
                    print(f"probe {mode} c={c}: {r['rps']:.0f} req/s, p50 "
                          f"{r['p50_us'] / 1000:.1f} ms, p99 {r['p99_us'] / 1000:.1f} ms, "
                          f"errors {r['errors'] + r['non2xx']}{'' if ok else '  (over target)'}",
                          flush=True)
                    if ok and (best is None or r["rps"] > best["rps"]):
                        best = r
                if best is None:
                    results.append(f"| {label} | - | - | - | - | - | - | - | no level met the "
                                   f"p99 < {args.p99_ms:g} ms target |")
                    continue
                final = _wrk(base, script, best["connections"], args.duration)
                results.append(_row(label, final, args.duration))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        if multiproc:
            shutil.rmtree(multiproc, ignore_errors=True)
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    load_after = os.getloadavg()
    print(f"\nMachine: {_cpu_model()}, {os.cpu_count()} cores; Python "
          f"{platform.python_version()}; PostgreSQL on the same host; uvicorn workers: "
          f"{args.workers}; wrk 1 thread, closed loop, loopback. Load average (1 min) before "
          f"{load_before[0]:.2f}, after {load_after[0]:.2f} (other processes share the machine)."
          "\n")
    print("| endpoint | connections | duration | requests | req/s | p50 ms | p99 ms | max ms "
          "| errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
