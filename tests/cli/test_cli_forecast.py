"""`budget solve` prints the runtime model's forecast before solving and puts it in --json."""

from __future__ import annotations

import json

import pytest

from cli.main import main
from config import get_settings
from tests.conftest import register_runtime

from .test_cli_solve import EXAMPLE


@pytest.fixture
def database(monkeypatch, sqlite_migrated_url):
    """DATABASE_URL of this process pointed at a fresh migrated SQLite file."""
    monkeypatch.setenv("DATABASE_URL", sqlite_migrated_url)
    get_settings.cache_clear()
    yield sqlite_migrated_url
    get_settings.cache_clear()


def test_without_a_runtime_model_the_forecast_is_null_with_a_reason(capsys, database) -> None:
    """No runtime model: a last 'forecast: none (…)' line, and null plus a note in --json."""
    assert main(["solve", str(EXAMPLE), "--budget", "1500000"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == ("forecast: none (no runtime model registered; "
                                    "budget train registers one)")
    assert out.count("forecast") == 1
    assert main(["solve", str(EXAMPLE), "--budget", "1500000", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["forecast"] is None and "no runtime model" in data["forecast_note"]
    assert main(["solve", str(EXAMPLE), "--budget", "1500000", "--no-forecast"]) == 0
    assert "forecast" not in capsys.readouterr().out


def test_with_a_runtime_model_the_forecast_comes_first(capsys, database,
                                                       runtime_artifact) -> None:
    """A registered model: the predicted time and the expected proof (yes, no, or unsure
    for an instance unlike the model's training data), then the answer."""
    version = register_runtime(database, runtime_artifact)
    assert main(["solve", str(EXAMPLE), "--budget", "1500000", "--time-limit", "5"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("forecast: predicted ")
    head, _, answer = first.rpartition(": ")
    assert head.endswith(f"(runtime model v{version}), expected proven within the 5 s limit")
    assert answer in {"yes", "no", "unsure"}
    assert main(["solve", str(EXAMPLE), "--budget", "1500000", "--algorithm", "greedy",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    fc = data["forecast"]
    assert data["forecast_note"] is None and fc["predicted_algorithm"] == "greedy"
    assert fc["proven_answer"] in {"yes", "no", "unsure"}
    assert fc["expected_proven"] is (fc["proven_answer"] == "yes")
    if fc["proven_answer"] != "unsure":  # a sure forecast is checked against the answer
        assert fc["expected_proven"] is (data["status"] == "exact")
