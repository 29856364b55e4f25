"""The solve form: one source chosen among five (a schema the Prefect UI renders as buttons),
each source solving, CSV text read like a file without echoing it, and wrong combinations
refused by the server before a run exists."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from prefect.utilities.callables import parameter_schema
from pydantic import ValidationError
from sqlalchemy import func, select

from config import get_settings
from db.engine import session_scope
from db.models import Budget, ProjectSet
from flows.params import EXAMPLE_BUDGET, SolveParams
from flows.solve import solve
from solvers.files import FileFormatError
from solvers.money import MONEY_PATTERN
from tasks.data import read_csv_text

from .test_confinement import _everything_prefect_shows

SECRET = "s3cr3t-Hunter2-token"
TITLES = ["Bundled example", "File", "CSV text", "Stored dataset", "Projects"]


def _schema() -> dict:
    return parameter_schema(solve).model_dump()


def _count_sets(url: str) -> int:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(ProjectSet))


def test_the_source_is_an_anyof_of_five_titled_variants_the_ui_renders() -> None:
    """`source` is an `anyOf` (the UI's buttons; it renders no `oneOf`) of five titled variants,
    each with its own required field and `kind` accepted but not a form field; the default is
    the bundled example; budget and model version are one input each (no `| None` toggle)."""
    schema = _schema()
    defs = schema["definitions"]
    props = defs["SolveParams"]["properties"]
    source = props["source"]
    assert "oneOf" not in json.dumps(schema)
    variants = [defs[ref["$ref"].rsplit("/", 1)[1]] for ref in source["anyOf"]]
    assert [v["title"] for v in variants] == TITLES
    own = [v.get("required", []) for v in variants]
    assert own == [[], ["path"], ["text"], ["dataset_id"], ["projects"]]
    keys = [set(v["properties"]) for v in variants]
    assert keys == [{"example"}, {"path"}, {"text"}, {"dataset_id"}, {"projects"}]
    assert [v["patternProperties"]["^kind$"]["const"] for v in variants] == [
        "example", "file", "csv", "dataset", "projects"]
    assert all(v["additionalProperties"] is False for v in variants)
    assert schema["properties"]["params"]["default"]["source"]["kind"] == "example"
    assert props["budget"] == {**props["budget"], "type": "string", "pattern": MONEY_PATTERN}
    assert "anyOf" not in props["budget"] and "default" not in props["budget"]
    assert props["model_version"]["type"] == "integer" and "anyOf" not in props["model_version"]
    project = defs["InlineProject"]["properties"]
    assert project["cost"]["type"] == "string" and "anyOf" not in project["name"]


def test_python_callers_keep_the_old_fields() -> None:
    """`SolveParams(path=...)`, `projects=` (bare costs too) and `dataset_id=` still work and
    become the matching source; two of them, or none with a budget, fall back sensibly."""
    assert SolveParams(path="p.csv").source.kind == "file"
    inline = SolveParams(projects=[3, "1.50", {"cost": 2, "name": "b"}], budget=8)
    assert inline.source.kind == "projects"
    assert [p.cost for p in inline.source.projects] == [3, Decimal("1.50"), 2]
    assert SolveParams(dataset_id=4).source.dataset_id == 4
    assert SolveParams(budget="10").source.kind == "example"
    assert SolveParams(source={"text": "name,cost\na,1\n"}, budget=1).source.kind == "csv"
    with pytest.raises(ValidationError, match="exactly one of projects, path or dataset_id"):
        SolveParams(path="p.csv", dataset_id=3)
    with pytest.raises(ValidationError, match="budget: required with Projects"):
        SolveParams(projects=[1, 2])


@pytest.mark.parametrize("kind", ["example", "file", "csv", "dataset", "projects"])
def test_each_source_solves(kind, sqlite_migrated_url, prefect_harness, tmp_path,
                            monkeypatch) -> None:
    """Every source of the form solves and is recorded: the example with its own budget, a
    file in INPUT_DIRS, pasted CSV text, a stored dataset (its own budget), typed projects."""
    common = {"database_url": sqlite_migrated_url, "data_dir": str(tmp_path)}
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "p.csv").write_text("name,cost\na,10.50\nb,20\nc,7.25\n")
    monkeypatch.setenv("INPUT_DIRS", str(tmp_path / "inputs"))
    get_settings.cache_clear()
    csv = {"kind": "csv", "text": "name,cost,team\na,10.50,x\nb,20,y\nc,7.25,z\n"}
    sources = {"example": ({"kind": "example"}, None), "file": ({"kind": "file",
               "path": "p.csv"}, "30"), "csv": (csv, "30"),
               "projects": ({"kind": "projects", "projects": [
                   {"cost": "10.50", "name": "a"}, {"cost": 20}, {"cost": "7.25"}]}, "30")}
    if kind == "dataset":
        first = solve(SolveParams(source=csv, budget="30", **common))
        sources["dataset"] = ({"kind": "dataset", "dataset_id": first["dataset_id"]}, None)
    source, budget = sources[kind]
    out = solve(SolveParams(source=source, budget=budget, **common))
    assert out["status"] == "exact" and out["run_id"]
    with session_scope(sqlite_migrated_url) as s:
        amount = s.get(Budget, out["budget_id"]).amount
    if kind == "example":
        assert amount == Decimal(EXAMPLE_BUDGET) and 0 < out["total_cost"] <= amount
    else:
        assert out["total_cost"] == 27.25 and amount == 30


def test_csv_text_with_a_bad_cost_names_line_and_field_not_the_value(
        sqlite_migrated_url, prefect_harness, tmp_path) -> None:
    """CSV text whose third line has a secret for a cost fails the run naming `source.text`,
    the line and the field; the secret is in no state message, log line or artifact, and
    nothing is stored."""
    text = f"name,cost\na,5\nb,{SECRET}\n"
    state = solve(SolveParams(source={"kind": "csv", "text": text}, budget="10",
                              database_url=sqlite_migrated_url, data_dir=str(tmp_path)),
                  return_state=True)
    assert state.is_failed()
    assert "source.text line 3: projects[1].cost: must be digits" in state.message
    shown = _everything_prefect_shows(state.state_details.flow_run_id)
    shown = shown.replace(json.dumps(text)[1:-1], "")  # the run's own parameters hold it
    assert "source.text line 3: projects[1].cost" in shown
    assert SECRET not in shown and "Hunter2" not in shown
    assert _count_sets(sqlite_migrated_url) == 0


def test_csv_text_is_read_by_the_file_reader() -> None:
    """`read-csv-text` keeps names, metadata columns and lines like a CSV file, and its errors
    (no cost column, a bad cell) carry no content."""
    out = read_csv_text.fn("name,cost,team\r\na, 1200.50 ,x\r\n\r\nb,3,\r\n")
    assert out["projects"] == [{"cost": Decimal("1200.50"), "name": "a",
                                "metadata": {"team": "x"}}, {"cost": 3, "name": "b"}]
    assert out["lines"] == [2, 4] and out["file"] == "source.text"
    with pytest.raises(FileFormatError) as info:
        read_csv_text.fn(f"name,{SECRET}\na,1\n")
    assert "source.text" in str(info.value) and SECRET not in str(info.value)


@pytest.mark.parametrize(("params", "expect"), [
    ({"source": {"kind": "csv", "text": "name,cost\na,1\n"}},
     "field 'params'. Failure reason: 'budget' is a required property"),
    ({"source": {"kind": "projects", "projects": [{"cost": "1"}]}},
     "field 'params'. Failure reason: 'budget' is a required property"),
    ({"source": {"kind": "file", "path": "p.csv", "dataset_id": 3}},
     "field 'params.source'. Failure reason: 'dataset_id' does not match"),
    ({"source": {"kind": "file"}}, "field 'params.source'. Failure reason: 'path' is a "
                                   "required property"),
    ({"path": "p.csv", "dataset_id": 3}, "field 'params'. Failure reason: Additional "
                                         "properties are not allowed"),
    ({"source": {"kind": "example"}, "budget": "1.234"}, "field 'params.budget'"),
])
def test_a_wrong_combination_is_refused_before_the_run(prefect_harness, params,
                                                       expect) -> None:
    """The server refuses a run of the solve deployment whose source is incomplete or mixed
    (or whose budget is not money) with one line naming the field; no flow run is created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.exceptions import PrefectHTTPStatusError

    deployment_id = solve.to_deployment(f"form-{uuid.uuid4().hex[:8]}").apply()
    with get_client(sync_client=True) as client:
        with pytest.raises(PrefectHTTPStatusError) as info:
            client.create_flow_run_from_deployment(deployment_id,
                                                   parameters={"params": params})
        detail = info.value.response.json()["detail"]
        assert info.value.response.status_code == 409
        assert expect in detail and "\n" not in detail, detail
        runs = client.read_flow_runs(deployment_filter=DeploymentFilter(
            id=DeploymentFilterId(any_=[deployment_id])))
        assert runs == []
        ok = client.create_flow_run_from_deployment(deployment_id, parameters={"params": {
            "source": {"kind": "csv", "text": "name,cost\na,1\n"}, "budget": "5"}})
        assert ok.parameters["params"]["budget"] == "5"
