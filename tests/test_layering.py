"""The layering of ARCHITECTURE.md, checked by parsing every module's imports."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = {"solvers", "ml", "db", "tasks", "flows", "api", "cli", "config", "migrations"}
# package -> project packages and frameworks it must not import
FORBIDDEN = {
    "solvers": PROJECT - {"solvers"} | {"prefect", "sqlalchemy", "fastapi", "logging.config"},
    "ml": {"db", "tasks", "flows", "api", "cli", "prefect"},  # ml/serving.py: see below
    "db": {"solvers", "ml", "tasks", "flows", "api", "cli", "prefect"},
}

# Deliberate exceptions, each with its reason. ml/serving.py loads the champion from the model
# registry (db) for its consumers (API, solve flow); the rest of ml/ stays pure.
ALLOWED = {("ml", "serving.py", "db")}
# Whole modules a package may import although their package is forbidden to it. db/ reads and
# writes money with the one money rule, `solvers.money` (pure, standard library only), so a
# value gets the same verdict in the db layer as at every other door; nothing else of solvers.
ALLOWED_MODULES = {("db", "solvers.money")}


def _imports(path: Path) -> set[str]:
    """Every module `path` imports (`from a import b` counts as `a`: `from solvers import money`
    is `solvers`, not the allowed `solvers.money`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _forbidden(package: str, filename: str, name: str) -> bool:
    top = name.split(".")[0]
    if (package, filename, top) in ALLOWED or (package, name) in ALLOWED_MODULES:
        return False
    return top in FORBIDDEN[package] or name in FORBIDDEN[package]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_down_only(package: str) -> None:
    """No module of a lower layer imports a higher layer or a framework it must not know."""
    folder = ROOT / package
    if not folder.exists():
        pytest.skip(f"{package}/ does not exist yet")
    offenders = [f"{path.relative_to(ROOT)} imports {name}"
                 for path in folder.rglob("*.py") for name in _imports(path)
                 if _forbidden(package, path.name, name)]
    assert not offenders, offenders


@pytest.mark.parametrize(("name", "forbidden"), [
    ("solvers.money", False), ("solvers", True), ("solvers._instance", True),
    ("solvers.money_extra", True), ("ml.serving", True),
])
def test_db_may_import_solvers_money_and_nothing_else_of_solvers(name: str,
                                                                 forbidden: bool) -> None:
    """The db layer's one exception is exactly the module `solvers.money`."""
    assert _forbidden("db", "anything.py", name) is forbidden


def test_only_tasks_and_flows_import_prefect() -> None:
    """Prefect is imported only by tasks/ and flows/ (and the CLI that serves them)."""
    allowed = {"tasks", "flows", "cli", "tests", "benchmarks"}
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in allowed or rel.parts[0].startswith("."):
            continue
        if any(n.split(".")[0] == "prefect" for n in _imports(path)):
            offenders.append(str(rel))
    assert not offenders, offenders


# --- dependencies: the base install is light, every optional import belongs to an extra ----------

BASE_MODULES = {"numpy", "pydantic", "pydantic_core", "pydantic_settings"}
"""What `pip install budget-allocation` (no extra) brings, as import names."""


def _third_party(path: Path, *, module_level_only: bool = False) -> set[str]:
    """Top-level names of the non-standard, non-project modules `path` imports (only the
    statements run at import time when `module_level_only`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    tops = {n.split(".")[0] for n in names}
    return {t for t in tops if t not in sys.stdlib_module_names and t not in PROJECT
            and t != "__future__"}


def test_every_optional_import_belongs_to_an_extra() -> None:
    """Each third-party module the runtime packages import is a base dependency or listed in
    `config.extras.EXTRAS` (so a missing one is reported with the extra to install)."""
    from config.extras import EXTRAS

    known = BASE_MODULES | {m for mods in EXTRAS.values() for m in mods}
    offenders = sorted(f"{path.relative_to(ROOT)} imports {name}"
                       for package in PROJECT for path in (ROOT / package).rglob("*.py")
                       for name in _third_party(path) - known)
    assert not offenders, offenders


def test_the_extras_of_pyproject_are_the_ones_config_extras_names() -> None:
    """pyproject.toml's extras are config.extras' plus `all`, which installs every one; the dev
    tools, benchmark peers and browser are dependency groups, not published extras."""
    from config.extras import EXTRAS

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = meta["project"]["optional-dependencies"]
    assert set(extras) == set(EXTRAS) | {"all"}
    assert extras["all"] == [f"budget-allocation[{','.join(EXTRAS)}]"]
    assert {"dev", "bench", "browser"} <= set(meta["dependency-groups"])
    base = {re.split(r"[<>=!~\[; ]", d)[0].lower() for d in meta["project"]["dependencies"]}
    assert base == {"numpy", "pydantic", "pydantic-settings"}


def test_import_solvers_needs_numpy_only() -> None:
    """At import time solvers/ loads NumPy and the standard library only (pyarrow, pydantic and
    numba stay inside the functions that need them)."""
    offenders = sorted(f"{path.relative_to(ROOT)} imports {name}"
                       for path in (ROOT / "solvers").rglob("*.py")
                       for name in _third_party(path, module_level_only=True) - {"numpy"})
    assert not offenders, offenders


def test_every_pinned_requirement_is_in_the_lock() -> None:
    """requirements/lock.txt pins one version of each package (a constraints file: `name==x`)
    and covers every direct dependency of pyproject.toml, extras and groups included."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lines = [line for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    pins = {}
    for line in lines:
        name, sep, version = line.partition("==")
        assert sep and version and " " not in line, line
        key = re.sub(r"[-_.]+", "-", name).lower()
        assert key not in pins, f"{name} pinned twice"
        pins[key] = version
    direct = [*meta["project"]["dependencies"],
              *(d for deps in meta["project"]["optional-dependencies"].values() for d in deps),
              *(d for deps in meta["dependency-groups"].values() for d in deps)]
    names = {re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", d)[0]).lower() for d in direct}
    missing = sorted(names - set(pins) - {"budget-allocation"})
    assert not missing, missing
