"""`solve`: one instance (inline, a file, or a stored dataset) solved and recorded.

The flow users start by hand from the UI; its default parameters solve the bundled example
portfolio, so a Quick run works as is. The answer is shown where a UI user looks: a table
artifact `solve-answer` (the chosen projects; total, budget, status, upper bound and algorithm
above it, and the runtime model's forecast — predicted seconds, expected proven within the
limit — next to the actual time) and one INFO line in the run's log.

What a UI user reaches: `path` is read only inside the `INPUT_DIRS` folders, errors about a
file name it, the line and the field but never its content, amounts follow the one money rule
(checked by the parameter model and again by `build-instance`, before anything is stored), and
the run writes only under the serving process's `DATA_DIR`.
"""

from __future__ import annotations

from prefect import flow

from config.settings import REPO_ROOT
from flows._runtime import current_flow_run_id, refuse_hidden_fields
from flows.names import SOLVE_FLOW
from flows.params import InlineProject, SolveParams
from tasks.artifacts import publish_solve_answer
from tasks.data import (
    build_instance,
    ensure_database,
    load_dataset,
    load_projects_file,
    store_datasets,
)
from tasks.ml_tasks import load_selector
from tasks.records import raise_alerts, record_solve
from tasks.solving import forecast_solve, solve_instance

EXAMPLE = SolveParams(path=str(REPO_ROOT / "data" / "examples" / "portfolio.csv"),
                      budget="1500000.00")


@flow(name=SOLVE_FLOW, validate_parameters=True)
def solve(params: SolveParams = EXAMPLE) -> dict:
    """Solve the instance with `params.algorithm` (default auto) and record the run."""
    refuse_hidden_fields(params)
    run_id = current_flow_run_id()
    url = params.database_url
    ensure_database(url)
    origin = None
    if params.dataset_id is not None:
        ds = load_dataset(params.dataset_id, url)
        projects, own_budget = ds["projects"], (ds["budgets"] or [{}])[0].get("amount")
        name = ds["name"]
    elif params.path is not None:
        origin = load_projects_file(params.path)
        projects, own_budget = origin.pop("projects"), origin.pop("budget")
        name = f"file:{params.path}"
    else:
        projects = [p.model_dump(exclude_none=True) if isinstance(p, InlineProject) else p
                    for p in params.projects or []]
        own_budget, name = None, "inline"
    instance = build_instance(projects, params.budget, own_budget, name, origin)
    stored = store_datasets([instance], url)[0]
    selector, note = (load_selector(url, params.model_version) if params.algorithm == "auto"
                      else (None, None))
    forecast = forecast_solve(instance["projects"], instance["budget"], params.algorithm,
                              params.time_limit, selector, url)
    result = solve_instance(instance["projects"], instance["budget"], params.algorithm,
                            params.time_limit, selector, note)
    result = {**result, **forecast}
    run = record_solve(result, stored, run_id, url, params.data_dir)
    raise_alerts([{**result, "dataset_id": stored["dataset_id"], "n": stored["n"]}], run_id,
                 url, params.data_dir)
    publish_solve_answer(result, instance["projects"], run)
    return {"run_id": run, "dataset_id": stored["dataset_id"], "budget_id": stored["budget_id"],
            "flow_run_id": run_id, **result}
