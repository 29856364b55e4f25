"""The default limits fit together: one POST /solve/ at API_MAX_PROJECTS (200,000 project
objects) fits API_MAX_BODY_BYTES and is solved and stored. Prints the timing (run with -s):

    .venv/bin/python -m pytest tests/http_api/test_api_scale.py -s
"""

from __future__ import annotations

import json
import random
import time

import pytest
from fastapi.testclient import TestClient

from api import create_app
from config.settings import Settings

pytestmark = pytest.mark.slow


def test_a_request_at_the_default_cap_is_solved_and_stored(pg_migrated_url: str) -> None:
    """200,000 projects with the default settings: 200, n = 200,000, optimal, within limits."""
    settings = Settings(_env_file=None, database_url=pg_migrated_url, api_auth="off")
    cap = settings.api_max_projects
    rng = random.Random(7)
    projects = [{"name": f"p{i}", "cost": f"{rng.randint(100, 10**6)}.{rng.randint(0, 99):02d}"}
                for i in range(cap)]
    body = json.dumps({"projects": projects, "budget": str(cap * 100_000)})
    assert len(body) <= settings.api_max_body_bytes
    with TestClient(create_app(settings, selector=None, migrate=False)) as client:
        start = time.perf_counter()
        response = client.post("/solve/", content=body,
                               headers={"content-type": "application/json"})
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.text[:500]
        result = response.json()
        assert result["stats"]["n"] == cap and result["status"] == "exact"
        again = client.get(f"/results/{result['run_id']}/").json()
        assert again["stats"]["n"] == cap
        assert again["total_cost_exact"] == result["total_cost_exact"]
        over = client.post("/solve/", json={"projects": [1] * (cap + 1), "budget": 1})
        assert over.status_code == 422 and over.json()["errors"][0]["field"] == "projects"
    print(f"\nn={cap}: body {len(body) / 1e6:.2f} MB ({len(body) / cap:.0f} B/project), "
          f"POST /solve/ {elapsed:.1f} s, of which solving {result['stats']['execution_time']:.2f}"
          f" s ({result['algorithm']}, {result['status']})")
