"""`solve`: one instance (the bundled example, a file, CSV text, a stored dataset or projects
typed in) solved and recorded.

The flow users start by hand from the UI; its default parameters solve the bundled example
portfolio with its budget, so a Quick run works as is. The source is one choice
(`params.source`, told apart by `kind`), so a form cannot combine two sources, nor leave out
a budget where the source has none: the server checks the parameters against the schema when
the run is created. The answer is shown where a UI user looks: a table artifact `solve-answer`
(the chosen projects; total, budget, status, upper bound and algorithm above it, and the
runtime model's forecast — predicted seconds, expected proven within the limit — next to the
actual time) and one INFO line in the run's log.

What a UI user reaches: a file is read only inside the `INPUT_DIRS` folders; errors about a
file or pasted CSV text name it, the line and the field but never its content; amounts follow
the one money rule (checked by the parameter model and again by `build-instance`, before
anything is stored), and the run writes only under the serving process's `DATA_DIR`.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows._runtime import current_flow_run_id, refuse_hidden_fields
from flows.names import SOLVE_FLOW
from flows.params import EXAMPLE_BUDGET, SolveParams, Source
from tasks.artifacts import publish_solve_answer
from tasks.data import (
    build_instance,
    ensure_database,
    load_dataset,
    load_example,
    load_projects_file,
    read_csv_text,
    store_datasets,
)
from tasks.ml_tasks import load_selector
from tasks.records import raise_alerts, record_solve
from tasks.solving import forecast_solve, solve_instance

EXAMPLE = SolveParams()
"""The bundled example portfolio with its budget (EXAMPLE_BUDGET): the default parameters."""


def _projects(source: Source, url: str | None) -> tuple[list[Any], Any, str, dict | None]:
    """The source's projects, its own budget (or None), a dataset name, and the file they
    came from (for error messages naming the line), each read by its task."""
    if source.kind == "dataset":
        ds = load_dataset(source.dataset_id, url)
        return ds["projects"], (ds["budgets"] or [{}])[0].get("amount"), ds["name"], None
    if source.kind == "projects":
        return [p.model_dump(exclude_none=True) for p in source.projects], None, "inline", None
    if source.kind == "file":
        origin, name = load_projects_file(source.path), f"file:{source.path}"
    elif source.kind == "csv":
        origin, name = read_csv_text(source.text), "csv-text"
    else:
        origin, name = load_example(), "example:portfolio"
        origin["budget"] = EXAMPLE_BUDGET
    return origin.pop("projects"), origin.pop("budget"), name, origin


@flow(name=SOLVE_FLOW, validate_parameters=True)
def solve(params: SolveParams = EXAMPLE) -> dict:
    """Solve the instance with `params.algorithm` (default auto) and record the run."""
    refuse_hidden_fields(params)
    run_id = current_flow_run_id()
    url = params.database_url
    ensure_database(url)
    projects, own_budget, name, origin = _projects(params.source, url)
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
