"""`demo`: generate → benchmark → snapshot → export → train → solve-with-model, on the embedded
defaults, small and quick.

The Quickstart's main job (`budget demo`). Each step is a subflow, so the UI shows the same
runs a scheduled deployment would.
"""

from __future__ import annotations

from prefect import flow

from flows.benchmark import benchmark
from flows.export import export_metrics
from flows.generate import generate_datasets
from flows.names import DEMO_FLOW
from flows.params import BenchmarkParams, DemoParams, ExportParams, GenerateParams, TrainParams
from flows.solve import EXAMPLE, solve
from flows.train_selector import train_selector

_SHARED = ("database_url", "data_dir", "sizes", "per_size", "families", "seed")
_TRAIN = {"train", "train_min_instances", "train_time_limit", "train_max_n"}


@flow(name=DEMO_FLOW, validate_parameters=True)
def demo(params: DemoParams = DemoParams()) -> dict:  # noqa: B008
    """Generate the datasets, benchmark them, snapshot, export; return every step's summary."""
    where = {"database_url": params.database_url, "data_dir": params.data_dir}
    generated = generate_datasets(GenerateParams(**{k: getattr(params, k) for k in _SHARED}))
    bench = benchmark(BenchmarkParams(**{**params.model_dump(exclude=_TRAIN), **where}))
    exported = export_metrics(ExportParams(**where))
    out = {"generate": generated, "benchmark": bench, "export": exported}
    if params.train:
        trained = train_selector(TrainParams(
            **where, min_instances=params.train_min_instances,
            time_limit=params.train_time_limit, max_n=params.train_max_n,
            seed=params.seed or 0))
        # Solve the bundled example with what `auto` really uses now: the model just trained
        # only if it was promoted; a rejected model is never served, and the demo says why.
        version = trained["model_version"] if trained.get("promoted") else None
        solved = solve(EXAMPLE.model_copy(update={**where, "model_version": version}))
        out.update(train=trained, solve=solved, solved_with=solved_with(trained))
    return out


def solved_with(trained: dict) -> str:
    """One plain sentence: which selector solved the demo's example, and why."""
    version = trained.get("model_version")
    if trained.get("promoted"):
        return (f"The example was solved by `auto` with selector v{version}, promoted just now: "
                f"{trained.get('decision')}")
    return (f"Selector v{version} was trained but not promoted, so the example was solved by "
            f"`auto` with what it serves today (the champion, or the rules without one). Why "
            f"it was not promoted: {trained.get('decision')}")
