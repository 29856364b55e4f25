"""The solve flow reports the runtime model's forecast next to the actual time: in its result,
its `solve-answer` artifact and its log line; without a model, null and why."""

from __future__ import annotations

import pytest

from flows.params import SolveParams
from flows.solve import solve
from tests.conftest import register_runtime
from tests.pipeline.test_ui_artifacts import _artifacts

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_solve_flow_shows_the_forecast_next_to_the_actual_time(sqlite_migrated_url, tmp_path,
                                                               runtime_artifact) -> None:
    """No runtime model: forecast null with the reason in the artifact; a registered one: the
    predicted time, the model version, the expected proof within the limit, then the actual."""
    params = SolveParams(projects=[3, 5, 4, 9, 11, 2], budget=17, time_limit=10.0,
                         database_url=sqlite_migrated_url, data_dir=str(tmp_path))
    out = solve(params)
    assert out["forecast"] is None and out["forecast_note"].startswith("no runtime model")
    text = _artifacts(out["flow_run_id"])["solve-answer"].description
    assert "| forecast | no forecast: no runtime model registered" in text

    version = register_runtime(sqlite_migrated_url, runtime_artifact)
    out = solve(params)
    fc = out["forecast"]
    assert out["forecast_note"] is None and fc["predicted_algorithm"] == out["algorithm"]
    assert fc["expected_proven"] is True and out["status"] == "exact"
    text = _artifacts(out["flow_run_id"])["solve-answer"].description
    assert (f"(runtime model v{version}), expected proven within the 10 s limit: yes |"
            in text)
    assert "| actual | " in text and f"with {out['algorithm']}: exact |" in text
