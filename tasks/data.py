"""Dataset tasks: make instances (pure), store them (DB), write them to Parquet (files)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from prefect import task
from prefect.cache_policies import NO_CACHE

from config import get_settings
from db.datasets import create_project_set, get_project_set
from db.engine import mask_url, resolve_url
from db.migrate import ensure_schema
from solvers.files import load_projects
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
    budget_id = next(b.id for b in ps.budgets if float(b.amount) == float(inst["budget"]))
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
def load_projects_file(path: str) -> tuple[list[Any], Any]:
    """Projects (and the file's budget, if it has one) from a CSV, JSON or Parquet file; a file
    over MAX_PROJECTS is refused while it is read, not after."""
    return load_projects(path, max_projects=get_settings().max_projects)


@task(name="build-instance", cache_policy=NO_CACHE)
def build_instance(projects: list[Any], budget: Any, fallback_budget: Any,
                   name: str) -> dict[str, Any]:
    """One instance to store and solve; the budget given wins over the source's own."""
    chosen = budget if budget is not None else fallback_budget
    if chosen is None:
        raise ValueError("budget: none given and the source carries none")
    items = [dict(p) if isinstance(p, dict) else {"cost": p} for p in projects]
    for i, item in enumerate(items):
        item.setdefault("name", f"project-{i}")  # the name db.datasets gives unnamed projects
    return {"name": name[:200], "family": "custom", "n": len(items), "seed": None,
            "params": {"source": name[:200]}, "projects": items, "budget": chosen}
