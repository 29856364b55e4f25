"""What a Prefect UI user can reach: files only inside INPUT_DIRS, no file content in any error
that reaches Prefect, no data folder of their choosing, and money checked at the flow's door."""

from __future__ import annotations

import json
import os
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from config import EXAMPLE_PORTFOLIO, get_settings
from config.settings import Settings, examples_dir
from db.engine import session_scope
from db.models import AlgorithmRun, Project, ProjectSet
from flows import params as flow_params
from flows._runtime import refuse_hidden_fields
from flows.params import BenchmarkParams, SolveParams
from flows.solve import EXAMPLE, solve
from solvers.files import FileFormatError
from solvers.money import MONEY_PATTERN
from tasks.data import build_instance, load_projects_file, store_datasets
from tasks.solving import solve_instance

SECRET = "s3cr3t-Hunter2-token"


@pytest.fixture
def inputs(tmp_path, monkeypatch) -> Path:
    """A configured input folder (INPUT_DIRS) under tmp_path, and a secrets folder beside it."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "passwd.txt").write_text(f"{SECRET}\nsecond line\n")
    (tmp_path / "secrets" / "costs.csv").write_text("name,cost\na,5\n")
    monkeypatch.setenv("INPUT_DIRS", str(folder))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def _count(url: str, model) -> int:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(model))


def _walk(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


# --- 1. confinement of `path` -----------------------------------------------------------------

def test_default_input_folders_are_data_inputs_and_the_bundled_examples(tmp_path) -> None:
    """INPUT_DIRS left empty: `<DATA_DIR>/inputs` and the bundled examples (package data);
    `:`-separated or a JSON list otherwise."""
    assert Settings(data_dir=tmp_path).input_folders() == [tmp_path / "inputs", examples_dir()]
    assert (examples_dir() / "portfolio.csv").is_file()
    assert Settings(input_dirs="/a:/b").input_folders() == [Path("/a"), Path("/b")]
    assert Settings(input_dirs='["/x y"]').input_folders() == [Path("/x y")]


def test_the_bundled_example_is_readable_with_the_default_folders(monkeypatch) -> None:
    """The solve deployment's default (the bundled portfolio) is inside the default folders."""
    monkeypatch.delenv("INPUT_DIRS", raising=False)
    get_settings.cache_clear()
    try:
        loaded = load_projects_file.fn(str(EXAMPLE_PORTFOLIO))
    finally:
        get_settings.cache_clear()
    assert len(loaded["projects"]) > 10 and loaded["file"] == str(EXAMPLE_PORTFOLIO)
    assert EXAMPLE.source.kind == "example"


def test_relative_and_nested_paths_are_taken_inside_the_input_folder(inputs) -> None:
    """`p.csv` and `sub/../p.csv` resolve inside the input folder and are read."""
    (inputs / "p.csv").write_text("name,cost\na, 12.50 \nb,3\n")
    for given in ("p.csv", "sub/../p.csv", str(inputs / "p.csv")):
        (inputs / "sub").mkdir(exist_ok=True)
        loaded = load_projects_file.fn(given)
        assert [p["cost"] for p in loaded["projects"]] == [Decimal("12.50"), 3]
        assert loaded["lines"] == [2, 3]


@pytest.mark.parametrize("case", ["dotdot", "absolute", "symlink-file", "symlink-dir",
                                  "device", "dev-symlink"])
def test_paths_leading_out_of_the_input_folders_are_refused(inputs, case) -> None:
    """`../`, absolute paths outside, symlinks (file or folder) pointing out and devices are
    refused as outside the input folders, naming the path as given."""
    secret = inputs.parent / "secrets" / "costs.csv"
    given = {"dotdot": "../secrets/costs.csv", "absolute": str(secret),
             "symlink-file": "link.csv", "symlink-dir": "linked/costs.csv",
             "device": "/dev/zero", "dev-symlink": "zero.csv"}[case]
    (inputs / "link.csv").symlink_to(secret)
    (inputs / "linked").symlink_to(secret.parent, target_is_directory=True)
    (inputs / "zero.csv").symlink_to("/dev/zero")
    with pytest.raises(FileFormatError) as info:
        load_projects_file.fn(given)
    assert str(info.value) == (f"{given}: outside the input folders (INPUT_DIRS); a flow reads "
                               "only files inside them")


def test_stdin_and_fifos_are_refused_without_blocking(inputs) -> None:
    """`-` (serve's stdin) and a FIFO inside the folder are refused at once, never read."""
    with pytest.raises(FileFormatError, match=r"'-' \(standard input\) cannot be read"):
        load_projects_file.fn("-")
    os.mkfifo(inputs / "pipe.csv")  # opening it for reading would block until a writer came
    with pytest.raises(FileFormatError, match=r"pipe\.csv: not a regular file"):
        load_projects_file.fn("pipe.csv")
    with pytest.raises(FileFormatError, match="no such file in the input folders"):
        load_projects_file.fn("missing.csv")


def test_the_cli_loader_still_reads_any_path(inputs) -> None:
    """Without `within` (the CLI, run by the local user), a path outside INPUT_DIRS is read."""
    from solvers.files import read_projects

    outside = inputs.parent / "secrets" / "costs.csv"
    assert read_projects(outside).projects == [{"cost": 5, "name": "a"}]


# --- 2. no file content in anything Prefect shows ---------------------------------------------

def _everything_prefect_shows(flow_run_id) -> str:
    """State messages of the flow run and its task runs, every log line, every artifact."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[flow_run_id])))
        logs = client.read_logs(log_filter=LogFilter(
            flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    shown = [run.state.message or "", json.dumps(run.parameters, default=str)]
    shown += [t.state.message or "" for t in tasks if t.state]
    shown += [log.message for log in logs]
    shown += [f"{a.description} {a.data}" for a in artifacts]
    assert logs, "no log line reached the server"  # the check below would be empty
    return "\n".join(shown)


def _failed_solve(path: str, url: str):
    state = solve(SolveParams(path=path, budget="10", database_url=url), return_state=True)
    assert state.is_failed()
    return state


@pytest.mark.parametrize(("name", "content", "expect"), [
    ("passwd.txt", f"{SECRET}\nroot:x:0:0\n", "passwd.txt: no 'cost' column in the header"),
    ("dup.csv", f"cost,{SECRET},{SECRET}\n1,2,3\n", "dup.csv line 1: duplicate column"),
    ("cell.csv", f"name,cost\na,{SECRET}\n", "cell.csv line 2: projects[0].cost: must be digits"),
    ("doc.json", json.dumps({"projects": [SECRET]}), "doc.json: projects[0].cost: must be digits"),
    ("budget.json", json.dumps({"projects": [{"cost": 1, "name": SECRET}], "budget": SECRET}),
     None),
    ("long.csv", f"name,cost\n{SECRET * 20},1\n", "long.csv line 2: projects[0].name: longer"),
])
def test_a_file_inside_the_folder_is_never_echoed(inputs, sqlite_migrated_url, prefect_harness,
                                                  name, content, expect) -> None:
    """A password-like file (or a secret in a cost cell, a header, a JSON value, a name) fails
    the solve flow naming the file, line and field: the secret appears in no state message, log
    line or artifact, and nothing is stored."""
    (inputs / name).write_text(content)
    if name == "budget.json":  # the file's budget is used only when none is given
        state = solve(SolveParams(path=name, database_url=sqlite_migrated_url),
                      return_state=True)
        expect = "budget.json: budget: must be digits"
    else:
        state = _failed_solve(name, sqlite_migrated_url)
    assert state.is_failed()
    shown = _everything_prefect_shows(state.state_details.flow_run_id)
    assert expect in shown
    assert SECRET not in shown and "Hunter2" not in shown
    assert _count(sqlite_migrated_url, ProjectSet) == 0


def test_a_password_file_outside_the_folder_is_refused_unread(inputs, sqlite_migrated_url,
                                                              prefect_harness) -> None:
    """`../secrets/passwd.txt` and its absolute path fail the run without its first line in
    any state message, log or artifact (today's leak: 'no cost column (columns: <line 1>)')."""
    for given in ("../secrets/passwd.txt", str(inputs.parent / "secrets" / "passwd.txt")):
        state = _failed_solve(given, sqlite_migrated_url)
        shown = _everything_prefect_shows(state.state_details.flow_run_id)
        assert f"{given}: outside the input folders" in shown
        assert SECRET not in shown


def test_a_nul_byte_fails_at_parse_time_naming_file_line_and_field(
        inputs, migrated_db_url, prefect_harness) -> None:
    """A NUL in a CSV name or metadata cell is refused while reading: the run's message names
    the file, the line and the field; no SQL statement, no parameters, nothing stored."""
    (inputs / "nul.csv").write_text("name,cost,team\na,1,x\nb\x00c,2,y\n")
    (inputs / "nulmeta.csv").write_text("name,cost,team\na,1,x\nb,2,y\x00\n")
    for name, field in (("nul.csv", "line 3: name"), ("nulmeta.csv", "line 3: column 3")):
        state = _failed_solve(name, migrated_db_url)
        shown = _everything_prefect_shows(state.state_details.flow_run_id)
        assert f"{name} {field}: contains a NUL character" in state.message
        assert "INSERT" not in shown and "[parameters:" not in shown
    assert _count(migrated_db_url, ProjectSet) == 0


# --- 3. the data folder is not a flow parameter -----------------------------------------------

def test_data_dir_is_in_no_form_and_no_stored_parameters() -> None:
    """No flow's parameter schema has `data_dir` (nor `database_url`), and neither is ever in
    the parameters Prefect stores (model_dump)."""
    models = [flow_params.GenerateParams, flow_params.BenchmarkParams, flow_params.ExportParams,
              flow_params.SolveParams, flow_params.DemoParams, flow_params.TrainParams]
    for model in models:
        keys = set(_walk(model.model_json_schema()))
        assert "data_dir" not in keys and "database_url" not in keys, model.__name__
    dumped = BenchmarkParams(data_dir="/tmp/elsewhere", database_url="sqlite://").model_dump()
    assert "data_dir" not in dumped and "database_url" not in dumped


def test_a_deployment_run_cannot_choose_the_data_folder(monkeypatch) -> None:
    """Inside a deployment run, parameters carrying data_dir (or database_url) are refused;
    outside one (the CLI, tests) they are the local user's choice."""
    params = BenchmarkParams(data_dir="/tmp/elsewhere")
    refuse_hidden_fields(params)  # not a deployment run: allowed
    monkeypatch.setenv("PREFECT__RUNTIME__DEPLOYMENT__ID", str(uuid.uuid4()))
    with pytest.raises(ValueError, match="data_dir: not a parameter of a deployment run"):
        refuse_hidden_fields(params)
    refuse_hidden_fields(BenchmarkParams())  # the serving process's settings decide


def test_the_server_refuses_data_dir_in_a_deployment_run(prefect_harness) -> None:
    """The solve deployment's schema has no data_dir: the Prefect server refuses a run that
    passes one, and accepts the same run without it."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import PrefectHTTPStatusError

    deployment_id = solve.to_deployment(f"confinement-{uuid.uuid4().hex[:8]}").apply()
    with get_client(sync_client=True) as client:
        with pytest.raises(PrefectHTTPStatusError, match=r"'data_dir' was unexpected"):
            client.create_flow_run_from_deployment(
                deployment_id, parameters={"params": {"source": {"path": "portfolio.csv"},
                                                      "data_dir": "/tmp/elsewhere"}})
        run = client.create_flow_run_from_deployment(
            deployment_id, parameters={"params": {"source": {"path": "portfolio.csv"}}})
        assert run.parameters["params"] == {"source": {"path": "portfolio.csv"}}


# --- 4. money at the flow's door --------------------------------------------------------------

def test_money_parameters_are_one_text_field_with_the_money_pattern() -> None:
    """The UI shows budget (and each inline cost) as one text field with MONEY_PATTERN: no
    `| None` toggle, no number."""
    schema = SolveParams.model_json_schema()
    budget = schema["properties"]["budget"]
    assert budget["type"] == "string" and budget["pattern"] == MONEY_PATTERN
    assert "anyOf" not in budget
    cost = schema["$defs"]["InlineProject"]["properties"]["cost"]
    assert cost["type"] == "string" and cost["pattern"] == MONEY_PATTERN


@pytest.mark.parametrize("bad", [0.1 + 0.2, 90071992547409.93, "1e3", "1_000", "-1", True])
def test_bad_money_is_refused_by_the_parameter_model(bad) -> None:
    """The parameter model refuses what the money rule refuses (a float from the UI only below
    10**13), as a budget and as an inline cost, inline object or not."""
    with pytest.raises(ValidationError):
        SolveParams(projects=[1], budget=bad)
    with pytest.raises(ValidationError):
        SolveParams(projects=[bad], budget=1)
    with pytest.raises(ValidationError):
        SolveParams(projects=[{"cost": bad, "name": "a"}], budget=1)


def test_good_money_is_exact_from_text_and_small_floats() -> None:
    """Text, ints and floats below 10**13 become exact Decimals; the JSON dump is their text."""
    p = SolveParams(projects=["90071992547409.94", 1.5, {"cost": "2", "name": "b"}],
                    budget="90071992547409.93")
    assert p.budget == Decimal("90071992547409.93")
    assert p.model_dump(mode="json")["source"]["projects"][:2] == [
        {"cost": "90071992547409.94"}, {"cost": "1.50"}]


def test_build_store_solve_refuses_an_inexact_cost_before_storing(sqlite_migrated_url) -> None:
    """The solve flow's tasks in their order (build → store → solve) with a cost of 0.1+0.2
    (or such a budget) refuse it at build: nothing is stored (it used to be stored as 0.30)."""
    for projects, budget in (([0.1 + 0.2, 1], "5"), ([1, 2], 0.1 + 0.2)):
        with pytest.raises(ValueError, match="more decimal places than cents"):
            instance = build_instance.fn(projects, budget, None, "inline")
            stored = store_datasets.fn([instance], sqlite_migrated_url)
            solve_instance.fn(instance["projects"], instance["budget"], "auto", 1.0, None, None)
            pytest.fail(f"stored {stored}")
    assert _count(sqlite_migrated_url, ProjectSet) == 0
    assert _count(sqlite_migrated_url, Project) == 0
    assert _count(sqlite_migrated_url, AlgorithmRun) == 0


def test_an_inline_solve_keeps_money_exact(migrated_db_url, prefect_harness, tmp_path) -> None:
    """Inline text amounts beyond float precision are solved and answered exactly: the answer
    never exceeds the budget as written."""
    out = solve(SolveParams(projects=["90071992547409.94", "1.01"], budget="90071992547409.93",
                            database_url=migrated_db_url, data_dir=str(tmp_path)))
    assert out["selected_indices"] == [1]
    assert Decimal(out["total_cost_exact"]) <= Decimal("90071992547409.93")
