"""Schemathesis against the app's own OpenAPI schema: no 500s, responses match their schemas,
and every request the schema calls valid is accepted (`positive_data_acceptance`).

A bounded run (at most 30 generated examples per operation, plus schemathesis's coverage cases)
on a real PostgreSQL database, with a small solve-time cap so no example can take long.

Two rules of GET /algorithms/benchmark span several parameters, so JSON Schema cannot state
them; its description does, and `_documented_benchmark_query` keeps generated queries within
them: n ≤ 40 for family=todd (`x-max-by-family`), and instances × algorithms × time_limit
within API_SOLVE_TIME_CAP unless background=true.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

import flows.remote
from api import create_app
from api.routes.benchmark import DEFAULT_ALGORITHMS, MAX_N_BY_FAMILY
from tests.http_api.conftest import settings_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, positive_data_acceptance]
SOLVE_TIME_CAP = 0.5


# Loaded at import (schemathesis's lazy `from_fixture` does not work with pytest 9); the
# database is swapped in per test by the autouse fixture below. No lifespan runs here: `auto`
# uses the rules, solves use the default thread pool.
APP = create_app(settings_for("sqlite://", api_solve_time_cap=SOLVE_TIME_CAP), selector=None,
                 migrate=False)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
# A schema-valid body can still be over API_MAX_BODY_BYTES (JSON Schema cannot state a size in
# bytes): its documented 413 is an acceptance of the rules, not a rejection of valid data.
_positive = schema.config.checks.positive_data_acceptance
_positive.expected_statuses = [*_positive.expected_statuses, "413"]


def _documented_benchmark_query(case) -> None:
    """Keep a benchmark query within the two documented cross-parameter rules (in place)."""
    if case.operation.path != "/algorithms/benchmark":
        return
    query = dict(case.query or {})
    family = query.get("family", "uniform")
    algorithms = query.get("algorithm") or DEFAULT_ALGORITHMS
    algorithms = algorithms if isinstance(algorithms, list) else [algorithms]
    if not isinstance(family, str) or not all(isinstance(a, str) for a in algorithms):
        return  # a negative case: left as generated
    n = _number(query.get("n", 30))
    cap = MAX_N_BY_FAMILY.get(family)
    if cap is not None and n is not None and n > cap:
        query["n"] = cap
    count = len(set(algorithms))
    instances = _number(query.get("instances", 3))
    limit = _number(query.get("time_limit", 0.2))
    background = str(query.get("background", False)).lower() == "true"
    if (not background and instances is not None and limit is not None
            and instances * count * limit > SOLVE_TIME_CAP):
        query["time_limit"] = SOLVE_TIME_CAP / (instances * count)
    case.query = query


def _number(value) -> float | None:
    """A generated query value as a number (values may arrive as strings), else None."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


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
    """Every generated request gets a documented status and a body matching its schema, and
    none that the schema (and the benchmark's documented rules) calls valid is refused."""
    _documented_benchmark_query(case)
    case.call_and_validate(checks=CHECKS)
