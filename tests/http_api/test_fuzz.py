"""Schemathesis against the app's own OpenAPI schema: no 500s, responses match their schemas.

A bounded run (at most 30 generated examples per operation, plus schemathesis's coverage cases)
on a real PostgreSQL database, with a small solve-time cap so no example can take long.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import flows.remote
from api import create_app
from tests.http_api.conftest import settings_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


# Loaded at import (schemathesis's lazy `from_fixture` does not work with pytest 9); the
# database is swapped in per test by the autouse fixture below. No lifespan runs here: `auto`
# uses the rules, solves use the default thread pool.
APP = create_app(settings_for("sqlite://", api_solve_time_cap=0.5), selector=None, migrate=False)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(autouse=True)
def _fresh_database(pg_migrated_url: str, monkeypatch):
    """Point the app at a fresh, migrated PostgreSQL database for each operation; background
    benchmarks reach a stand-in for Prefect (the 503 paths are tested in test_benchmark)."""
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.invalid/api")
    monkeypatch.setattr(flows.remote, "start_benchmark_run", lambda parameters: "fuzz-run")
    APP.state.api.database_url = pg_migrated_url
    yield
    APP.state.api.database_url = "sqlite://"


@schema.parametrize()
@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "30")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_api_conforms_to_its_schema(case) -> None:
    """Every generated request gets a documented status and a body matching its schema."""
    case.call_and_validate(checks=CHECKS)
