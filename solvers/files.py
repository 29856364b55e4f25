"""Read projects from CSV, JSON or Parquet (a path, or ``-`` for standard input).

* CSV: a header with a ``cost`` column (case-insensitive), optional ``name``; other columns are
  kept as ``metadata`` (in header order). Costs stay strings until validation, so cents are
  never rounded. The file is streamed row by row: with ``max_projects`` reading stops as soon
  as the row count passes it, so an oversized file costs neither the memory nor the time of
  parsing it whole. Each project's line number is kept, for error messages.
* JSON: a list of projects (objects with ``cost``) or numbers, or an object
  ``{"projects": [...], "budget": ...}``; at most :data:`MAX_JSON_DEPTH` levels of nesting.
* Parquet: a table with a ``cost`` column (read with pyarrow, imported only when needed); the
  row count is checked from the file's footer before any row is read.

Malformed files raise :class:`FileFormatError` naming the file (and the CSV line) and what is
wrong. A file with no projects at all is malformed too. Pure I/O helpers with no project
imports; shared by the CLI, the flows and the API.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

__all__ = ["MAX_COLUMNS", "MAX_FILE_BYTES", "MAX_JSON_DEPTH", "MAX_LINE_CHARS", "FileFormatError",
           "ProjectFile", "load_projects", "read_projects"]

MAX_JSON_DEPTH = 40
"""Deepest nesting of arrays/objects accepted in a JSON projects file (the top level is 1)."""
MAX_FILE_BYTES = 512 << 20
"""Largest projects file read (CSV/JSON size, Parquet uncompressed data): 512 MiB is ~2,500
bytes for each of 200,000 projects; a bigger file would cost gigabytes of memory."""
MAX_LINE_CHARS = 1 << 20
"""Longest CSV line accepted (characters); a longer one is malformed input, not a memory hog."""

MAX_COLUMNS = 1_000
"""Most columns accepted in a CSV header."""

_PROJECT_INDEX = re.compile(r"^projects\[(\d+)\]")


def _short(value: Any, width: int = 60) -> str:
    """``repr(value)`` cut to about ``width`` characters, for one readable error line."""
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 1]}…"


def _listing(names: Sequence[Any], most: int = 12) -> str:
    shown = ", ".join(_short(str(n), 40)[1:-1] for n in names[:most]) or "none"
    return shown if len(names) <= most else f"{shown}, … ({len(names)} in all)"


class FileFormatError(ValueError):
    """A projects file that cannot be read; the message names the file."""


@dataclass
class ProjectFile:
    """What a projects file holds, plus where each project came from (for error messages)."""

    projects: list[Any]
    budget: Any
    source: str
    lines: Sequence[int] | None = None
    """CSV only: the line on which each project's row starts (1 is the header)."""
    columns: list[str] = field(default_factory=list)
    """Metadata columns in file order (CSV header, Parquet schema); empty for JSON."""

    def where(self, index: int | None = None) -> str:
        """``"data.csv line 7"`` for project ``index`` of a CSV, else the source name."""
        if index is not None and self.lines is not None and 0 <= index < len(self.lines):
            return f"{self.source} line {self.lines[index]}"
        return self.source

    def locate(self, message: str) -> str:
        """Prefix a solver error (``projects[5].cost: ...``) with the file and line it concerns."""
        match = _PROJECT_INDEX.match(message)
        return f"{self.where(int(match.group(1)) if match else None)}: {message}"


def _too_many(source: str, limit: int, where: str = "", count: int | None = None
              ) -> FileFormatError:
    if count is not None:
        return FileFormatError(f"{source}: {count:,} projects, more than the maximum of "
                               f"{limit} (MAX_PROJECTS)")
    return FileFormatError(f"{source}{where}: more than the maximum of {limit} projects "
                           "(MAX_PROJECTS); stopped reading there")


def _no_projects(source: str, what: str) -> FileFormatError:
    return FileFormatError(f"{source}: no projects ({what})")


def _rows_from_records(records: list[Any], source: str) -> list[Any]:
    out: list[Any] = []
    for i, rec in enumerate(records):
        if isinstance(rec, dict):
            keys = {str(k).strip().lower(): k for k in rec}
            if "cost" not in keys:
                raise FileFormatError(f"{source}: projects[{i}].cost: is missing")
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


def _first_undecodable_line(path: Path) -> int | None:
    """The number of the first line of ``path`` that is not UTF-8 (None if all are)."""
    with path.open("rb") as raw:
        number = 0
        while line := raw.readline(4 * MAX_LINE_CHARS + 4):  # bounded, like the text reader
            number += 1
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                if exc.reason != "unexpected end of data" or line.endswith(b"\n"):
                    return number
                return None  # a character cut by the bound: not this line's fault
    return None


def _too_big(where: str) -> FileFormatError:
    """``where``: e.g. "data.csv line 9" or "data.json: 600,000,000 bytes,"."""
    limit = (f"{MAX_FILE_BYTES >> 20} MiB" if MAX_FILE_BYTES >= 1 << 20
             else f"{MAX_FILE_BYTES:,} bytes")
    return FileFormatError(f"{where} more than the {limit} a projects file may hold")


def _bounded_lines(stream: TextIO, source: str, path: Path | None = None) -> Iterator[str]:
    """The stream's lines, refusing one longer than MAX_LINE_CHARS (never read whole) and more
    than MAX_FILE_BYTES characters in all."""
    number = total = 0
    while True:
        try:
            line = stream.readline(MAX_LINE_CHARS + 1)
        except UnicodeDecodeError:
            # The decoder works on blocks, so find the offending line itself when we can.
            bad = _first_undecodable_line(path) if path is not None else None
            where = (f" line {bad}" if bad is not None
                     else f" after line {number}" if number else "")
            raise FileFormatError(
                f"{source}{where}: not UTF-8 text (CSV and JSON must be UTF-8)"
            ) from None
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise FileFormatError(
                f"{source} line {number}: longer than {MAX_LINE_CHARS:,} characters"
            )
        total += len(line)
        if total > MAX_FILE_BYTES:
            raise _too_big(f"{source} line {number}: stopped reading there,")
        yield line


def _csv_header(reader: Any, source: str) -> tuple[list[str], int, int | None]:
    """Column names, the index of ``cost`` and of ``name`` (or None)."""
    for row in reader:
        if any(cell.strip() for cell in row):
            break
    else:
        raise _no_projects(source, "the file is empty: no header and no rows")
    if len(row) > MAX_COLUMNS:
        raise FileFormatError(f"{source} line {reader.line_num}: {len(row):,} columns "
                              f"(at most {MAX_COLUMNS:,})")
    columns: list[str] = []
    lowered: list[str] = []
    for j, cell in enumerate(row):
        name = cell.strip() or f"column_{j + 1}"
        if name.lower() in lowered:
            raise FileFormatError(f"{source} line {reader.line_num}: duplicate column "
                                  f"{_short(name)}")
        columns.append(name)
        lowered.append(name.lower())
    if "cost" not in lowered:
        hint = ""
        if len(columns) == 1 and any(sep in columns[0] for sep in ";\t|"):
            hint = "; the file must be comma-separated"
        raise FileFormatError(
            f"{source}: no 'cost' column (columns: {_listing(columns)}){hint}")
    name_at = lowered.index("name") if "name" in lowered else None
    return columns, lowered.index("cost"), name_at


def _count_rows(lines: Iterable[str], source: str, max_projects: int) -> None:
    """Count data rows without keeping any; raise as soon as there are more than allowed."""
    reader = csv.reader(lines, strict=True)
    count = -1  # the header
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                count += 1
                if count > max_projects:
                    raise _too_many(source, max_projects, f" line {reader.line_num}")
    except csv.Error:
        return  # reported, with its line, by the full parse


def _from_csv(lines: Iterable[str], source: str, max_projects: int | None) -> ProjectFile:
    reader = csv.reader(lines, strict=True)
    previous_end = 0  # the last line of the previous record: a failing one starts after it
    try:
        columns, cost_at, name_at = _csv_header(reader, source)
        meta_at = [j for j in range(len(columns)) if j not in (cost_at, name_at)]
        width = len(columns)
        projects: list[Any] = []
        starts = array("L")
        previous_end = reader.line_num
        for row in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank line (or only separators)
            if len(row) > width:
                raise FileFormatError(f"{source} line {start}: more cells than the header "
                                      f"({len(row)} > {width})")
            if len(row) <= cost_at:
                raise FileFormatError(f"{source} line {start}: no 'cost' cell ({len(row)} cells, "
                                      f"the header has {width})")
            if max_projects is not None and len(projects) >= max_projects:
                raise _too_many(source, max_projects, f" line {start}")
            project: dict[str, Any] = {"cost": row[cost_at]}
            if name_at is not None and name_at < len(row) and row[name_at] != "":
                project["name"] = row[name_at]
            if meta_at:
                project["metadata"] = {columns[j]: row[j] if j < len(row) else ""
                                       for j in meta_at}
            projects.append(project)
            starts.append(start)
    except csv.Error as exc:
        hint = "; a quote is never closed" if "end of data" in str(exc) else ""
        raise FileFormatError(
            f"{source} line {previous_end + 1}: malformed CSV ({exc}{hint})") from None
    if not projects:
        raise _no_projects(source, "a header but no rows")
    return ProjectFile(projects, None, source, starts, [columns[j] for j in meta_at])


def _depth_problem(data: Any) -> bool:
    """True when ``data`` nests deeper than MAX_JSON_DEPTH (checked without recursion)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_JSON_DEPTH:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, dict | list))
    return False


_SPACE = re.compile(r"[ \t\n\r]*")


def _skip(text: str, i: int) -> int:
    match = _SPACE.match(text, i)
    return match.end() if match else i


def _count_json_array(decoder: json.JSONDecoder, text: str, i: int, source: str,
                      max_projects: int) -> None:
    """Decode the array at ``text[i]`` one element at a time, keeping none, and raise as soon
    as it has more than ``max_projects`` elements."""
    i, count = _skip(text, i + 1), 0
    if text.startswith("]", i):
        return
    while True:
        _, i = decoder.raw_decode(text, i)
        count += 1
        if count > max_projects:
            raise _too_many(source, max_projects)
        i = _skip(text, i)
        if not text.startswith(",", i):
            return
        i = _skip(text, i + 1)


def _precount_json(text: str, source: str, max_projects: int) -> None:
    """Refuse an oversized projects list before decoding the document whole.

    Only ever raises the too-many error; anything unusual (malformed JSON, no projects list)
    is left to ``json.loads``, which reports it.
    """
    decoder = json.JSONDecoder()
    try:
        i = _skip(text, 0)
        if text.startswith("[", i):
            _count_json_array(decoder, text, i, source, max_projects)
            return
        if not text.startswith("{", i):
            return
        i = _skip(text, i + 1)
        while text.startswith('"', i):
            key, i = decoder.raw_decode(text, i)
            i = _skip(text, i)
            if not text.startswith(":", i):
                return
            i = _skip(text, i + 1)
            if key == "projects" and text.startswith("[", i):
                _count_json_array(decoder, text, i, source, max_projects)
                return
            _, i = decoder.raw_decode(text, i)
            i = _skip(text, i)
            if not text.startswith(",", i):
                return
            i = _skip(text, i + 1)
    except FileFormatError:
        raise
    except (ValueError, RecursionError):  # malformed: json.loads will say what and where
        return


def _from_json(text: str, source: str, max_projects: int | None) -> ProjectFile:
    if not text.strip():
        raise _no_projects(source, "the file is empty")
    if max_projects is not None:
        _precount_json(text, source, max_projects)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{source}: malformed JSON ({exc})") from None
    except RecursionError:
        raise FileFormatError(
            f"{source}: JSON nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    except ValueError as exc:  # e.g. an integer literal beyond Python's digit limit
        raise FileFormatError(f"{source}: unreadable JSON ({exc})") from None
    document, budget = data, None
    if isinstance(data, dict):
        if "projects" not in data:
            raise FileFormatError(f"{source}: a JSON object needs a 'projects' list")
        budget = data.get("budget")
        data = data["projects"]
    if not isinstance(data, list):
        raise FileFormatError(f"{source}: expected a list of projects")
    if not data:
        raise _no_projects(source, "the projects list is empty")
    if max_projects is not None and len(data) > max_projects:  # before the walk below
        raise _too_many(source, max_projects, count=len(data))
    if _depth_problem(document):
        raise FileFormatError(
            f"{source}: JSON nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    return ProjectFile(_rows_from_records(data, source), budget, source)


def _from_parquet(path: Path, max_projects: int | None) -> ProjectFile:
    import pyarrow.parquet as pq  # optional dependency, only for Parquet input

    try:
        parquet = pq.ParquetFile(path)
        names = list(parquet.schema_arrow.names)
        if "cost" not in [c.lower() for c in names]:
            raise FileFormatError(f"{path}: no 'cost' column (columns: {_listing(names)})")
        if max_projects is not None and parquet.metadata.num_rows > max_projects:
            raise _too_many(str(path), max_projects, count=parquet.metadata.num_rows)
        meta = parquet.metadata
        data_bytes = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if data_bytes > MAX_FILE_BYTES:
            raise _too_big(f"{path}: {data_bytes:,} bytes of data uncompressed,")
        table = parquet.read()
    except FileFormatError:
        raise
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise FileFormatError(f"{path}: not a readable Parquet file ({exc})") from None
    if table.num_rows == 0:
        raise _no_projects(str(path), "the table has no rows")
    columns = [c for c in names if c.lower() not in {"cost", "name"}]
    return ProjectFile(_rows_from_records(table.to_pylist(), str(path)), None, str(path),
                       columns=columns)


def _text_stdin() -> TextIO:
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # already text (e.g. a StringIO in tests)
        return sys.stdin
    return io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")


def _from_stdin(max_projects: int | None) -> ProjectFile:
    stream = _text_stdin()
    lines = _bounded_lines(stream, "<stdin>")
    head: list[str] = []
    for line in lines:
        if not head:
            line = line.lstrip("\ufeff")  # a BOM the stream kept (text already decoded)
        head.append(line)
        if line.strip():
            break
    first = "".join(head).lstrip()
    if first[:1] in ("[", "{"):
        try:
            rest = stream.read(MAX_FILE_BYTES + 1)
        except UnicodeDecodeError:
            raise FileFormatError("<stdin>: not UTF-8 text (CSV and JSON must be UTF-8)") from None
        if len(rest) > MAX_FILE_BYTES:
            raise _too_big("<stdin>: JSON of")
        return _from_json("".join(head) + rest, "<stdin>", max_projects)
    return _from_csv(itertools.chain(head, lines), "<stdin>", max_projects)


def read_projects(source: str | Path, *, max_projects: int | None = None) -> ProjectFile:
    """The projects in ``source`` (path or ``-``), the file's budget if any, and their lines.

    ``max_projects``: refuse (and stop reading) a file with more projects than this.
    """
    if str(source) == "-":
        return _from_stdin(max_projects)
    path = Path(source)
    if path.is_dir():
        raise FileFormatError(f"{path}: is a directory, not a projects file")
    if not path.exists():
        raise FileFormatError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _from_parquet(path, max_projects)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES and suffix in (".json", ".csv", ".txt"):
        raise _too_big(f"{path}: {size:,} bytes,")
    if suffix == ".json":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise FileFormatError(f"{path}: not UTF-8 text (CSV and JSON must be UTF-8)") from None
        return _from_json(text, str(path), max_projects)
    if suffix in (".csv", ".txt"):
        with path.open(encoding="utf-8-sig", newline="") as stream:
            if max_projects is not None and stream.seekable():
                # A counting pass first: an oversized file is refused in a fraction of the time
                # and with none of the memory that building its projects would take.
                _count_rows(_bounded_lines(stream, str(path), path), str(path), max_projects)
                stream.seek(0)
            return _from_csv(_bounded_lines(stream, str(path), path), str(path), max_projects)
    raise FileFormatError(f"{path}: unknown file type {suffix!r} (use .csv, .json or .parquet)")


def load_projects(source: str | Path, *, max_projects: int | None = None
                  ) -> tuple[list[Any], Any]:
    """Projects from ``source`` (path or ``-``), and the budget if the file carries one."""
    loaded = read_projects(source, max_projects=max_projects)
    return loaded.projects, loaded.budget
