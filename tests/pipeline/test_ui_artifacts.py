"""What the Prefect UI shows: the solve answer, the benchmark summary, and the parameter forms."""

from __future__ import annotations

import asyncio
import base64
import inspect
import json

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.utilities.callables import parameter_schema

from flows.benchmark import benchmark
from flows.demo import demo
from flows.export import export_metrics
from flows.generate import generate_datasets
from flows.params import BenchmarkParams, SolveParams
from flows.solve import solve
from flows.train_selector import train_selector
from tasks.summary import by_size, summary_markdown, winners

pytestmark = pytest.mark.usefixtures("prefect_harness")
SMALL = {"sizes": [8, 30], "per_size": 1, "families": ["uniform", "portfolio"],
         "algorithms": ["brute_force", "dp", "greedy", "hybrid"], "time_limit": 2.0,
         "measure_memory": False}


def _artifacts(flow_run_id: str) -> dict[str, object]:
    async def read():
        async with get_client() as client:
            return await client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))

    return {a.key: a for a in asyncio.run(read())}


def _rows(artifact) -> list[dict]:
    return artifact.data if isinstance(artifact.data, list) else json.loads(artifact.data)


def test_solve_publishes_the_answer_as_a_table_artifact(sqlite_migrated_url, tmp_path) -> None:
    """A solve run publishes `solve-answer`: the chosen projects by name and exact cost, with
    total, budget, status, upper bound and algorithm above the table."""
    out = solve(SolveParams(projects=[{"name": "roof", "cost": "1200.50"},
                                      {"name": "van", "cost": 800},
                                      {"name": "desk", "cost": "450.25"}], budget=2000,
                            database_url=sqlite_migrated_url, data_dir=str(tmp_path)))
    answer = _artifacts(out["flow_run_id"])["solve-answer"]
    assert answer.type == "table"
    assert _rows(answer) == [{"index": 0, "name": "roof", "cost": "1200.50"},
                             {"index": 2, "name": "desk", "cost": "450.25"}]
    text = answer.description
    for fragment in ("**exact**", "2 of 3 projects", "| total | 1650.75 |",
                     "| budget | 2000", "| upper bound | 1650.75 |", out["algorithm"],
                     f"| run id | {out['run_id']} |"):
        assert fragment in text, fragment


def test_benchmark_summary_is_readable_in_a_browser(sqlite_migrated_url, tmp_path) -> None:
    """The benchmark's markdown embeds the plot as a PNG data URI (no local file link), shows
    statuses as a table (not a Python dict), counts new and already recorded runs apart, and
    names a winner per n; the table artifact is by n and algorithm."""
    params = BenchmarkParams(database_url=sqlite_migrated_url, data_dir=str(tmp_path), **SMALL)
    benchmark(params.model_copy(update={"algorithms": ["dp"]}))  # recorded before
    out = benchmark(params)
    arts = _artifacts(out["flow_run_id"])
    md = arts["benchmark-summary"].data
    assert "file://" not in md and "{'" not in md
    uri = md.split("](data:image/png;base64,", 1)[1].split(")", 1)[0]
    assert base64.b64decode(uri)[:4] == b"\x89PNG"
    assert "| status | runs in the plan | solved by this run |" in md
    assert f"| runs in the plan (recorded) | {out['plan_runs']} |" in md
    assert f"| … already recorded by an earlier run | {out['already_recorded']} |" in md
    assert out["already_recorded"] == 4 and out["plan_runs"] == out["runs"] + 4 == 4 * 4 - 2
    assert "## Winner by size" in md and "| 8 | " in md and "| 30 | " in md
    table = _rows(arts["benchmark-by-size"])
    assert {(r["n"], r["algorithm"]) for r in table} == {
        (n, a) for n in (8, 30) for a in SMALL["algorithms"] if (n, a) != (30, "brute_force")}
    assert sum(r["runs"] for r in table) == out["plan_runs"]
    assert [n for n in (8, 30) if sum(r["winner"] for r in table if r["n"] == n) == 1] == [8, 30]


def test_winner_is_the_most_exact_then_most_accurate_then_fastest() -> None:
    """Per n, the winner proves the most optima; ties go to accuracy, then median time."""
    def run(alg: str, n: int, status: str, total: float, t: float, ds: int = 1) -> dict:
        return {"dataset_id": ds, "budget_id": ds, "n": n, "requested_algorithm": alg,
                "algorithm": alg, "status": status, "total_cost": total, "execution_time": t}

    runs = [run("dp", 10, "exact", 100, 0.5), run("greedy", 10, "approximate", 99, 0.001),
            run("hybrid", 10, "exact", 100, 0.01), run("dp", 50, "exact", 70, 0.2, 2),
            run("greedy", 50, "approximate", 70, 0.0001, 2)]
    rows = by_size(runs)
    assert [(w["n"], w["algorithm"]) for w in winners(rows)] == [(10, "hybrid"), (50, "dp")]
    md = summary_markdown({"plan_runs": 5, "runs": 2, "already_recorded": 3,
                           "plan_statuses": {"exact": 3, "approximate": 2},
                           "statuses": {"exact": 1, "approximate": 1}}, [], rows, None)
    assert "| exact | 3 | 1 |" in md and "| approximate | 2 | 1 |" in md
    assert "data:image" not in md  # no plot, nothing embedded


@pytest.mark.parametrize("flow", [benchmark, generate_datasets, export_metrics, solve, demo,
                                  train_selector], ids=lambda f: f.name)
def test_forms_have_no_database_url_and_a_deliberate_order(flow) -> None:
    """Every flow takes one `params` object; its form has no database URL and no data folder
    anywhere, and its fields carry positions in the model's FORM_ORDER (all of it, in order)."""
    schema = parameter_schema(flow).model_dump()
    assert list(schema["properties"]) == ["params"]
    assert "database_url" not in json.dumps(schema) and "data_dir" not in json.dumps(schema)
    model = type(inspect.signature(flow.fn).parameters["params"].default)
    props = schema["definitions"][model.__name__]["properties"]
    order = sorted(props, key=lambda k: props[k]["position"])
    assert order == list(model.FORM_ORDER)
    assert [props[k]["position"] for k in order] == list(range(len(order)))
