"""Dataset tasks: make instances (pure), store them (DB), write them to Parquet (files), and the
solve flow's sources: a stored dataset, a projects file read only inside `INPUT_DIRS`, the
bundled example, or CSV text pasted in the form (read by the same CSV reader as a file).

Errors of a file (or CSV text) source never quote it: `load-projects-file` raises the loader's
`public` message (file as given, line, field), and `build-instance` checks every amount with the
one money rule and every name and metadata cell for what the database cannot store, naming the
file, line and field but not the value. So nothing in a state message, a log line or an
artifact repeats a file's content, and nothing is stored before the whole instance is valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from prefect import task
from prefect.cache_policies import NO_CACHE

from config import EXAMPLE_PORTFOLIO, get_settings
from db.base import NAME_LENGTH
from db.datasets import create_project_set, get_project_set
from db.engine import mask_url, resolve_url
from db.migrate import ensure_schema
from solvers import InvalidInputError
from solvers.files import FileFormatError, read_projects
from solvers.files import read_csv_text as read_csv_text_of
from solvers.money import STORED_LIMIT, parse_money
from tasks import plan
from tasks._io import IO_RETRIES, db_session, unavailable_on_connection_loss


@task(name="ensure-schema", cache_policy=NO_CACHE, **IO_RETRIES)
def ensure_database(database_url: str | None) -> str:
    """Migrate the database to head if needed; returns its URL with the password masked."""
    with unavailable_on_connection_loss(database_url):
        ensure_schema(database_url)
    return mask_url(resolve_url(database_url))


@task(name="make-instances", cache_policy=NO_CACHE)
def make_instances(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Generate the seeded instances of `specs` (pure, deterministic)."""
    return plan.generate_instances(specs)


def _store(session: Any, inst: dict[str, Any]) -> dict[str, Any]:
    ps, created = create_project_set(
        session=session, name=inst["name"], projects=inst["projects"], budgets=[inst["budget"]],
        family=inst["family"],
        generator_params={"family": inst["family"], "n": inst["n"], "seed": inst["seed"],
                          **inst["params"]},
    )
    amount = parse_money(inst["budget"], "budget", limit=STORED_LIMIT)
    exact = [b.id for b in ps.budgets if parse_money(b.amount, limit=STORED_LIMIT) == amount]
    # SQLite keeps NUMERIC as REAL: from about 10**13 with cents the stored amount is the float's
    budget_id = exact[0] if exact else next(
        b.id for b in ps.budgets if float(b.amount) == float(amount))
    return {"dataset_id": ps.id, "budget_id": budget_id, "created": created,
            "name": inst["name"], "family": inst["family"], "n": inst["n"],
            "seed": inst["seed"], "content_hash": ps.content_hash,
            "costs": [p["cost"] for p in inst["projects"]], "budget": inst["budget"]}


@task(name="store-datasets", cache_policy=NO_CACHE, **IO_RETRIES)
def store_datasets(instances: list[dict[str, Any]], database_url: str | None) -> list[dict]:
    """Store instances as project sets in one transaction (idempotent by content hash)."""
    with db_session(database_url) as session:
        return [_store(session, inst) for inst in instances]


def datasets_dir(data_dir: str | None) -> Path:
    """`<data_dir>/datasets` (default: the settings' data_dir)."""
    return Path(data_dir or get_settings().data_dir) / "datasets"


@task(name="write-datasets-parquet", cache_policy=NO_CACHE, **IO_RETRIES)
def write_datasets_parquet(instances: Sequence[dict[str, Any]], stored: Sequence[dict],
                           data_dir: str | None) -> list[str]:
    """One Parquet file per dataset (name, cost; budget and seed in the schema metadata),
    named by content hash so a rerun writes nothing new. Returns the paths."""
    paths = []
    for inst, row in zip(instances, stored, strict=True):
        path = datasets_dir(data_dir) / inst["family"] / f"{row['content_hash'][:16]}.parquet"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            costs = [p["cost"] for p in inst["projects"]]
            table = pa.table({"name": [p["name"] for p in inst["projects"]],
                              "cost": pa.array(costs, pa.float64() if isinstance(costs[0], float)
                                               else pa.int64())})
            meta = {"budget": str(inst["budget"]), "family": inst["family"],
                    "n": str(inst["n"]), "seed": str(inst["seed"]),
                    "dataset_id": str(row["dataset_id"])}
            table = table.replace_schema_metadata(meta)
            tmp = path.with_suffix(".tmp")
            pq.write_table(table, tmp)
            tmp.replace(path)  # atomic: a killed run leaves no half-written file behind
        paths.append(str(path))
    return paths


@task(name="load-dataset", cache_policy=NO_CACHE, **IO_RETRIES)
def load_dataset(dataset_id: int, database_url: str | None) -> dict[str, Any]:
    """A stored dataset's projects and its budgets (first budget first)."""
    with db_session(database_url) as session:
        history = get_project_set(session=session, set_id=dataset_id, limit=1)
        ps = history.project_set
        return {"dataset_id": ps.id, "name": ps.name, "family": ps.family,
                "projects": [{"name": p.name, "cost": str(p.cost)} for p in ps.projects],
                "budgets": [{"id": b.id, "amount": str(b.amount)} for b in ps.budgets]}


@task(name="load-projects-file", cache_policy=NO_CACHE, **IO_RETRIES)
def load_projects_file(path: str) -> dict[str, Any]:
    """Projects (and the file's budget, if it has one) from a CSV, JSON or Parquet file inside
    the input folders (`INPUT_DIRS`; `-`, devices and paths leading out are refused); a file
    over MAX_PROJECTS is refused while it is read, not after. Returns `projects`, `budget`,
    `file` (the path as given) and `lines` (CSV: each project's line). An error names the file,
    the line and the field, never the file's content."""
    settings = get_settings()
    try:
        loaded = read_projects(path, max_projects=settings.max_projects,
                               within=settings.input_folders(), name=path)
    except FileFormatError as exc:
        raise FileFormatError(exc.public) from None
    return {"projects": loaded.projects, "budget": loaded.budget, "file": path,
            "lines": list(loaded.lines) if loaded.lines is not None else None}


@task(name="load-example", cache_policy=NO_CACHE, **IO_RETRIES)
def load_example() -> dict[str, Any]:
    """The bundled example portfolio (`config.EXAMPLE_PORTFOLIO`, package data), shaped like
    `load-projects-file`'s answer; read wherever INPUT_DIRS points (it is ours, not a user's)."""
    name = f"example:{EXAMPLE_PORTFOLIO.name}"
    loaded = read_projects(EXAMPLE_PORTFOLIO, name=name)
    return {"projects": loaded.projects, "budget": loaded.budget, "file": name,
            "lines": list(loaded.lines) if loaded.lines is not None else None}


CSV_TEXT_NAME = "source.text"
"""How errors name CSV text pasted in the solve form (the field it came from)."""


@task(name="read-csv-text", cache_policy=NO_CACHE)
def read_csv_text(text: str, name: str = CSV_TEXT_NAME) -> dict[str, Any]:
    """Projects from CSV text (pasted in the solve form), read by the same CSV reader as a
    file (`solvers.files.read_csv_text`: the money rule on each cost, NUL refused, MAX_PROJECTS
    and the size caps); shaped like `load-projects-file`'s answer, `file` being `name`. An
    error names `name`, the line and the field, never the text."""
    try:
        loaded = read_csv_text_of(text, name=name, max_projects=get_settings().max_projects)
    except FileFormatError as exc:
        raise FileFormatError(exc.public) from None
    return {"projects": loaded.projects, "budget": None, "file": name,
            "lines": list(loaded.lines) if loaded.lines is not None else None}


def _text_problem(value: Any) -> str | None:
    """Why `value` (a name, or metadata: every key and string inside) cannot be stored as
    text, or None."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
        elif isinstance(node, str):
            if "\x00" in node:
                return "contains a NUL character (\\x00), which cannot be stored as text"
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return "contains a lone UTF-16 surrogate, which is not text"
    return None


class _Where:
    """Names what is wrong: with a file, its name (as given), the line and the field, never
    the value; inline (the caller's own input), the field and the value."""

    def __init__(self, origin: dict[str, Any] | None) -> None:
        self.file = origin.get("file") if origin else None
        self.lines = origin.get("lines") if origin else None

    def at(self, index: int | None) -> str:
        if self.file is None:
            return ""
        if index is not None and self.lines and 0 <= index < len(self.lines):
            return f"{self.file} line {self.lines[index]}: "
        return f"{self.file}: "

    def money(self, value: Any, field: str, index: int | None, from_file: bool) -> Any:
        try:
            return parse_money(value, field, limit=STORED_LIMIT)
        except InvalidInputError as exc:
            if from_file and self.file is not None:  # the value is the file's content
                raise ValueError(f"{self.at(index)}{field}: {exc.problem}") from None
            raise


@task(name="build-instance", cache_policy=NO_CACHE)
def build_instance(projects: list[Any], budget: Any, fallback_budget: Any,
                   name: str, origin: dict[str, Any] | None = None) -> dict[str, Any]:
    """One instance to store and solve; the budget given wins over the source's own.

    Every amount passes the one money rule (`solvers.money`, below the database's limit) and
    every name and metadata value is checked for what the database cannot store, here, before
    anything is stored (`0.1 + 0.2` is refused, never stored as 0.30). `origin`: the file the
    projects came from (`load-projects-file`'s `file` and `lines`); its errors name the file,
    the line and the field, never the value."""
    where = _Where(origin)
    from_file_budget = budget is None
    chosen = budget if budget is not None else fallback_budget
    if chosen is None:
        raise ValueError("budget: none given and the source carries none")
    amount = where.money(chosen, "budget", None, from_file_budget)
    items: list[dict[str, Any]] = []
    for i, p in enumerate(projects):
        item = dict(p) if isinstance(p, dict) else {"cost": p}
        if "cost" not in item:
            raise ValueError(f"{where.at(i)}projects[{i}].cost: is missing")
        item["cost"] = where.money(item["cost"], f"projects[{i}].cost", i, True)
        label = item.setdefault("name", f"project-{i}")  # the name db.datasets gives unnamed ones
        if not isinstance(label, str):
            raise ValueError(f"{where.at(i)}projects[{i}].name: must be text")
        if len(label) > NAME_LENGTH:
            raise ValueError(f"{where.at(i)}projects[{i}].name: longer than {NAME_LENGTH} "
                             "characters")
        for field in ("name", "metadata"):
            problem = _text_problem(item[field]) if item.get(field) is not None else None
            if problem:
                raise ValueError(f"{where.at(i)}projects[{i}].{field}: {problem}")
        items.append(item)
    return {"name": name[:200], "family": "custom", "n": len(items), "seed": None,
            "params": {"source": name[:200]}, "projects": items, "budget": amount}
