"""`generate-datasets`: seeded datasets stored as project sets and as Parquet (idempotent)."""

from __future__ import annotations

from prefect import flow

from flows._runtime import refuse_hidden_fields, scheduled_date
from flows.names import GENERATE_FLOW
from flows.params import GenerateParams
from tasks import plan
from tasks.data import ensure_database, make_instances, store_datasets, write_datasets_parquet


@flow(name=GENERATE_FLOW, validate_parameters=True)
def generate_datasets(params: GenerateParams = GenerateParams()) -> dict:  # noqa: B008
    """Generate families × sizes × per_size instances, store each once, write Parquet."""
    refuse_hidden_fields(params)
    ensure_database(params.database_url)
    seed = params.seed if params.seed is not None else plan.derive_seed(scheduled_date())
    specs = plan.instance_specs(params.families, params.sizes, params.per_size, seed)
    instances = make_instances(specs)
    stored = store_datasets(instances, params.database_url)
    paths = (write_datasets_parquet(instances, stored, params.data_dir)
             if params.write_parquet else [])
    return {"datasets": len(stored), "created": sum(s["created"] for s in stored),
            "dataset_ids": sorted({s["dataset_id"] for s in stored}), "seed": seed,
            "parquet_files": len(set(paths)),
            "datasets_dir": str(min(paths)).rsplit("/", 2)[0] if paths else None}
