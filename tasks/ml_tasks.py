"""Tasks of the `train-selector` flow: thin adapters, one call each.

Retries only on the I/O tasks (database, files); training and history generation are
deterministic CPU work and fail at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE

from config import get_settings
from db import model_registry as registry
from db.replay import load_replay_history
from ml import DEFAULT_CANDIDATES, DEFAULT_MODEL_NAME
from ml.history import DEFAULT_REPEATS, plan_instances, run_history
from ml.report import decision_markdown, plot_selector_vs_vbs, write_metrics_parquet
from ml.runtime import RUNTIME_MODEL_NAME
from ml.selection import TrainingOutcome, history_algorithms, min_algorithms, train_selector
from ml.serving import champion_selector, champion_with_note, runtime_model, version_selector
from tasks._io import IO_RETRIES, db_session


class TrainingProgress:
    """The training run's progress artifact (0-100 %), advanced step by step."""

    STEPS = ("history", "load", "evaluate and fit", "register", "publish")

    def __init__(self, key: str = "training-progress") -> None:
        self.done = 0
        self.artifact_id = create_progress_artifact(
            0.0, key=key, description="Selector training: " + " → ".join(self.STEPS))

    def advance(self, step: str) -> None:
        """Mark ``step`` (one of STEPS) done."""
        self.done = self.STEPS.index(step) + 1
        update_progress_artifact(self.artifact_id, 100.0 * self.done / len(self.STEPS))


def resolve_data_dir(data_dir: str | None) -> Path:
    """The folder for model files, plots and exports (default: the settings' data_dir)."""
    return Path(data_dir or get_settings().data_dir)


@task(name="count-history", cache_policy=NO_CACHE, **IO_RETRIES)
def count_history(database_url: str | None, candidates: str = DEFAULT_CANDIDATES
                  ) -> int:
    """How many instances (set, budget pairs) have runs of enough distinct algorithms to be
    training rows for `candidates` (`ml.selection.min_algorithms`: 4 for the base sets, 7 for
    the portfolio; a lone solve from the API or the solve flow is no training row)."""
    with db_session(database_url) as session:
        return registry.count_training_instances(session=session,
                                                 min_algorithms=min_algorithms(candidates))


@task(name="plan-history", cache_policy=NO_CACHE)
def plan_history(count: int, seed: int, max_n: int | None = None) -> list[dict[str, Any]]:
    """Instance specs covering every family and the sizes where algorithms cross over."""
    return plan_instances(count, seed, max_n=max_n)


@task(name="run-history-batch", cache_policy=NO_CACHE)
def run_history_batch(specs: list[dict[str, Any]], time_limit: float,
                      repeats: int = DEFAULT_REPEATS, candidates: str = DEFAULT_CANDIDATES
                      ) -> list[dict[str, Any]]:
    """Solve a batch of instances with every algorithm (and, for the portfolio, every named
    configuration) that does not refuse its size (median CPU time of `repeats` runs;
    refusals are listed per record, not stored; no retries)."""
    return list(run_history(specs, time_limit, history_algorithms(candidates),
                            repeats=repeats))


@task(name="store-history", cache_policy=NO_CACHE, **IO_RETRIES)
def store_history(records: list[dict[str, Any]], database_url: str | None,
                  flow_run_id: str | None) -> int:
    """Store the batch's instances and runs in one transaction; returns the run count."""
    with db_session(database_url) as session:
        return registry.store_training_history(session=session, records=records,
                                               flow_run_id=flow_run_id)


def mark_replays(records: list[dict[str, Any]], replays: list[dict[str, Any]]
                 ) -> list[dict[str, Any]]:
    """The history with each replayed user instance as its replay record (``source="replay"``,
    ``user_time``, the replay runs only: never the user's own wall-time solve)."""
    by_key = {str(r["key"]): r for r in replays}
    out = [by_key.pop(str(rec["key"]), rec) for rec in records]
    return out + list(by_key.values())


@task(name="load-history", cache_policy=NO_CACHE, **IO_RETRIES)
def load_history(database_url: str | None) -> dict[str, Any]:
    """Every recorded instance with its runs, and the training window; replayed user
    instances are marked (``ml.selection.is_user``) and carry their replay runs only."""
    with db_session(database_url) as session:
        records, first, last = registry.load_training_history(session=session)
        records = mark_replays(records, load_replay_history(session=session))
    users = sum(r.get("source") == "replay" for r in records)
    return {"records": records, "window_start": first, "window_end": last,
            "user_instances": users}


@task(name="load-champion", cache_policy=NO_CACHE)
def load_champion(database_url: str | None, model_name: str = DEFAULT_MODEL_NAME) -> Any:
    """The current champion selector, or None (no model, unusable file, database down)."""
    return champion_selector(database_url, name=model_name)


@task(name="load-selector", cache_policy=NO_CACHE)
def load_selector(database_url: str | None, version: int | None = None,
                  model_name: str = DEFAULT_MODEL_NAME) -> tuple[Any, str | None]:
    """(selector, note): version `version`, or the champion when None. A None selector means
    the rules; the note says why when a model was expected but is not usable."""
    if version is None:
        return champion_with_note(database_url)
    chosen = version_selector(database_url, version, name=model_name)
    note = None if chosen is not None else (
        f"model:{model_name}@v{version} could not be loaded (see log); rules used")
    return chosen, note


@task(name="load-runtime-model", cache_policy=NO_CACHE)
def load_runtime_model(database_url: str | None) -> Any:
    """The registered runtime model (``predict_seconds(features, algorithm)``), or None: the
    benchmark then plans its batches with the size proxy."""
    return runtime_model(database_url)


@task(name="train-and-evaluate", cache_policy=NO_CACHE)
def train_and_evaluate(records: list[dict[str, Any]], time_limit: float, model_dir: str,
                       n_splits: int, seeds: list[int], champion: Any,
                       candidates: str = DEFAULT_CANDIDATES, noise_sample: int = 40,
                       timing_repeats: int = DEFAULT_REPEATS) -> TrainingOutcome:
    """Evaluate every model and baseline on the same stratified and leave-one-family-out
    folds, measure the re-timing noise floor, fit and save the selector and the runtime
    model."""
    return train_selector(records, time_limit=time_limit, model_dir=model_dir,
                          n_splits=n_splits, seeds=seeds, champion=champion,
                          candidates=candidates, noise_sample=noise_sample,
                          timing_repeats=timing_repeats)


@task(name="register-model", cache_policy=NO_CACHE, **IO_RETRIES)
def register_model(outcome: TrainingOutcome, history: dict[str, Any], database_url: str | None,
                   model_name: str = DEFAULT_MODEL_NAME) -> dict[str, Any]:
    """Register the new version; move `champion` to it only if it won."""
    art = outcome.artifact
    with db_session(database_url) as session:
        row = registry.register_version(
            session=session, name=model_name, sha256=art["sha256"], path=art["path"],
            params=art["params"], metrics=outcome.metrics, feature_names=art["feature_names"],
            class_order=art["class_order"], library_versions=art["library_versions"],
            training_window_start=history["window_start"],
            training_window_end=history["window_end"])
        if outcome.promote:
            registry.promote(session=session, name=model_name, version=row.version)
        version = row.version
        runtime_version = None
        rt = outcome.runtime
        if rt is not None:  # the newest runtime model plans the benchmarks (its champion)
            rt_row = registry.register_version(
                session=session, name=RUNTIME_MODEL_NAME, sha256=rt["sha256"], path=rt["path"],
                params=rt["params"], metrics=rt["metrics"], feature_names=rt["feature_names"],
                class_order=rt["class_order"], library_versions=rt["library_versions"],
                training_window_start=history["window_start"],
                training_window_end=history["window_end"])
            registry.promote(session=session, name=RUNTIME_MODEL_NAME, version=rt_row.version)
            runtime_version = rt_row.version
    return {"model_name": model_name, "model_version": version, "promoted": outcome.promote,
            "decision": outcome.decision, "runtime_model_version": runtime_version}


@task(name="publish-training-artifacts", cache_policy=NO_CACHE, **IO_RETRIES)
def publish_training(outcome: TrainingOutcome, registered: dict[str, Any], data_dir: str
                     ) -> dict[str, str]:
    """Table and markdown artifacts, the held-out cost plot (PNG) and the metrics Parquet."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    version = registered["model_version"]
    base = Path(data_dir) / "ml"
    scored, ev = (outcome.evaluated or outcome.dataset), (outcome.lofo or outcome.evaluation)
    plot = plot_selector_vs_vbs(scored, ev, outcome.kind,
                                base / f"selector-v{version}-vs-vbs.png")
    parquet = write_metrics_parquet(
        outcome.evaluation, base / "metrics" / f"selector-v{version}-{stamp}.parquet",
        {"model_name": registered["model_name"], "model_version": version,
         "kind": outcome.kind, "promoted": registered["promoted"]}, outcome.lofo)
    create_table_artifact(outcome.table(), key="selector-evaluation",
                          description=f"Selector v{version}: every model and baseline on the "
                                      "same stratified and leave-one-family-out folds")
    create_markdown_artifact(
        decision_markdown(outcome.metrics, registered["promoted"], version, outcome.kind,
                          Path(plot).read_bytes())
        + f"\n\n## Every method side by side\n\n{outcome.markdown()}\n\nPlot file: {plot}"
        f"\n\nMetrics: {parquet}",
        key="selector-summary",
        description=("Selector training: " + ("promoted" if registered["promoted"]
                                               else "not promoted")))
    return {"plot": str(plot), "metrics_parquet": str(parquet)}
