"""Read projects from CSV, JSON or Parquet (a path, or ``-`` for standard input).

* CSV: a header with a ``cost`` column (case-insensitive), optional ``name``; other columns are
  kept as ``metadata`` (in header order; empty cells are left out, so an empty column costs no
  memory). Each cost cell, stripped of surrounding whitespace, goes through the one money rule
  (:func:`solvers.money.parse_money`): the project's ``cost`` is its exact ``int`` or
  ``Decimal``, never a float. The file is streamed row by row: with ``max_projects`` reading
  stops as soon as the row count passes it, so an oversized file costs neither the memory nor
  the time of parsing it whole. Each project's line number is kept, for error messages. A NUL
  byte in any cell is refused (no database stores it in text).
* JSON: a list of projects (objects with ``cost``) or numbers, or an object
  ``{"projects": [...], "budget": ...}``; at most :data:`MAX_JSON_DEPTH` levels of nesting.
  Numbers are read by their text (:func:`solvers.money.loads`: fractions become ``Decimal``),
  so an amount is never rounded through a binary float; in ``metadata`` they become floats
  again (metadata is not money).
* Parquet: a table with a ``cost`` column (read with pyarrow, imported only when needed); the
  row count is checked from the file's footer before any row is read.

**Memory.** Besides :data:`MAX_FILE_BYTES` of file, the projects a file becomes may take at
most :data:`MAX_PARSED_BYTES` (1 GiB) of RAM, counted with ``sys.getsizeof`` as they are built
(CSV: row by row, reading stops at the row that passes the cap; JSON: element by element before
the document is decoded whole). A wide CSV therefore costs memory per non-empty cell, and never
more than the cap, whatever the number of columns.

**Two kinds of caller.** The CLI runs as the local user and may read any path (and ``-``).
A Prefect flow (a UI user) passes ``within=`` the configured input folders: the path, resolved
(symlinks and ``..``), must be a regular file inside one of them (a relative path is taken
relative to each folder in turn); ``-``, devices, FIFOs and directories are refused (see
:func:`confine`).

Malformed files raise :class:`FileFormatError` naming the file (and the CSV line) and what is
wrong. Its message may quote the file (a cell, a column name) for the local user;
``error.public`` names only the file as given, the line and the field, never the content, and is
what a flow shows. A file with no projects at all is malformed too. Pure I/O helpers (the
standard library and :mod:`solvers.money`); shared by the CLI, the flows and the API.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import stat
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from ._errors import InvalidInputError
from .money import loads as money_loads
from .money import parse_money

__all__ = ["MAX_COLUMNS", "MAX_FILE_BYTES", "MAX_JSON_DEPTH", "MAX_LINE_CHARS", "MAX_PARSED_BYTES",
           "FileFormatError", "ProjectFile", "confine", "load_projects", "read_projects"]

MAX_JSON_DEPTH = 40
"""Deepest nesting of arrays/objects accepted in a JSON projects file (the top level is 1)."""
MAX_FILE_BYTES = 512 << 20
"""Largest projects file read (CSV/JSON size, Parquet uncompressed data): 512 MiB is ~2,500
bytes for each of 200,000 projects; a bigger file would cost gigabytes of memory."""
MAX_LINE_CHARS = 1 << 20
"""Longest CSV line accepted (characters); a longer one is malformed input, not a memory hog."""

MAX_COLUMNS = 1_000
"""Most columns accepted in a CSV header."""

MAX_PARSED_BYTES = 1 << 30
"""Most RAM (bytes, 1 GiB) the projects read from one file may take once parsed, counted with
``sys.getsizeof`` over the objects kept (dicts, strings, amounts) as they are built. Reading
stops, with an error, at the row (CSV) or element (JSON) that passes it."""

_PROJECT_INDEX = re.compile(r"^projects\[(\d+)\]")


def _short(value: Any, width: int = 60) -> str:
    """``repr(value)`` cut to about ``width`` characters, for one readable error line."""
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 1]}…"


def _listing(names: Sequence[Any], most: int = 12) -> str:
    shown = ", ".join(_short(str(n), 40)[1:-1] for n in names[:most]) or "none"
    return shown if len(names) <= most else f"{shown}, … ({len(names)} in all)"


class FileFormatError(ValueError):
    """A projects file that cannot be read; the message names the file.

    ``str(error)`` is for the local user and may quote the file (a cell, a column name).
    ``error.public`` says the same without any of the file's content: the file as given, the
    line and the field. Flows show only ``public``."""

    def __init__(self, message: str, public: str | None = None) -> None:
        super().__init__(message)
        self.public = message if public is None else public


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


def _nul_field(value: Any) -> bool:
    """True when a NUL character hides anywhere in ``value`` (strings, dict keys, lists)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return False


def _plain_numbers(value: Any) -> Any:
    """``value`` with every ``Decimal`` (a JSON fraction) turned back into a float: metadata is
    not money, and the database stores it as JSON."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    return value


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
                project["metadata"] = _plain_numbers(meta)
            for what in ("name", "metadata"):
                if what in project and _nul_field(project[what]):
                    raise _nul(source, f"projects[{i}].{what}")
            out.append(project)
        else:
            out.append(rec)
    return out


def _nul(where: str, what: str) -> FileFormatError:
    return FileFormatError(f"{where}: {what}: contains a NUL character (\\x00), which cannot "
                           "be stored as text")


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
    where = f"{source} line {reader.line_num}"
    if len(row) > MAX_COLUMNS:
        raise FileFormatError(f"{where}: {len(row):,} columns (at most {MAX_COLUMNS:,})")
    columns: list[str] = []
    lowered: list[str] = []
    for j, cell in enumerate(row):
        name = cell.strip() or f"column_{j + 1}"
        if "\x00" in name:
            raise _nul(where, f"column {j + 1} of the header")
        if name.lower() in lowered:
            raise FileFormatError(f"{where}: duplicate column {_short(name)}",
                                  f"{where}: duplicate column (column {j + 1})")
        columns.append(name)
        lowered.append(name.lower())
    if "cost" not in lowered:
        hint = ""
        if len(columns) == 1 and any(sep in columns[0] for sep in ";\t|"):
            hint = "; the file must be comma-separated"
        raise FileFormatError(
            f"{source}: no 'cost' column (columns: {_listing(columns)}){hint}",
            f"{source}: no 'cost' column in the header ({len(columns)} columns){hint}")
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


def _csv_cost(cell: str, where: str, index: int) -> int | Decimal:
    """The money rule on a cost cell (surrounding whitespace stripped, as CSV users expect)."""
    field = f"projects[{index}].cost"
    try:
        return parse_money(cell.strip(), field)
    except InvalidInputError as exc:
        raise FileFormatError(f"{where}: {field}: {exc.problem} (got {_short(exc.value)})",
                              f"{where}: {field}: {exc.problem}") from None


def _too_much_memory(where: str) -> FileFormatError:
    return FileFormatError(f"{where}: the projects read so far take more than "
                           f"{MAX_PARSED_BYTES:,} bytes of memory (MAX_PARSED_BYTES); stopped "
                           "reading there")


_ROW_BYTES = 16  # a project's slot in the list of projects and its line number in `starts`


def _from_csv(lines: Iterable[str], source: str, max_projects: int | None) -> ProjectFile:
    reader = csv.reader(lines, strict=True)
    previous_end = 0  # the last line of the previous record: a failing one starts after it
    sizeof = sys.getsizeof
    try:
        columns, cost_at, name_at = _csv_header(reader, source)
        meta_at = [(j, columns[j]) for j in range(len(columns)) if j not in (cost_at, name_at)]
        width = len(columns)
        projects: list[Any] = []
        starts = array("L")
        used = 0  # bytes of RAM the projects kept so far take (MAX_PARSED_BYTES)
        previous_end = reader.line_num
        for row in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank line (or only separators)
            where = f"{source} line {start}"
            if len(row) > width:
                raise FileFormatError(f"{where}: more cells than the header "
                                      f"({len(row)} > {width})")
            if len(row) <= cost_at:
                raise FileFormatError(f"{where}: no 'cost' cell ({len(row)} cells, "
                                      f"the header has {width})")
            if max_projects is not None and len(projects) >= max_projects:
                raise _too_many(source, max_projects, f" line {start}")
            cost = _csv_cost(row[cost_at], where, len(projects))
            project: dict[str, Any] = {"cost": cost}
            if name_at is not None and name_at < len(row) and row[name_at] != "":
                name = row[name_at]
                if "\x00" in name:
                    raise _nul(where, "name")
                project["name"] = name
                used += sizeof(name)
            if meta_at:
                meta = {}
                for j, column in meta_at:
                    if j < len(row) and (cell := row[j]) != "":  # an empty cell is no metadata
                        if "\x00" in cell:
                            raise _nul(where, f"column {j + 1}")
                        meta[column] = cell
                        used += sizeof(cell)
                if meta:
                    project["metadata"] = meta
                    used += sizeof(meta)
            used += sizeof(project) + sizeof(cost) + _ROW_BYTES
            if used > MAX_PARSED_BYTES:
                raise _too_much_memory(where)
            projects.append(project)
            starts.append(start)
    except csv.Error as exc:
        hint = "; a quote is never closed" if "end of data" in str(exc) else ""
        raise FileFormatError(
            f"{source} line {previous_end + 1}: malformed CSV ({exc}{hint})") from None
    if not projects:
        raise _no_projects(source, "a header but no rows")
    return ProjectFile(projects, None, source, starts, [column for _, column in meta_at])


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


def _deep_size(value: Any) -> int:
    """Bytes of RAM ``value`` takes: ``sys.getsizeof`` of it and of everything it holds."""
    total, stack = 0, [value]
    while stack:
        node = stack.pop()
        total += sys.getsizeof(node)
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return total


class _Tally:
    """Elements and bytes of RAM counted while pre-decoding a JSON document."""

    def __init__(self, source: str, max_projects: int | None) -> None:
        self.source, self.max_projects, self.count, self.used = source, max_projects, 0, 0

    def add(self, value: Any, project: bool) -> None:
        self.used += _deep_size(value)
        if self.used > MAX_PARSED_BYTES:
            where = f"projects[{self.count}]" if project else "the document"
            raise _too_much_memory(f"{self.source}: {where}")
        if project:
            self.count += 1
            if self.max_projects is not None and self.count > self.max_projects:
                raise _too_many(self.source, self.max_projects)


def _count_json_array(decoder: json.JSONDecoder, text: str, i: int, tally: _Tally) -> int:
    """Decode the array at ``text[i]`` one element at a time, keeping none; the tally raises as
    soon as there are more elements, or more bytes, than allowed. Returns the end of it."""
    i = _skip(text, i + 1)
    if text.startswith("]", i):
        return i + 1
    while True:
        value, i = decoder.raw_decode(text, i)
        tally.add(value, project=True)
        del value
        i = _skip(text, i)
        if not text.startswith(",", i):
            return i
        i = _skip(text, i + 1)


def _precount_json(text: str, source: str, max_projects: int | None) -> None:
    """Refuse an oversized projects list (too many projects, or more than MAX_PARSED_BYTES of
    RAM once decoded) before decoding the document whole.

    Only ever raises those errors; anything unusual (malformed JSON, no projects list) is left
    to the full decode, which reports it.
    """
    decoder = json.JSONDecoder(parse_float=Decimal)  # what the full decode builds
    tally = _Tally(source, max_projects)
    try:
        i = _skip(text, 0)
        if text.startswith("[", i):
            _count_json_array(decoder, text, i, tally)
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
                i = _count_json_array(decoder, text, i, tally)
            else:
                value, i = decoder.raw_decode(text, i)
                tally.add(value, project=False)
                del value
            i = _skip(text, i)
            if not text.startswith(",", i):
                return
            i = _skip(text, i + 1)
    except FileFormatError:
        raise
    except (ValueError, RecursionError):  # malformed: the full decode will say what and where
        return


def _from_json(text: str, source: str, max_projects: int | None) -> ProjectFile:
    if not text.strip():
        raise _no_projects(source, "the file is empty")
    _precount_json(text, source, max_projects)
    try:
        data = money_loads(text)  # numbers by their text: fractions as Decimal
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{source}: malformed JSON ({exc})") from None
    except RecursionError:
        raise FileFormatError(
            f"{source}: JSON nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    except ValueError as exc:  # e.g. an integer literal beyond Python's digit limit
        raise FileFormatError(f"{source}: unreadable JSON ({exc})",
                              f"{source}: unreadable JSON") from None
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


def _from_parquet(path: Path, source: str, max_projects: int | None) -> ProjectFile:
    try:
        import pyarrow.parquet as pq  # optional dependency, only for Parquet input
    except ImportError:
        raise FileFormatError(f"{source}: reading Parquet needs pyarrow (the [pipeline] extra: "
                              "pip install 'budget-allocation[pipeline]')") from None

    records: list[Any] = []
    try:
        parquet = pq.ParquetFile(path)
        names = list(parquet.schema_arrow.names)
        if "cost" not in [c.lower() for c in names]:
            raise FileFormatError(
                f"{source}: no 'cost' column (columns: {_listing(names)})",
                f"{source}: no 'cost' column ({len(names)} columns)")
        if max_projects is not None and parquet.metadata.num_rows > max_projects:
            raise _too_many(source, max_projects, count=parquet.metadata.num_rows)
        meta = parquet.metadata
        data_bytes = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if data_bytes > MAX_FILE_BYTES:
            raise _too_big(f"{source}: {data_bytes:,} bytes of data uncompressed,")
        used = 0
        for batch in parquet.iter_batches(batch_size=8192):  # Python objects a batch at a time
            rows = batch.to_pylist()
            used += sum(_deep_size(row) for row in rows)
            if used > MAX_PARSED_BYTES:
                raise _too_much_memory(f"{source}: row {len(records) + len(rows)}")
            records += rows
    except FileFormatError:
        raise
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise FileFormatError(f"{source}: not a readable Parquet file ({exc})",
                              f"{source}: not a readable Parquet file") from None
    if not records:
        raise _no_projects(source, "the table has no rows")
    columns = [c for c in names if c.lower() not in {"cost", "name"}]
    return ProjectFile(_rows_from_records(records, source), None, source, columns=columns)


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


def confine(source: str | Path, folders: Sequence[str | Path]) -> Path:
    """The regular file ``source`` names inside one of ``folders`` (resolved: symlinks and
    ``..`` followed), for a caller who is not the local user (a Prefect flow run).

    An absolute path must resolve inside a folder; a relative one is tried against each folder
    in turn (the first existing file wins). Refused, with a :class:`FileFormatError` naming the
    path as given: ``-`` (standard input), a path that resolves outside every folder (a symlink
    leading out included), a missing file, a directory, a device or a FIFO.
    """
    given = str(source)
    if given.strip() == "-":
        raise FileFormatError("path: '-' (standard input) cannot be read by a flow; give a file "
                              "inside the input folders (INPUT_DIRS)")
    if not given.strip() or "\x00" in given:
        raise FileFormatError("path: not a file name")
    roots = []
    for folder in folders:
        try:
            roots.append(Path(folder).resolve())
        except (OSError, RuntimeError):
            continue
    if not roots:
        raise FileFormatError(f"{given}: no input folder is configured (INPUT_DIRS)")
    path = Path(given)
    candidates = [path] if path.is_absolute() else [root / path for root in roots]
    outside = False
    for candidate in candidates:
        try:
            real = candidate.resolve()
        except (OSError, RuntimeError):  # a symlink loop, a name too long
            raise FileFormatError(f"{given}: cannot be resolved (a symlink loop?)") from None
        if not any(real == root or real.is_relative_to(root) for root in roots):
            outside = True
            continue
        try:
            mode = real.stat().st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise FileFormatError(f"{given}: cannot be read ({exc.strerror})") from None
        if stat.S_ISDIR(mode):
            raise FileFormatError(f"{given}: is a directory, not a projects file")
        if not stat.S_ISREG(mode):
            raise FileFormatError(f"{given}: not a regular file (a device, FIFO or socket)")
        return real
    if outside:
        raise FileFormatError(f"{given}: outside the input folders (INPUT_DIRS); a flow reads "
                              "only files inside them")
    raise FileFormatError(f"{given}: no such file in the input folders (INPUT_DIRS)")


def read_csv_text(text: str, *, name: str, max_projects: int | None = None) -> ProjectFile:
    """The projects in CSV ``text`` (e.g. pasted in a form), read exactly as a CSV file is
    (:func:`read_projects`); ``name`` is how messages name it."""
    if max_projects is not None:  # the same counting pass first as for a file
        _count_rows(_bounded_lines(io.StringIO(text, newline=""), name), name, max_projects)
    return _from_csv(_bounded_lines(io.StringIO(text, newline=""), name), name, max_projects)


def read_projects(source: str | Path, *, max_projects: int | None = None,
                  within: Sequence[str | Path] | None = None,
                  name: str | None = None) -> ProjectFile:
    """The projects in ``source`` (path or ``-``), the file's budget if any, and their lines.

    ``max_projects``: refuse (and stop reading) a file with more projects than this.
    ``within``: read only a regular file inside these folders (:func:`confine`; a flow's
    caller); None: any path, and ``-`` for standard input (the CLI, the local user).
    ``name``: how messages name the file (default: ``source`` as given).
    """
    if within is not None:
        path = confine(source, within)
        label = name or str(source)
    elif str(source) == "-":
        return _from_stdin(max_projects)
    else:
        path = Path(source)
        label = name or str(path)
        if path.is_dir():
            raise FileFormatError(f"{label}: is a directory, not a projects file")
        if not path.exists():
            raise FileFormatError(f"{label}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return _from_parquet(path, label, max_projects)
        if suffix not in (".json", ".csv", ".txt"):
            raise FileFormatError(
                f"{label}: unknown file type {suffix!r} (use .csv, .json or .parquet)")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _too_big(f"{label}: {size:,} bytes,")
        if suffix == ".json":
            try:
                text = path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError:
                raise FileFormatError(
                    f"{label}: not UTF-8 text (CSV and JSON must be UTF-8)") from None
            return _from_json(text, label, max_projects)
        with path.open(encoding="utf-8-sig", newline="") as stream:
            if max_projects is not None and stream.seekable():
                # A counting pass first: an oversized file is refused in a fraction of the time
                # and with none of the memory that building its projects would take.
                _count_rows(_bounded_lines(stream, label, path), label, max_projects)
                stream.seek(0)
            return _from_csv(_bounded_lines(stream, label, path), label, max_projects)
    except OSError as exc:  # unreadable (permissions, I/O): named, never a traceback
        raise FileFormatError(f"{label}: cannot be read ({exc.strerror or exc})",
                              f"{label}: cannot be read ({exc.strerror or 'I/O error'})"
                              ) from None


def load_projects(source: str | Path, *, max_projects: int | None = None
                  ) -> tuple[list[Any], Any]:
    """Projects from ``source`` (path or ``-``), and the budget if the file carries one."""
    loaded = read_projects(source, max_projects=max_projects)
    return loaded.projects, loaded.budget
