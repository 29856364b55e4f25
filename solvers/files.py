"""Read projects from CSV, JSON or Parquet (a path, or ``-`` for standard input).

* CSV: a header with a ``cost`` column (case-insensitive), optional ``name``; other columns are
  kept as ``metadata``. Costs stay strings until validation, so cents are never rounded.
* JSON: a list of projects (objects with ``cost``) or numbers, or an object
  ``{"projects": [...], "budget": ...}``.
* Parquet: a table with a ``cost`` column (read with pyarrow, imported only when needed).

Malformed files raise :class:`FileFormatError` naming the file and what is wrong.
Pure I/O helpers with no project imports; shared by the CLI, the flows and the API.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["FileFormatError", "load_projects"]


class FileFormatError(ValueError):
    """A projects file that cannot be read; the message names the file."""


def _rows_from_records(records: list[Any], source: str) -> list[Any]:
    out: list[Any] = []
    for i, rec in enumerate(records):
        if isinstance(rec, dict):
            keys = {str(k).strip().lower(): k for k in rec}
            if "cost" not in keys:
                raise FileFormatError(f"{source}: project {i} has no 'cost' field")
            project: dict[str, Any] = {"cost": rec[keys["cost"]]}
            if "name" in keys and rec[keys["name"]] not in (None, ""):
                project["name"] = str(rec[keys["name"]])
            meta = {k: v for k, v in rec.items()
                    if str(k).strip().lower() not in {"cost", "name", "metadata"}}
            if isinstance(rec.get("metadata"), dict):
                meta.update(rec["metadata"])
            if meta:
                project["metadata"] = meta
            out.append(project)
        else:
            out.append(rec)
    return out


def _from_csv(text: str, source: str) -> list[Any]:
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "cost" not in fields:
        raise FileFormatError(
            f"{source}: no 'cost' column (columns: {', '.join(reader.fieldnames or []) or 'none'})"
        )
    try:
        records = [dict(row) for row in reader]
    except csv.Error as exc:
        raise FileFormatError(f"{source}: malformed CSV ({exc})") from None
    for i, rec in enumerate(records):
        if None in rec:  # more cells than header columns
            raise FileFormatError(f"{source}: line {i + 2} has more cells than the header")
    return _rows_from_records(records, source)


def _from_json(text: str, source: str) -> tuple[list[Any], Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{source}: malformed JSON ({exc})") from None
    budget = None
    if isinstance(data, dict):
        if "projects" not in data:
            raise FileFormatError(f"{source}: a JSON object needs a 'projects' list")
        budget = data.get("budget")
        data = data["projects"]
    if not isinstance(data, list):
        raise FileFormatError(f"{source}: expected a list of projects")
    return _rows_from_records(data, source), budget


def _from_parquet(path: Path) -> list[Any]:
    import pyarrow.parquet as pq  # optional dependency, only for Parquet input

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise FileFormatError(f"{path}: not a readable Parquet file ({exc})") from None
    if "cost" not in [c.lower() for c in table.column_names]:
        columns = ", ".join(table.column_names)
        raise FileFormatError(f"{path}: no 'cost' column (columns: {columns})")
    return _rows_from_records(table.to_pylist(), str(path))


def load_projects(source: str | Path) -> tuple[list[Any], Any]:
    """Projects from ``source`` (path or ``-``), and the budget if the file carries one."""
    if str(source) == "-":
        text = sys.stdin.read()
        if text.lstrip()[:1] in ("[", "{"):
            return _from_json(text, "<stdin>")
        return _from_csv(text, "<stdin>"), None
    path = Path(source)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _from_parquet(path), None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise FileFormatError(f"{path}: not UTF-8 text (CSV and JSON must be UTF-8)") from None
    if suffix == ".json":
        return _from_json(text, str(path))
    if suffix in (".csv", ".txt"):
        return _from_csv(text, str(path)), None
    raise FileFormatError(f"{path}: unknown file type {suffix!r} (use .csv, .json or .parquet)")
