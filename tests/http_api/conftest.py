"""Fixtures for the REST API tests: an app on a real, migrated PostgreSQL database.

`make_client(**settings)` builds another app on the same database with other settings
(limits, CORS, alert thresholds, a selector); every client runs the app's lifespan.

These apps run with `API_AUTH=off` (set explicitly here: the default is on), so the tests of
the API's behaviour need no keys; tests/http_api/test_owners.py tests the keys, with auth on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import create_app
from config.settings import Settings

# Small limits so the limit paths are cheap to reach; the cap keeps every solve short.
TEST_LIMITS: dict[str, Any] = {
    "api_max_projects": 300,
    "api_max_body_bytes": 200_000,
    "api_max_time_limit": 5.0,
    "api_solve_time_cap": 2.0,
}

PORTFOLIO = [
    {"name": "A", "cost": "1200.50"},
    {"name": "B", "cost": 800},
    {"name": "C", "cost": 450.25, "metadata": {"team": "ops"}},
]


def settings_for(url: str, **overrides: Any) -> Settings:
    """Settings pointing at `url`, with the test limits, API keys off, and `overrides`."""
    return Settings(database_url=url, **{**TEST_LIMITS, "api_auth": "off", **overrides})


@pytest.fixture
def make_client(pg_migrated_url: str) -> Iterator[Callable[..., TestClient]]:
    """Factory: `make_client(selector=..., **settings)` → a started TestClient."""
    with ExitStack() as stack:

        def make(*, selector: Any = None, raise_server_exceptions: bool = True,
                 database_url: str | None = None, migrate: bool = True,
                 **overrides: Any) -> TestClient:
            url = database_url or pg_migrated_url
            app = create_app(settings_for(url, **overrides), selector=selector,
                             migrate=migrate)
            client = TestClient(app, raise_server_exceptions=raise_server_exceptions)
            return stack.enter_context(client)

        yield make


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """The API on a fresh PostgreSQL database, the rules as selector."""
    return make_client()
