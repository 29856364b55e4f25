"""Project metadata that used to crash the server: deep nesting, huge documents, lone surrogates."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.schemas import METADATA_MAX_DEPTH


def _solve_raw(client: TestClient, metadata_json: str) -> object:
    body = ('{"budget": 10, "projects": [{"name": "A", "cost": 5, "metadata": '
            + metadata_json + '}]}')
    return client.post("/solve/", content=body, headers={"content-type": "application/json"})


def _nested(depth: int) -> str:
    return '{"k": ' * depth + "1" + "}" * depth


def test_deeply_nested_metadata_is_a_422_naming_the_field(make_client) -> None:
    """Metadata nested ~900 deep is rejected with 422 on projects[0].metadata, not a 500."""
    client = make_client(raise_server_exceptions=False)
    response = _solve_raw(client, _nested(900))
    assert response.status_code == 422, response.text
    (err,) = response.json()["errors"]
    assert err["field"] == "projects[0].metadata" and "deep" in err["msg"]


def test_metadata_depth_limit_is_exact(client: TestClient) -> None:
    """Nesting up to the limit is accepted; one level more is a 422."""
    assert _solve_raw(client, _nested(METADATA_MAX_DEPTH)).status_code == 200
    assert _solve_raw(client, _nested(METADATA_MAX_DEPTH + 1)).status_code == 422


def test_metadata_with_too_many_items_is_a_422(client: TestClient) -> None:
    """A flat metadata document with very many entries is rejected, naming the field."""
    response = _solve_raw(client, "[" + ",".join(["0"] * 20_000) + "]")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "projects[0].metadata"


@pytest.mark.parametrize("metadata", ['{"k": "\\ud800"}', '{"\\udc00": 1}',
                                      '{"k": [{"x": "ok \\udfff"}]}'])
def test_lone_surrogate_in_metadata_is_a_422(make_client, metadata: str) -> None:
    """A lone UTF-16 surrogate in a metadata key or value is a 422, not a 500 at hashing."""
    client = make_client(raise_server_exceptions=False)
    response = _solve_raw(client, metadata)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "projects[0].metadata"


def test_valid_surrogate_pair_is_accepted(client: TestClient) -> None:
    """An escaped pair (one real character, here U+1F600) is fine."""
    assert _solve_raw(client, '{"k": "\\ud83d\\ude00"}').status_code == 200

