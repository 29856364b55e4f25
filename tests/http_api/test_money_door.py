"""Money through the API door is read by its text, never through a binary float, and gets the
same verdict as the solver (`solvers.money.parse_money`): bodies are sent here as raw JSON text,
because a Python client's `json=` would already have turned the amounts into floats."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from api.body import decode
from solvers import InvalidInputError
from solvers.money import STORED_LIMIT, loads, parse_money


def _post(client: TestClient, path: str, text: str):
    return client.post(path, content=text.encode(), headers={"content-type": "application/json"})


def test_budget_as_json_number_is_the_budget_the_client_wrote(client: TestClient) -> None:
    """Issue 15: a cost of "…409.94" against the JSON number 90071992547409.93 is over the
    budget: not chosen, and the budget comes back as written (a float read gave …409.94)."""
    response = _post(client, "/solve/",
                     '{"projects":["90071992547409.94"],"budget":90071992547409.93}')
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["budget_exact"] == "90071992547409.93"
    assert body["selected_indices"] == [] and body["total_cost_exact"] == "0"
    assert body["status"] == "exact"
    assert Decimal(body["total_cost_exact"]) <= Decimal("90071992547409.93")


def test_cost_as_json_number_above_1e13_is_read_exactly(client: TestClient) -> None:
    """A cost written as the JSON number 90071992547409.93 is that amount: with 0.01 it fills
    the budget 90071992547409.94 exactly (read as a float it is …409.94, and the pair would
    no longer fit)."""
    response = _post(client, "/solve/", '{"projects":[{"name":"big","cost":90071992547409.93},'
                                        '{"name":"cent","cost":0.01}],'
                                        '"budget":"90071992547409.94","algorithm":"dp"}')
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["selected_indices"] == [0, 1], body
    assert body["total_cost_exact"] == "90071992547409.94" and body["status"] == "exact"
    assert body["selected_projects"][0]["cost_exact"] == "90071992547409.93"
    got = client.get(f"/results/{body['run_id']}/").json()
    assert got["selected_projects"][0]["cost_exact"] == "90071992547409.93"


def test_bare_amounts_and_budget_as_long_json_numbers(client: TestClient) -> None:
    """Bare amounts and the budget as JSON numbers of 19 significant digits keep every cent
    through the solve, the stored set and the response."""
    response = _post(client, "/solve/", '{"projects":[12345678901234567.89, 0.01, 7],'
                                        '"budget":12345678901234567.90}')
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["budget_exact"] == "12345678901234567.90"
    assert body["total_cost_exact"] == "12345678901234567.90"
    assert [p["cost_exact"] for p in body["selected_projects"]] == ["12345678901234567.89", "0.01"]
    dataset = client.get(f"/datasets/{body['dataset_id']}/").json()
    assert [p["cost_exact"] for p in dataset["projects"]["items"]] == [
        "12345678901234567.89", "0.01", "7"]


def test_dataset_budgets_as_long_json_numbers(client: TestClient) -> None:
    """POST /datasets/ budgets and a dataset solve's budget as long JSON numbers are stored
    and used exactly."""
    made = _post(client, "/datasets/", '{"projects":[99999999999999.98, 0.01, 0.02],'
                                       '"budgets":[99999999999999.99, 10000000000000.01]}')
    assert made.status_code == 201, made.text
    amounts = {b["amount_exact"] for b in made.json()["budgets"]}
    assert amounts == {"99999999999999.99", "10000000000000.01"}
    solved = _post(client, f"/datasets/{made.json()['id']}/solve",
                   '{"budget":99999999999999.99}')
    assert solved.status_code == 200, solved.text
    assert solved.json()["total_cost_exact"] == "99999999999999.99"
    assert solved.json()["selected_indices"] == [0, 1]


# Raw JSON tokens for the budget, as a hostile client writes them.
TOKENS = ['1e3', '"1e3"', '"1_000"', '1000', '"1000"', '0.1', '0.30000000000000004', '1.005',
          '"1.005"', '-0.0', '-0', '-1', '"-1"', '1E2', '12.50', '"12.5"', '" 5"', '""', 'true',
          'null', '1e17', '1e18', '"999999999999999999.99"', '"1000000000000000000"',
          '99999999999999999.99', 'NaN', 'Infinity', '1e400', '1e-400', '[1]', '{"a":1}']


def _solver_verdict(token: str) -> Decimal | None:
    try:
        return Decimal(parse_money(loads(token), "budget", limit=STORED_LIMIT))
    except InvalidInputError:
        return None


@pytest.mark.parametrize("token", TOKENS)
def test_the_api_and_the_solver_give_one_verdict(client: TestClient, token: str) -> None:
    """Each budget token is accepted by the API exactly when solvers.money accepts it, as the
    same amount; refused ones are a 422 naming `budget` (the JSON number 1e3 is 1000, the
    strings "1e3" and "1_000" are refused, a third decimal is refused, never rounded)."""
    expected = _solver_verdict(token)
    response = _post(client, "/solve/", '{"projects":[1, 2], "budget": ' + token + '}')
    if expected is None:
        assert response.status_code == 422, (token, response.text)
        assert response.json()["errors"][0]["field"] == "budget", response.text
    else:
        assert response.status_code == 200, (token, response.text)
        assert Decimal(response.json()["budget_exact"]) == expected, token


def test_verdicts_the_issue_names() -> None:
    """The table above holds the issue's cases: JSON 1e3 is 1000; "1e3", "1_000", 0.1+0.2 and
    1.005 are refused; 90071992547409.93 stays itself."""
    assert _solver_verdict("1e3") == 1000
    for token in ('"1e3"', '"1_000"', "0.30000000000000004", "1.005"):
        assert _solver_verdict(token) is None, token
    assert _solver_verdict("90071992547409.93") == Decimal("90071992547409.93")


def test_money_errors_name_the_value(client: TestClient) -> None:
    """A refused amount's message gives the reason and the value, for the field it names."""
    response = _post(client, "/solve/", '{"projects":[1, "1_000"], "budget": 4}')
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "projects[1].cost"
    assert error["msg"].endswith("got '1_000'"), error


def test_fractional_numbers_elsewhere_still_work(client: TestClient) -> None:
    """Numbers that are not money are unchanged: a fractional time_limit, metadata with
    fractions (stored as JSON numbers)."""
    response = _post(client, "/solve/", '{"projects":[{"cost":5,"metadata":{"w":0.5,"n":[1.25]}}],'
                                        '"budget":5,"time_limit":0.5}')
    assert response.status_code == 200, response.text
    assert response.json()["total_cost_exact"] == "5"


@pytest.mark.parametrize("text", ['{"projects":[1],"budget":1', '\xff', '{"budget": 1e5000000}',
                                  '{"projects":[1],"budget":' + "9" * 5000 + '}'])
def test_undecodable_bodies_are_422(make_client, text: str) -> None:
    """Broken JSON, bytes that are not UTF-8, an integer beyond Python's digit limit: a 422
    naming the body, never a 400 or 500."""
    client = make_client(raise_server_exceptions=False)
    response = client.post("/solve/", content=text.encode("latin-1"),
                           headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"][0] == "body"


DOCUMENTS = ['{"a": 1.10, "b": [1e3, -0.0, 12345678901234567.89, 7], "c": {"d": null}}',
             '[1, 2.5, "x", true, false, null, {}, [], NaN, Infinity, -Infinity, 1E-7]',
             '"\\ud83d\\ude00"', '\ufeff{"bom": 1}', "  0.1  ", "{}"]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_the_body_decoder_reads_like_solvers_money_loads(text: str) -> None:
    """api.body.decode (loads plus two hooks that let the event loop run) gives what
    solvers.money.loads gives, value and type, from str and from UTF-8/16 bytes; and refuses
    what it refuses."""
    def typed(value):
        if isinstance(value, dict):
            return {k: typed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [typed(v) for v in value]
        return (type(value).__name__, str(value))

    for raw in (text, text.encode("utf-8"), text.encode("utf-16")):
        try:
            expected = typed(loads(raw))
        except ValueError as exc:
            with pytest.raises(type(exc)):
                decode(raw)
            continue
        assert typed(decode(raw)) == expected
