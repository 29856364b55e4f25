#!/usr/bin/env python3
"""Bootstrap and run the project with nothing but Python 3.11+.

    python3 scripts/dev.py main          # install the runtime, run the main job
    python3 scripts/dev.py test [ARGS]   # install runtime + dev tools, run the whole test suite
    python3 scripts/dev.py budget ARGS   # run the `budget` CLI inside the project's venv

`main` writes the user's data (data/budget.db, data/ exports, logs and models); `test` never
reads or writes it: every test runs on its own throwaway database, data folder and Prefect home
(tests/conftest.py), so the two commands pass in either order, any number of times.

The virtual environment lives in `.venv/` (or `$BUDGET_VENV`). It is (re)installed only when
`pyproject.toml` changed since the last install, so repeated runs start at once.
Standard library only: this file runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("BUDGET_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")

# The main job: the end-to-end demo (generate, benchmark, snapshot, export, train, solve) on the
# embedded defaults: a temporary Prefect server and the SQLite file data/budget.db.
MAIN_JOB = ["demo"]


def _log(msg: str) -> None:
    print(f"[dev] {msg}", file=sys.stderr, flush=True)


def ensure_env(extra: str | None) -> None:
    """Create the venv and install the project (with `extra`) if pyproject.toml changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs on any python3 first
        sys.exit(f"Python 3.11+ is required, this is {sys.version.split()[0]}")
    if not PY.exists():
        _log(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / f".installed-{extra or 'runtime'}"
    if stamp.exists() and stamp.read_text().strip() == digest:
        return
    target = f"{ROOT}[{extra}]" if extra else str(ROOT)
    _log(f"installing {'runtime + ' + extra if extra else 'runtime'} dependencies (first run only)")
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", target], check=True)
    stamp.write_text(digest)


def _run(cmd: list[str]) -> int:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.call(cmd, cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "main":
        ensure_env(None)
        return _run([str(BIN / "budget"), *MAIN_JOB, *rest])
    if command == "test":
        ensure_env("dev")
        code = _run([str(PY), "-m", "pytest", *rest])
        if code == 5:  # pytest: "no tests ran" is a failure, not a pass
            _log("pytest collected no tests: treating as a failure")
            return 1
        return code
    if command == "budget":
        ensure_env(None)
        return _run([str(BIN / "budget"), *rest])
    print(f"unknown command {command!r}; expected one of: main, test, budget", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
