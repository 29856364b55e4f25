"""Small real histories for the selector tests (generated once per session, seconds)."""

from __future__ import annotations

import pytest

from ml.history import PORTFOLIO, plan_instances, run_history

SMALL_TIME_LIMIT = 0.05


@pytest.fixture(scope="session")
def small_history() -> list[dict]:
    """90 instances of every family with n ≤ 30, every algorithm and configuration (the
    default portfolio) run with a 50 ms cutoff."""
    return list(run_history(plan_instances(90, seed=11, max_n=30), SMALL_TIME_LIMIT,
                            PORTFOLIO))
