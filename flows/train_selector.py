"""`train-selector`: learn which algorithm to run from the recorded run history.

1. If fewer than `min_instances` instances have runs of the candidates, run a covering
   benchmark first (every family, sizes where different algorithms win; batches stored as
   they finish; the portfolio's named configurations are timed too).
2. Load the history, with the replayed user instances (`budget replay`: runs of kind
   `replay`, their user's solve time) as a family of their own. Evaluate every model and
   baseline on the user's past and the generated families (stratified folds, and each
   generated family held out), and on the user's most recent instances held out by time.
3. Register the version; promote it to `champion` only if it beats the rules on the user's
   future by more than the noise floor, is not worse on the held-out generated families
   beyond it, and beats the champion (`ml.selection.promotion_checks`).
4. Publish the decision first, both comparisons, the deviations from the rules, the plot
   (embedded), the metrics (Parquet); a progress artifact follows the steps.

Like every flow it takes one `params` object (`flows.params.TrainParams`), so the UI renders
one form with the same conventions as the others.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows._runtime import current_flow_run_id, refuse_hidden_fields
from flows.names import TRAIN_FLOW
from flows.params import TrainParams
from tasks.data import ensure_database
from tasks.ml_tasks import (
    TrainingProgress,
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

_KEYS = ("remaining_gap", "sbs_par10", "vbs_par10", "selector_par10", "rules_par10",
         "hybrid_par10", "solved_pct", "max_fold_gap", "folds_worse_than_sbs", "folds",
         "kind", "candidates", "rows", "left_out", "new_instances", "champion_par10_new",
         "selector_par10_new", "evaluation", "cv", "lofo", "lofo_families", "noise_floor",
         "promotion_margin", "refused_runs", "oracle_wins", "vbs_par10_by_candidates",
         "promotion_checks", "time_holdout", "lofo_deviations", "user_instances")


@flow(name=TRAIN_FLOW, validate_parameters=True)
def train_selector(params: TrainParams = TrainParams()) -> dict[str, Any]:  # noqa: B008
    """Train, evaluate and register the algorithm selector; returns version and metrics."""
    refuse_hidden_fields(params)
    run_id = current_flow_run_id()
    url = params.database_url
    ensure_database(url)
    progress = TrainingProgress()
    have = count_history(url, params.candidates)
    generated = 0
    if have < params.min_instances:
        specs = plan_history(params.min_instances - have, params.seed + have, params.max_n)
        for start in range(0, len(specs), params.batch_size):
            batch = run_history_batch(specs[start:start + params.batch_size], params.time_limit,
                                      params.timing_repeats, params.candidates)
            store_history(batch, url, run_id)
            generated += len(batch)
    progress.advance("history")
    history = load_history(url)
    progress.advance("load")
    folder = resolve_data_dir(params.data_dir)
    champion = load_champion(url, params.model_name)
    outcome = train_and_evaluate(history["records"], params.time_limit, str(folder / "models"),
                                 params.n_splits, list(range(params.repeats)), champion,
                                 params.candidates, timing_repeats=params.timing_repeats)
    progress.advance("evaluate and fit")
    registered = register_model(outcome, history, url, params.model_name)
    progress.advance("register")
    files = publish_training(outcome, registered, str(folder))
    progress.advance("publish")
    return {**registered, "instances": len(history["records"]), "generated": generated,
            "metrics": {k: outcome.metrics[k] for k in _KEYS if k in outcome.metrics},
            "methods": outcome.metrics["methods"], **files}


def train_selector_flow(**fields: Any) -> dict[str, Any]:
    """The flow called with flat keyword arguments (`database_url=..., min_instances=...`), as
    `budget train` calls it: builds `TrainParams` (bad values raise pydantic's error naming
    the field) and runs `train_selector`."""
    return train_selector(TrainParams(**{k: v for k, v in fields.items() if v is not None}))
