#!/usr/bin/env python3
"""Bootstrap and run the project with nothing but Python 3.11+.

    python3 scripts/dev.py main          # install what the demo needs, run the main job
    python3 scripts/dev.py test [ARGS]   # install everything (all extras + dev, bench, browser
                                         # groups), run the whole test suite
    python3 scripts/dev.py budget ARGS   # run the `budget` CLI inside the project's venv
                                         # (all extras: any command works)
    python3 scripts/dev.py lock          # upgrade: re-resolve the newest versions into the lock

`main` writes the user's data (./data: budget.db, exports, logs and models); `test` never
reads or writes it: every test runs on its own throwaway database, data folder and Prefect home
(tests/conftest.py), so the two commands pass in either order, any number of times.

Reproducible: every install takes its versions from `requirements/lock.txt` (a pip constraints
file: the versions the suite passed with), the installers (pip, setuptools) included, and builds
the project without build isolation, so nothing resolves to "the newest" behind your back. The
virtual environment lives in `.venv/` (or `$BUDGET_VENV`); it is (re)installed only when
`pyproject.toml` or the lock changed since the last install, so repeated runs start at once.
`lock` is the one upgrade command: it installs everything unconstrained into a throwaway venv and
writes what resolved back to the lock (then run `test`, which reinstalls from it).
Standard library only: this file runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
VENV = Path(os.environ.get("BUDGET_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")

# The main job: the end-to-end demo (generate, benchmark, snapshot, export, train, solve) on the
# embedded defaults: a temporary Prefect server and the SQLite file data/budget.db.
MAIN_JOB = ["demo"]

# What each command installs: (extras, dependency groups). A profile covers the ones after it in
# COVERS, so `main` after `test` installs nothing.
PROFILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "main": ("pipeline,ml", ()),
    "budget": ("all", ()),
    "test": ("all", ("dev", "bench", "browser")),
}
COVERS = {"test": {"test", "budget", "main"}, "budget": {"budget", "main"}, "main": {"main"}}
INSTALLERS = ("pip", "setuptools")  # pinned in the lock; setuptools builds the project

LOCK_HEADER = """\
# The tested versions of every package the project installs (all extras, the dev, bench and browser
# groups, and the installers), one `name==version` a line. A pip constraints file: installs use
# `pip install -c requirements/lock.txt ...` and get exactly these versions of whatever the
# chosen extras need, nothing more. scripts/dev.py, .ci/run and the Dockerfile install from it.
#
# Upgrade everything (newest versions that satisfy pyproject.toml), then run the tests:
#     python3 scripts/dev.py lock
# Generated from the environment the test suite passed in; edit only through that command.
"""


def _log(msg: str) -> None:
    print(f"[dev] {msg}", file=sys.stderr, flush=True)


def _check_python() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs on any python3 first
        sys.exit(f"Python 3.11+ is required, this is {sys.version.split()[0]}")


def _digest() -> str:
    h = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", LOCK):
        h.update(path.read_bytes() if path.exists() else b"")
        h.update(b"\0")
    return h.hexdigest()


def _pip(python: Path) -> list[str]:
    return [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]


def _groups(groups: tuple[str, ...]) -> list[str]:
    return [arg for g in groups for arg in ("--group", f"{ROOT / 'pyproject.toml'}:{g}")]


def ensure_env(profile: str) -> None:
    """Create the venv and install `profile` from the lock if pyproject.toml or the lock changed
    since the last install (or the installed profiles do not cover this one)."""
    _check_python()
    if not PY.exists():
        _log(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp_file = VENV / ".installed.json"
    digest = _digest()
    try:
        stamp = json.loads(stamp_file.read_text())
    except (OSError, ValueError):
        stamp = {}
    done = set(stamp.get("profiles", [])) if stamp.get("digest") == digest else set()
    if any(profile in COVERS[p] for p in done if p in COVERS):
        return
    extras, groups = PROFILES[profile]
    _log(f"installing [{extras}]{' + ' + ', '.join(groups) if groups else ''} "
         f"from {LOCK.relative_to(ROOT)} (first run, or pyproject.toml / the lock changed)")
    lock = ["-c", str(LOCK)]
    subprocess.run([*_pip(PY), *lock, *INSTALLERS], check=True)
    subprocess.run([*_pip(PY), *lock, "--no-build-isolation", "-e", f"{ROOT}[{extras}]",
                    *_groups(groups)], check=True)
    _check_locked()
    stamp_file.write_text(json.dumps({"digest": digest, "profiles": sorted(done | {profile})}))


def _names(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        name, sep, version = line.strip().partition("==")
        if sep and not name.startswith("#"):
            pins[name.lower().replace("_", "-")] = version
    return pins


def _check_locked() -> None:
    """Everything installed must be pinned by the lock (a dependency added to pyproject.toml
    without `dev.py lock` would otherwise install at whatever version is newest): a warning, a
    failure under CI=true."""
    frozen = subprocess.run([str(PY), "-m", "pip", "freeze", "--all", "--exclude-editable"],
                            check=True, capture_output=True, text=True).stdout.splitlines()
    pins = _names(LOCK.read_text().splitlines())
    loose = sorted(f"{name}=={version}" for name, version in _names(frozen).items()
                   if name not in pins and name != "budget-allocation")
    if not loose:
        return
    _log(f"not pinned in {LOCK.relative_to(ROOT)}: {', '.join(loose)}; "
         "run `python3 scripts/dev.py lock` and commit the lock")
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        sys.exit(1)


def upgrade_lock() -> int:
    """Resolve the newest versions allowed by pyproject.toml (everything: all extras and groups)
    in a throwaway venv and write them to the lock."""
    _check_python()
    with tempfile.TemporaryDirectory(prefix="budget-lock-") as tmp:
        env_dir = Path(tmp) / "venv"
        _log(f"resolving the newest versions in a throwaway venv ({env_dir})")
        venv.EnvBuilder(with_pip=True).create(env_dir)
        py = env_dir / ("Scripts" if os.name == "nt" else "bin") / PY.name
        subprocess.run([*_pip(py), "--upgrade", *INSTALLERS], check=True)
        extras, groups = PROFILES["test"]
        # Editable: the project's own build would otherwise leave build/ in the checkout.
        subprocess.run([*_pip(py), "-e", f"{ROOT}[{extras}]", *_groups(groups)], check=True)
        frozen = subprocess.run([str(py), "-m", "pip", "freeze", "--all"], check=True,
                                capture_output=True, text=True).stdout.splitlines()
    keep = [line for line in frozen if "==" in line
            and not line.lower().startswith(("budget-allocation==", "budget_allocation=="))]
    installers = [line for line in keep if line.split("==")[0].lower() in INSTALLERS]
    rest = sorted((line for line in keep if line not in installers), key=str.lower)
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    LOCK.write_text(LOCK_HEADER + "".join(f"{line}\n" for line in [*installers, *rest]))
    _log(f"wrote {LOCK.relative_to(ROOT)} ({len(keep)} packages); now run: "
         "python3 scripts/dev.py test (it reinstalls from the new lock)")
    return 0


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
        ensure_env("main")
        return _run([str(BIN / "budget"), *MAIN_JOB, *rest])
    if command == "test":
        ensure_env("test")
        code = _run([str(PY), "-m", "pytest", *rest])
        if code == 5:  # pytest: "no tests ran" is a failure, not a pass
            _log("pytest collected no tests: treating as a failure")
            return 1
        return code
    if command == "budget":
        ensure_env("budget")
        return _run([str(BIN / "budget"), *rest])
    if command == "lock":
        return upgrade_lock()
    print(f"unknown command {command!r}; expected one of: main, test, budget, lock",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
