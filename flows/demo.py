"""`demo`: generate → benchmark → snapshot → export on the embedded defaults, small and quick.

The Quickstart's main job (`budget demo`). Each step is a subflow, so the UI shows the same
runs a scheduled deployment would.
"""

from __future__ import annotations

from prefect import flow

from flows.benchmark import benchmark
from flows.export import export_metrics
from flows.generate import generate_datasets
from flows.names import DEMO_FLOW
from flows.params import BenchmarkParams, DemoParams, ExportParams, GenerateParams

_SHARED = ("database_url", "data_dir", "sizes", "per_size", "families", "seed")


@flow(name=DEMO_FLOW, validate_parameters=True)
def demo(params: DemoParams = DemoParams()) -> dict:  # noqa: B008
    """Generate the datasets, benchmark them, snapshot, export; return every step's summary."""
    shared = {k: getattr(params, k) for k in _SHARED}
    generated = generate_datasets(GenerateParams(**shared))
    bench = benchmark(BenchmarkParams(**params.model_dump()))
    exported = export_metrics(ExportParams(database_url=params.database_url,
                                           data_dir=params.data_dir))
    return {"generate": generated, "benchmark": bench, "export": exported}
