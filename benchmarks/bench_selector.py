"""Selection latency of the LightGBM selector: one ``Booster.predict`` per call, one thread.

Usage::

    python benchmarks/bench_selector.py [--url DATABASE_URL] [--version V] [--calls 20000]

Loads the champion (or ``--version V``) from the registry at ``--url`` (default:
DATABASE_URL). Without a usable model it trains both LightGBM kinds on a small fresh history
(a few seconds) and measures those instead, and says so. For 200 feature mappings of
instances from every family it times:

* ``selector(feats)``: what ``solvers.auto`` pays per solve on top of the features (the budget
  is 0.2 ms);
* ``solvers.features`` + ``selector``: the whole selection from the instance;
* ``selector(feats)`` on the trivial instances only (``ml.features.is_trivial``: the rules'
  answer, no model call) and on the others;
* for reference, the sklearn-style wrapper (``LGBMClassifier.predict``) on the same rows.

Each figure is the median and 99th percentile of per-call ``perf_counter_ns`` timings after a
warm-up. Prints a markdown table and the machine line.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402

import solvers  # noqa: E402
from ml.dataset import build_dataset  # noqa: E402
from ml.features import is_trivial, vector  # noqa: E402
from ml.history import plan_instances, run_history  # noqa: E402
from ml.serving import champion_selector, load_selector, version_selector  # noqa: E402
from ml.train import train_and_save  # noqa: E402
from solvers.instances import generate  # noqa: E402


def _percentiles(samples_ns: list[int]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return statistics.median(ordered) / 1000, p99 / 1000


def _time(fn, inputs, calls: int) -> tuple[float, float]:
    for x in inputs[:50]:
        fn(x)
    samples = []
    k = len(inputs)
    for i in range(calls):
        x = inputs[i % k]
        t = time.perf_counter_ns()
        fn(x)
        samples.append(time.perf_counter_ns() - t)
    return _percentiles(samples)


def _instances() -> list[tuple[list, object]]:
    out = []
    for spec in plan_instances(200, seed=99):
        inst = generate(spec["family"], min(spec["n"], 400), spec["seed"], **spec["params"])
        out.append((inst.projects(), inst.budget))
    return out


def _fresh_selectors(tmp: Path) -> list:
    records = list(run_history(plan_instances(120, seed=5, max_n=60), 0.05))
    ds = build_dataset(records, 0.05)
    sels = []
    for kind in ("lgbm_classifier", "lgbm_regression"):
        art = train_and_save(ds, kind, tmp, baselines=())
        sels.append(load_selector({"name": f"fresh-{kind}", "version": 0, **art}))
    return sels


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip() or "?"
    return (f"{model}, {os.cpu_count()} CPUs; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}; lightgbm {lgb.__version__}, numpy "
            f"{np.__version__}; git {commit}; 1-min load average {os.getloadavg()[0]:.2f} "
            "(other jobs on the machine perturb the timings)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=None, help="registry database (default DATABASE_URL)")
    parser.add_argument("--version", type=int, default=None, help="a version, not the champion")
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args(argv)

    instances = _instances()
    feats = [solvers.features(p, b) for p, b in instances]
    champion = (champion_selector(args.url) if args.version is None
                else version_selector(args.url, args.version))
    with tempfile.TemporaryDirectory() as tmp:
        selectors = [champion] if champion is not None else _fresh_selectors(Path(tmp))
        note = ("registry model" if champion is not None
                else "no usable model in the registry: freshly trained ones")
        rows = []
        trivial = [f for f in feats if is_trivial(f)]
        hard = [f for f in feats if not is_trivial(f)]
        split = []
        for sel in selectors:
            med, p99 = _time(sel, feats, args.calls)
            full_med, full_p99 = _time(lambda pb, s=sel: s(solvers.features(*pb)), instances,
                                       min(args.calls, 5000))
            rows.append((f"{sel.name} ({sel.kind})", med, p99, full_med, full_p99))
            t_med, _ = _time(sel, trivial, args.calls) if trivial else (float("nan"), 0)
            h_med, _ = _time(sel, hard, args.calls) if hard else (float("nan"), 0)
            split.append((f"{sel.name} ({sel.kind})", t_med, h_med))
        # reference only: the sklearn wrapper on random labels, same size as our models
        sk = lgb.LGBMClassifier(n_estimators=200, num_leaves=15, min_child_samples=10,
                                deterministic=True, force_row_wise=True, n_jobs=1, verbose=-1)
        rng = np.random.default_rng(0)
        rows_x = np.vstack([vector(f) for f in feats])
        sk.fit(rows_x, rng.integers(0, 5, len(rows_x)))
        sk_med, sk_p99 = _time(lambda f: sk.predict(vector(f).reshape(1, -1)), feats,
                               min(args.calls, 3000))
    print(f"Selection latency ({note}; {args.calls} calls over {len(feats)} instances of every "
          "family; median / p99 in µs):\n")
    print("| selector | selector(feats) median | p99 | features + selector median | p99 |")
    print("|---|---:|---:|---:|---:|")
    for name, med, p99, fmed, fp99 in rows:
        print(f"| {name} | {med:.1f} | {p99:.1f} | {fmed:.1f} | {fp99:.1f} |")
    print(f"| sklearn wrapper `LGBMClassifier.predict` (reference, 200 trees) | {sk_med:.1f} | "
          f"{sk_p99:.1f} | - | - |")
    print(f"\nTrivial instances ({len(trivial)} of {len(feats)}: everything fits or at most 16 "
          "projects fit) skip the model:\n")
    print("| selector | trivial: selector(feats) median µs | others: median µs |")
    print("|---|---:|---:|")
    for name, t_med, h_med in split:
        print(f"| {name} | {t_med:.1f} | {h_med:.1f} |")
    print(f"\nMachine: {_machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
