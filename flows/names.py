"""Flow and deployment names shared by `budget serve`, the API and the UI test.

A deployment is addressed as ``"<flow name>/<deployment name>"``.
"""

from __future__ import annotations

GENERATE_FLOW = "generate-datasets"
BENCHMARK_FLOW = "benchmark"
EXPORT_FLOW = "export-metrics"
SOLVE_FLOW = "solve"
DEMO_FLOW = "demo"
TRAIN_FLOW = "train-selector"
REPLAY_FLOW = "replay"

BENCHMARK_ADHOC = f"{BENCHMARK_FLOW}/adhoc"
BENCHMARK_NIGHTLY = f"{BENCHMARK_FLOW}/nightly"
EXPORT_DAILY = f"{EXPORT_FLOW}/daily"
SOLVE_ADHOC = f"{SOLVE_FLOW}/adhoc"
GENERATE_ADHOC = f"{GENERATE_FLOW}/adhoc"
TRAIN_WEEKLY = f"{TRAIN_FLOW}/weekly"
REPLAY_NIGHTLY = f"{REPLAY_FLOW}/nightly"
