"""The ml/ split: only ml/serving.py reads the registry; nothing in ml/ imports Prefect."""

from __future__ import annotations

import ast
from pathlib import Path

ML = Path(__file__).resolve().parents[2] / "ml"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_pure_ml_modules_import_neither_db_nor_prefect() -> None:
    """Training, evaluation and features are pure; the database is serving.py's alone."""
    uses_db = {p.name for p in ML.glob("*.py") if "db" in _imports(p)}
    assert uses_db == {"serving.py"}
    framework = {"prefect", "tasks", "flows", "api", "cli"}
    assert not [p.name for p in ML.glob("*.py") if _imports(p) & framework]
