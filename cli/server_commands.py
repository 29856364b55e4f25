"""`budget server start|stop|status`: a local Prefect server that the pipeline commands reuse.

Without a server, every pipeline command (`generate`, `benchmark`, `export`, `replay`, `demo`,
`train`) makes Prefect start a temporary one (15-50 s here). `budget server start` starts
`prefect server start` once, as a background process, and the pipeline commands then talk to
it (about 2 s of Prefect start-up instead).

Where it lives: its own `PREFECT_HOME` under the data folder, `<DATA_DIR>/prefect/` (its SQLite
database, `server.log`), so a project's runs stay with the project's data and never mix with the
user's own Prefect home; the state file `<DATA_DIR>/prefect/budget-server.json` records its
URLs, pid and home. `PREFECT_API_DATABASE_CONNECTION_URL` in the environment (PostgreSQL) is
passed on as for any Prefect server.

Which server a pipeline command uses (`use_server`): `PREFECT_API_URL` when it is set (the
environment or the active Prefect profile); else the server of the state file when it answers;
else Prefect's own temporary server (a hint says how to avoid it).

Only public interfaces: the `prefect server start` command, its `/api/health` route, and the
`PREFECT_API_URL` / `PREFECT_HOME` settings as environment variables.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._errors import EXIT_NO_ANSWER, EXIT_OK, EXIT_OS_ERROR, CommandError

STATE_FILE = "budget-server.json"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4200
START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


def server_home(data_dir: str | Path | None = None) -> Path:
    """`<DATA_DIR>/prefect`: the managed server's PREFECT_HOME."""
    if data_dir is None:
        from config import get_settings

        data_dir = get_settings().data_dir
    return Path(data_dir) / "prefect"


def state_path(data_dir: str | Path | None = None) -> Path:
    return server_home(data_dir) / STATE_FILE


def read_state(data_dir: str | Path | None = None) -> dict[str, Any] | None:
    try:
        state = json.loads(state_path(data_dir).read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and state.get("api_url") else None


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """Whether the Prefect API at `api_url` answers its health check."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as resp:
            return resp.status == 200
    except (OSError, ValueError):
        return False


def _alive(pid: int) -> bool:
    """The process exists and (where /proc tells) is a Prefect server, not a reused pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: not ours
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        with contextlib.suppress(OSError):
            return b"prefect" in cmdline.read_bytes()
    return True


def running_server(data_dir: str | Path | None = None) -> dict[str, Any] | None:
    """The state of the managed server when its process is alive and its API answers."""
    state = read_state(data_dir)
    if state is None or not _alive(int(state.get("pid", 0))):
        return None
    return state if healthy(state["api_url"]) else None


def use_server() -> str | None:
    """Point this process at a running Prefect server, before Prefect is imported: the
    `PREFECT_API_URL` given, else the managed server's URL (exported as `PREFECT_API_URL`, so
    Dask workers inherit it). None: Prefect will start a temporary server (or use the URL of
    the active Prefect profile)."""
    url = os.environ.get("PREFECT_API_URL")
    if url:
        return url
    state = running_server()
    if state is None:
        return None
    os.environ["PREFECT_API_URL"] = state["api_url"]
    return state["api_url"]


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def spawn(home: Path, host: str, port: int, timeout: float = START_TIMEOUT
          ) -> dict[str, Any]:
    """Start `prefect server start` in the background (its own session, PREFECT_HOME=`home`,
    output in `home/server.log`) and wait until its API answers. The state, not yet saved."""
    home.mkdir(parents=True, exist_ok=True)
    log = home / "server.log"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFECT_API_URL", "PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1")
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", host,
             "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
    base = f"http://{_url_host(host)}:{port}"
    state = {"url": base, "api_url": f"{base}/api", "pid": proc.pid, "host": host,
             "port": port, "home": str(home), "log": str(log),
             "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CommandError(f"the Prefect server exited at start-up (code {proc.returncode}); "
                               f"see {log}", code=EXIT_OS_ERROR, kind="ServerError")
        if healthy(state["api_url"], timeout=1.0):
            return state
        time.sleep(0.25)
    terminate(proc.pid)
    raise CommandError(f"the Prefect server did not answer within {timeout:g} s; see {log}",
                       code=EXIT_OS_ERROR, kind="ServerError")


def terminate(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the server's process group (it was started in its own session), SIGKILL after
    `timeout` seconds."""
    def signal_group(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)

    signal_group(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # our own child (tests): reap it
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    signal_group(signal.SIGKILL)


@contextlib.contextmanager
def temporary_server(timeout: float = START_TIMEOUT) -> Iterator[str]:
    """A `prefect server start` of this command's own (a temporary PREFECT_HOME, a free port),
    exported as `PREFECT_API_URL` while the block runs: for Dask workers, which must report to
    the flow's server, when no server is running."""
    with tempfile.TemporaryDirectory(prefix="budget-prefect-") as home:
        state = spawn(Path(home), DEFAULT_HOST, _free_port(DEFAULT_HOST), timeout)
        os.environ["PREFECT_API_URL"] = state["api_url"]
        try:
            yield state["api_url"]
        finally:
            os.environ.pop("PREFECT_API_URL", None)
            terminate(state["pid"])


# ------------------------------------------------------------------ commands


def _emit(args: argparse.Namespace, doc: dict[str, Any], line: str) -> None:
    print(json.dumps(doc) if args.json else line, flush=True)


def _describe(state: dict[str, Any]) -> str:
    return (f"{state['api_url']} (UI {state['url']}; pid {state['pid']}; PREFECT_HOME "
            f"{state['home']}; log {state['log']})")


def handle_start(args: argparse.Namespace) -> int:
    state = running_server()
    if state is not None:
        _emit(args, {"running": True, "started": False, **state},
              f"already running: {_describe(state)}")
        return EXIT_OK
    host = args.host
    port = _free_port(host) if args.port == 0 else args.port
    if not 0 < port < 65536:
        raise CommandError(f"--port: must be in [0, 65535] (got {args.port})", field="port",
                           value=args.port)
    if not _port_free(host, port):
        raise CommandError(f"{host}:{port} is in use (another Prefect server?): choose "
                           "another with --port, or --port 0 for any free port",
                           code=EXIT_OS_ERROR, kind="AddressInUse", field="port", value=port)
    state = spawn(server_home(), host, port, args.timeout)
    path = state_path()
    path.write_text(json.dumps(state, indent=2))
    _emit(args, {"running": True, "started": True, **state},
          f"started: {_describe(state)}\npipeline commands use it; or "
          f"export PREFECT_API_URL={state['api_url']}")
    return EXIT_OK


def handle_status(args: argparse.Namespace) -> int:
    state = running_server()
    given = os.environ.get("PREFECT_API_URL")
    doc: dict[str, Any] = {"running": state is not None, **(state or {}),
                           "state_file": str(state_path()), "prefect_api_url": given}
    if state is None:
        line = "not running (`budget server start` starts one)"
    else:
        line = f"running: {_describe(state)}"
    if given:
        line += f"\nPREFECT_API_URL is set: pipeline commands use {given}"
    _emit(args, doc, line)
    return EXIT_OK if state is not None else EXIT_NO_ANSWER


def handle_stop(args: argparse.Namespace) -> int:
    state = read_state()
    path = state_path()
    if state is None or not _alive(int(state.get("pid", 0))):
        path.unlink(missing_ok=True)  # a stale state file: the server is gone already
        _emit(args, {"running": False, "stopped": False}, "not running")
        return EXIT_OK
    terminate(int(state["pid"]))
    path.unlink(missing_ok=True)
    _emit(args, {"running": False, "stopped": True, "pid": state["pid"]},
          f"stopped the Prefect server (pid {state['pid']})")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `server` with `start`, `stop`, `status`."""
    parser = subparsers.add_parser(
        "server", help="a local Prefect server the pipeline commands reuse: start, stop, status",
        description="Manage a local Prefect server (`prefect server start` in the background, "
                    "PREFECT_HOME=<DATA_DIR>/prefect, state in <DATA_DIR>/prefect/"
                    f"{STATE_FILE}). While it runs, pipeline commands use it instead of "
                    "starting a temporary server each time; PREFECT_API_URL, when set, wins.",
        epilog="exit status: 0 done (status: running); 1 the server could not start (port in "
               "use, start-up failed); 3 status: not running.")
    commands = parser.add_subparsers(dest="server_command", metavar="COMMAND", required=True)
    start = commands.add_parser("start", help="start the server in the background (or say "
                                "where it already runs)")
    start.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    start.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"default {DEFAULT_PORT}; 0: any free port")
    start.add_argument("--timeout", type=float, default=START_TIMEOUT,
                       help=f"seconds to wait for it to answer (default {START_TIMEOUT:g})")
    start.set_defaults(handler=handle_start)
    status = commands.add_parser("status", help="running or not, and its URL")
    status.set_defaults(handler=handle_status)
    stop = commands.add_parser("stop", help="stop the server started by `budget server start`")
    stop.set_defaults(handler=handle_stop)
    for sub in (start, status, stop):
        sub.add_argument("--json", action="store_true", help="print one JSON object")
