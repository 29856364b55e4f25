"""The layering of ARCHITECTURE.md, checked by parsing every module's imports."""

from __future__ import annotations

import ast
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
