"""The portfolio candidate set: configurations timed in the history, learned, and run by auto."""

from __future__ import annotations

import copy

import pytest

import solvers
from ml.history import PORTFOLIO, plan_instances, refusal, run_history
from ml.selection import CANDIDATE_SETS, history_algorithms, min_algorithms, train_selector
from ml.serving import ModelSelector, load_selector

from .conftest import SMALL_TIME_LIMIT

FAVOURITE = "hybrid[core-large]"


@pytest.fixture(scope="module")
def portfolio_history() -> list[dict]:
    """45 small instances, every portfolio candidate timed once (a few seconds)."""
    specs = plan_instances(45, seed=5, max_n=30)
    return list(run_history(specs, SMALL_TIME_LIMIT, history_algorithms("portfolio"),
                            repeats=1))


def test_portfolio_history_times_every_configuration(portfolio_history) -> None:
    """Each record has a run named after every configuration (refused as its base would be),
    and the portfolio needs more algorithms per instance than the base sets."""
    assert set(CANDIDATE_SETS["portfolio"]) == set(PORTFOLIO) >= set(solvers.CONFIGURATIONS)
    for rec in portfolio_history:
        names = {r["algorithm"] for r in rec["runs"]}
        assert set(solvers.CONFIGURATIONS) <= names
    lim = solvers.DEFAULT_LIMITS
    assert refusal("hybrid[exact-first]", 10**6, lim) is None
    assert min_algorithms("base") == min_algorithms("base+hybrid") == 4
    assert min_algorithms("portfolio") == 4 + len(solvers.CONFIGURATIONS)


def _favour(records: list[dict], name: str) -> list[dict]:
    """The same history with ``name``'s solving runs made the fastest everywhere."""
    out = copy.deepcopy(records)
    for rec in out:
        fastest = min(r["execution_time"] for r in rec["runs"])
        for run in rec["runs"]:
            if run["algorithm"] == name:
                run["execution_time"] = fastest / 2
    return out


def test_portfolio_training_picks_a_configuration_auto_runs(portfolio_history, tmp_path
                                                            ) -> None:
    """Trained where a configuration is always fastest, the model's classes hold the
    configurations, it picks that one, and auto runs it (LOFO and the oracle figures too)."""
    records = _favour(portfolio_history, FAVOURITE)
    out = train_selector(records, time_limit=SMALL_TIME_LIMIT, model_dir=tmp_path,
                         candidates="portfolio", n_splits=3, seeds=(0,), noise_sample=0,
                         runtime_model=False)
    art = out.artifact
    assert set(solvers.CONFIGURATIONS) <= set(art["class_order"])
    m = out.metrics
    assert m["candidates"] == "portfolio" and m["lofo"] is not None and m["left_out"] == 0
    assert m["oracle_wins"][FAVOURITE] > 0.5
    vbs = m["vbs_par10_by_candidates"]
    assert vbs["portfolio"] <= vbs["base+hybrid"] <= vbs["base"]

    # the served kind is gated (it leaves the rules only for >= 10 ms, never on these
    # sub-millisecond instances), so the plain cost regression pins that a configuration a
    # model picks is what auto runs; loaded as a registered champion is (sha256, features and
    # classes checked)
    from ml.train import train_and_save

    plain = train_and_save(out.dataset, "lgbm_regression", tmp_path / "plain")
    selector = load_selector({"name": "test", "version": 1, **plain})
    assert isinstance(selector, ModelSelector)
    selector.name = "model:test"
    ran = 0
    for rec in portfolio_history:
        feats = solvers.features(rec["projects"], rec["budget"])
        if selector(feats) != FAVOURITE:
            continue
        result = solvers.solve(rec["projects"], rec["budget"], selector=selector,
                               measure_memory=False)
        assert result["configuration"] == FAVOURITE and result["algorithm"] == "hybrid"
        assert result["selector"] == "model:test" and result["status"] == "exact"
        ran += 1
    assert ran >= 5  # the non-trivial rows (trivial ones get the rules, as served)
