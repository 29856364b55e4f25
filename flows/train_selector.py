"""`train-selector`: learn which algorithm to run from the recorded run history.

1. If fewer than `min_instances` instances have runs, run a covering benchmark first
   (every family, sizes where different algorithms win; batches stored as they finish).
2. Load the history, evaluate every model and baseline on the same repeated stratified folds
   (and the current champion on those folds), fit and save the better LightGBM variant.
3. Register the version; promote it to `champion` only if it beats the champion.
4. Publish the evaluation table, the plot (PNG) and the metrics (Parquet).
"""

from __future__ import annotations

from typing import Any, Literal

from prefect import flow

from flows._runtime import current_flow_run_id
from flows.names import TRAIN_FLOW
from ml import DEFAULT_MODEL_NAME
from tasks.data import ensure_database
from tasks.ml_tasks import (
    count_history,
    load_champion,
    load_history,
    plan_history,
    publish_training,
    register_model,
    resolve_data_dir,
    run_history_batch,
    store_history,
    train_and_evaluate,
)


@flow(name=TRAIN_FLOW, validate_parameters=True)
def train_selector_flow(
    database_url: str | None = None,
    data_dir: str | None = None,
    min_instances: int = 2000,
    time_limit: float = 0.25,
    seed: int = 0,
    n_splits: int = 5,
    repeats: int = 3,
    batch_size: int = 250,
    model_name: str = DEFAULT_MODEL_NAME,
    candidates: Literal["base", "base+hybrid"] = "base",
    max_n: int | None = None,
) -> dict[str, Any]:
    """Train, evaluate and register the algorithm selector; returns version and metrics."""
    run_id = current_flow_run_id()
    ensure_database(database_url)
    have = count_history(database_url)
    generated = 0
    if have < min_instances:
        specs = plan_history(min_instances - have, seed + have, max_n)  # new specs on top-up
        for start in range(0, len(specs), batch_size):
            batch = run_history_batch(specs[start:start + batch_size], time_limit)
            store_history(batch, database_url, run_id)
            generated += len(batch)
    history = load_history(database_url)
    folder = resolve_data_dir(data_dir)
    champion = load_champion(database_url, model_name)
    outcome = train_and_evaluate(history["records"], time_limit, str(folder / "models"),
                                 n_splits, list(range(repeats)), champion, candidates)
    registered = register_model(outcome, history, database_url, model_name)
    files = publish_training(outcome, registered, str(folder))
    keys = ("remaining_gap", "sbs_par10", "vbs_par10", "selector_par10", "rules_par10",
            "hybrid_par10", "solved_pct", "max_fold_gap", "folds_worse_than_sbs", "folds",
            "kind", "candidates", "rows", "left_out", "new_instances", "champion_par10_new",
            "selector_par10_new")
    return {**registered, "instances": len(history["records"]), "generated": generated,
            "metrics": {k: outcome.metrics[k] for k in keys if k in outcome.metrics},
            "methods": outcome.metrics["methods"], **files}
