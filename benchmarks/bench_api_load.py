"""Load check of the REST API on loopback: wrk against POST /solve/ (n=100) and GET /results/{id}/.

    .venv/bin/python benchmarks/bench_api_load.py            # sweep, then 60 s at the best level
    .venv/bin/python benchmarks/bench_api_load.py --workers 2 --connections 1 2 4 --duration 60

Creates a throwaway PostgreSQL database (`budget_load_*`, dropped at the end), starts `budget api`
(uvicorn) on it, seeds runs, then for each endpoint runs wrk (one thread) for `--probe` seconds
per step: back to back at a rising number of connections, then paced at fixed rates (each
connection waits so all together send about the target rate). The step with the highest
throughput whose p99 stays under `--p99-ms` with zero errors is then held for `--duration`
seconds and reported.
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
local pause = {DELAY}
if pause > 0 then
  -- exponential pauses (Poisson arrivals) so the connections never march in step
  math.randomseed(os.time())
  delay = function() return math.floor(-math.log(1 - math.random()) * pause) end
end
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


def _script(folder: Path, mode: str, bodies: list[str], ids: list[str], connections: int,
            rate: float | None) -> Path:
    """The wrk Lua script; with `rate`, each connection pauses a random (exponential) time
    so all of them together send about `rate` requests per second (wrk's `delay`; a little
    less, since a connection also waits for its responses), else they send back to back."""
    pause = int(connections * 1000 / rate) if rate else 0
    path = folder / f"{mode}-{connections}-{rate}.lua"
    path.write_text(LUA.replace("{BODIES}", _lua_list(bodies)).replace("{IDS}", _lua_list(ids))
                    .replace("{MODE}", mode).replace("{DELAY}", str(pause)))
    return path


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
    pace = f"{r['target']:g}/s" if r.get("target") else "back to back"
    return (f"| {label} | {r['connections']} | {pace} | {seconds} s | {r['requests']:,} | "
            f"{r['rps']:,.0f} | {r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | "
            f"{r['max_us'] / 1000:.1f} | {r['errors'] + r['non2xx']} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_ADMIN))
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 2, 4, 8],
                        help="closed-loop sweep: connections sending back to back")
    parser.add_argument("--paced-connections", type=int, default=4,
                        help="connections for the paced (fixed-rate) steps")
    parser.add_argument("--solve-rates", type=float, nargs="*", default=[25, 50, 75, 100],
                        help="paced steps for POST /solve/ (requests per second)")
    parser.add_argument("--result-rates", type=float, nargs="*", default=[100, 200, 300],
                        help="paced steps for GET /results/{id}/ (requests per second)")
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
           "API_WORKERS": str(args.workers),
           "API_AUTH": "off"}  # a throwaway database on loopback: the load, not the key check
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
            for mode, label, rates in (("solve", "POST /solve/ (n=100)", args.solve_rates),
                                       ("result", "GET /results/{id}/", args.result_rates)):
                # (connections, rate): the closed-loop sweep, then the paced rates
                steps = [(c, None) for c in args.connections]
                steps += [(args.paced_connections, r) for r in rates]
                best = None
                for c, rate in steps:
                    script = _script(Path(tmp), mode, bodies, ids, c, rate)
                    r = _wrk(base, script, c, args.probe)
                    r["target"] = rate
                    ok = r["errors"] + r["non2xx"] == 0 and r["p99_us"] / 1000 < args.p99_ms
                    target = f"target {rate:g}/s" if rate else "back to back"
                    print(f"probe {mode} c={c} {target}: {r['rps']:.0f} req/s, p50 "
                          f"{r['p50_us'] / 1000:.1f} ms, p99 {r['p99_us'] / 1000:.1f} ms, "
                          f"errors {r['errors'] + r['non2xx']}{'' if ok else '  (over target)'}",
                          flush=True)
                    if ok and (best is None or r["rps"] > best["rps"]):
                        best = r
                if best is None:
                    results.append(f"| {label} | - | - | - | - | - | - | - | - | no level met "
                                   f"the p99 < {args.p99_ms:g} ms target |")
                    continue
                script = _script(Path(tmp), mode, bodies, ids, best["connections"],
                                 best["target"])
                final = _wrk(base, script, best["connections"], args.duration)
                final["target"] = best["target"]
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
    print("| endpoint | connections | pace | duration | requests | req/s | p50 ms | p99 ms "
          "| max ms | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
