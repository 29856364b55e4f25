"""The forecast: a real (small) runtime model predicts a solve's time and whether it will be
proven within its limit; without a registered model there is no forecast, cheaply."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import solvers
from ml.serving import (
    NO_RUNTIME_MODEL,
    describe_forecast,
    forecast,
    forecast_fields,
    load_runtime,
    runtime_model_with_note,
)
from solvers.instances import generate
from tests.conftest import register_runtime

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model(runtime_artifact):
    """The session's runtime model, loaded as the registry would (sha256 checked)."""
    loaded = load_runtime({**runtime_artifact, "name": "runtime", "version": 7})
    assert loaded is not None
    return loaded


def test_easy_instance_with_a_generous_limit_is_expected_proven(model) -> None:
    """auto on a small instance: the forecast names what auto runs, and expects a proof."""
    inst = generate("psix", 12, seed=3)
    fc = forecast(model, inst.projects(), inst.budget, "auto", 10.0)
    ran = solvers.solve(inst.projects(), inst.budget, "auto", 10.0)
    assert fc["predicted_algorithm"] == ran["algorithm"]
    assert fc["expected_proven"] is True and ran["status"] == "exact"
    assert 0 < fc["predicted_seconds"] < 10.0 and fc["time_limit"] == 10.0
    assert fc["runtime_model"] == "model:runtime@v7" and fc["runtime_model_version"] == 7
    line = describe_forecast(fc, result=ran)
    assert "(runtime model v7), expected proven within the 10 s limit: yes" in line
    assert "; actual " in line and line.endswith(f"with {ran['algorithm']}: exact")


def test_greedy_and_a_tiny_limit_are_not_expected_proven(model) -> None:
    """greedy on a non-trivial instance it does not hit, and dp under a 1 ns limit: no proof."""
    inst = generate("todd", 20, seed=1)
    projects = inst.projects()
    greedy = forecast(model, projects, inst.budget, "greedy", 10.0)
    assert solvers.solve(projects, inst.budget, "greedy")["status"] == "approximate"
    assert greedy["expected_proven"] is False and "heuristic" in greedy["basis"]
    tiny = forecast(model, projects, inst.budget, "dp", 1e-9)
    assert tiny["expected_proven"] is False and tiny["predicted_seconds"] <= 1e-9
    assert "limit: no" in describe_forecast(tiny)


def test_trivial_instances_are_proven_whatever_runs(model) -> None:
    """Everything fits, or nothing does: preprocessing proves it, even for greedy."""
    for projects, budget in (([1, 2, 3], 100), ([50, 60], 10)):
        fc = forecast(model, projects, budget, "greedy", 1.0)
        assert fc["expected_proven"] is True and "trivial" in fc["basis"]
        assert solvers.solve(projects, budget, "greedy")["status"] == "exact"


def test_no_time_limit_uses_the_limits_default_and_bad_input_raises(model) -> None:
    """No time limit: the solvers' default applies; bad input raises like the solve would."""
    limits = solvers.Limits(default_time_limit=42.0)
    fc = forecast(model, [3, 5, 4], 8, "dp", None, limits=limits)
    assert fc["time_limit"] == 42.0 and "42 s limit" in describe_forecast(fc)
    with pytest.raises(solvers.InvalidInputError):
        forecast_fields(model, None, [3, -5], 8, "dp")


def test_without_a_registered_model_there_is_no_forecast(sqlite_migrated_url, tmp_path,
                                                         runtime_artifact) -> None:
    """Missing SQLite file (not created), empty registry: no forecast and why; registered: one."""
    missing = tmp_path / "nothing-here.db"
    assert runtime_model_with_note(f"sqlite:///{missing}") == (None, NO_RUNTIME_MODEL)
    assert not missing.exists()
    model, note = runtime_model_with_note(sqlite_migrated_url)
    assert model is None and note == NO_RUNTIME_MODEL
    fields = forecast_fields(model, note, [3, 5, 4], 8)
    assert fields == {"forecast": None, "forecast_note": NO_RUNTIME_MODEL}
    assert describe_forecast(None, note) == f"no forecast: {NO_RUNTIME_MODEL}"
    version = register_runtime(sqlite_migrated_url, runtime_artifact)
    model, note = runtime_model_with_note(sqlite_migrated_url)
    assert note is None and model is not None and model.version == version


def test_no_model_means_no_ml_stack_import(sqlite_migrated_url) -> None:
    """Importing ml.serving and asking an empty registry loads neither LightGBM nor sklearn."""
    code = ("import sys; from ml.serving import runtime_model_with_note; "
            f"m, note = runtime_model_with_note({sqlite_migrated_url!r}); "
            "assert m is None, note; "
            "bad = [k for k in ('lightgbm', 'sklearn') if k in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_a_configuration_is_predicted_as_its_algorithm(model) -> None:
    """A runtime model trained without configurations predicts `hybrid[core-large]` as hybrid
    (not as the slowest algorithm, which is reserved for names it cannot place)."""
    inst = generate("portfolio", 60, seed=2)
    feats = model.features_of(inst.projects(), inst.budget)
    config, base, unknown = model.predict_many(feats, ["hybrid[core-large]", "hybrid", "zzz"])
    assert config == base
    assert unknown >= config  # the slowest raw prediction
