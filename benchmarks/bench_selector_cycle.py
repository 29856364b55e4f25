"""One installation's learning cycle, simulated: user solves → replay → retrain → `auto`.

For each of two instance families that ``solvers.instances`` does not contain (defined here):

1. a user solves ``--users`` instances of the family (one a minute, timestamps increasing);
2. one replay: each is re-run over the candidate portfolio with the honest protocol (CPU
   seconds, median of ``--repeats``, the cutoff) and recorded as a ``replay`` record
   (``source="replay"``, ``user_time``), exactly what ``budget replay`` stores;
3. one retraining on the replays and a covering history of the generated families
   (``ml.selection.train_selector``: time-held-out user instances, LOFO, noise floor);
4. ``--fresh`` new instances of the family, timed over the portfolio, solved by ``auto`` with
   the served selector when it was promoted (the rules otherwise).

Reports the PAR10 of the rules, the model (auto) and the virtual best on the fresh
instances, the noise floor, both promotion comparisons, and the forecast's accuracy (on the
family the runtime model was trained on, and on the other family it never saw).

    .venv/bin/python benchmarks/bench_selector_cycle.py --generated 120 --users 100 \\
        --fresh 40 --time-limit 0.5 --out /tmp/cycle

Timings are cached under ``--out`` (pickles keyed by the arguments), so a rerun retrains only.

``--unseen-only`` measures just the forecast on families its runtime model never saw, without
the cycles: a runtime model trained on the generated suite alone, then ``--fresh`` instances of
every family here (``--families`` and ``--forecast-families``), ``auto``'s choice (the rules)
timed at ``--time-limit`` and at ``--forecast-limit``, each forecast against its timing:

    .venv/bin/python benchmarks/bench_selector_cycle.py --unseen-only --generated 60 \
        --repeats 1 --fresh 30 --time-limit 0.5 --forecast-limit 2 --out /tmp/unseen
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml.history import PORTFOLIO, instance_key, plan_instances, run_history, run_instance
from ml.labels import PAR_FACTOR, best_proven_total, run_cost


def two_scale(rng: random.Random) -> tuple[list[int], int]:
    """A quarter of huge costs (1e8..1e9) and many tiny ones (1..1000): the rules send it to
    hybrid (0.1-0.3 s), backtracking proves it in milliseconds."""
    n = rng.randint(40, 120)
    big = n // 4
    costs = [rng.randint(10**8, 10**9) for _ in range(big)]
    costs += [rng.randint(1, 1000) for _ in range(n - big)]
    rng.shuffle(costs)
    return costs, int(sum(costs) * rng.uniform(0.2, 0.8))


def few_prices(rng: random.Random) -> tuple[list[int], int]:
    """3-8 distinct large prices (1e7..1e9), each repeated: few distinct sums."""
    n = rng.randint(60, 200)
    prices = [rng.randint(10**7, 10**9) for _ in range(rng.randint(3, 8))]
    costs = [rng.choice(prices) for _ in range(n)]
    return costs, int(sum(costs) * rng.uniform(0.2, 0.8))


def sparse_large(rng: random.Random) -> tuple[list[int], int]:
    """Large distinct costs (1e10..1e13), n 30-90: meet in the middle proves n <= ~40, hybrid's
    exact routes run out of the limit from ~50 items, and exact hits are rare for its
    heuristics; many proofs fail within a short limit (the forecast's "no" is measurable)."""
    n = rng.randint(30, 90)
    costs = [rng.randint(10**10, 10**13) for _ in range(n)]
    return costs, int(sum(costs) * rng.uniform(0.2, 0.8))


FAMILIES = {"two_scale": two_scale, "few_prices": few_prices, "sparse_large": sparse_large}


def _cached(path: Path, make: Any) -> Any:
    if path.is_file():
        return pickle.loads(path.read_bytes())
    value = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(value))
    return value


def instances(family: str, count: int, seed: int) -> list[tuple[list[int], int]]:
    rng = random.Random(f"{family}-{seed}")
    return [FAMILIES[family](rng) for _ in range(count)]


def replay(items: list[tuple[list[int], int]], family: str, limit: float, repeats: int,
           start: datetime) -> list[dict[str, Any]]:
    """What a replay stores: each user instance re-run over the portfolio (honest protocol)."""
    out = []
    for i, (costs, budget) in enumerate(items):
        when = start + timedelta(minutes=i)
        runs = run_instance(costs, budget, limit, PORTFOLIO, repeats=repeats)
        out.append({"key": instance_key(costs, budget), "family": family, "source": "replay",
                    "user_time": when, "projects": costs, "budget": budget,
                    "runs": [{**r, "created_at": when + timedelta(days=1)} for r in runs]})
    return out


def cost_table(rec: dict[str, Any], limit: float) -> dict[str, float]:
    best = best_proven_total(rec["runs"])
    table = {a: PAR_FACTOR * limit for a in PORTFOLIO}
    for r in rec["runs"]:
        table[r["algorithm"]] = min(table[r["algorithm"]], run_cost(r, best, limit))
    return table


def selector_info(art: dict[str, Any], name: str) -> dict[str, Any]:
    return {"name": name, "version": 1, "path": art["path"], "sha256": art["sha256"],
            "params": art["params"], "feature_names": art["feature_names"],
            "class_order": art["class_order"]}


def forecast_accuracy(runtime: Any, fresh: list[dict[str, Any]], selector: Any,
                      limit: float, probe_seconds: float | None = None) -> dict[str, Any]:
    """Within 3x for solves >= 0.1 s (and the median |log10| error there); precision/recall of
    "will not be proven"; precision of "yes" (share of yes that were proven); what each answer
    cost to compute (mean ms per forecast, probes included)."""
    from ml.serving import forecast

    slow = within = 0
    tp = fp = fn = 0
    yes = yes_ok = 0
    errors: list[float] = []
    answers = {"yes": 0, "no": 0, "unsure": 0}
    bases: dict[str, int] = {}
    cpu = 0.0
    for rec in fresh:
        t0 = time.perf_counter()
        fc = forecast(runtime, rec["projects"], rec["budget"], "auto", limit, selector,
                      probe_seconds=probe_seconds)
        cpu += time.perf_counter() - t0
        algo = fc["predicted_algorithm"]
        table = cost_table(rec, limit)
        run = next((r for r in rec["runs"] if r["algorithm"] == algo), None)
        actual = float(run["execution_time"]) if run else limit
        proven = table.get(algo, PAR_FACTOR * limit) < PAR_FACTOR * limit
        answers[fc["proven_answer"]] += 1
        key = fc["basis"].split(":")[0][:48]
        bases[key] = bases.get(key, 0) + 1
        if actual >= 0.1:
            slow += 1
            ratio = max(fc["predicted_seconds"], 1e-6) / max(actual, 1e-6)
            within += 1 / 3 <= ratio <= 3
            errors.append(abs(float(np.log10(ratio))))
        said_no = fc["proven_answer"] == "no"
        tp += said_no and not proven
        fp += said_no and proven
        fn += (not said_no) and not proven
        yes += fc["proven_answer"] == "yes"
        yes_ok += fc["proven_answer"] == "yes" and proven
    return {"instances": len(fresh), "slow_solves": slow,
            "within_3x_slow_pct": 100.0 * within / slow if slow else None,
            "median_abs_log10_slow": float(np.median(errors)) if errors else None,
            "not_proven": tp + fn, "said_no": tp + fp, "no_true": tp,
            "no_precision": tp / (tp + fp) if tp + fp else None,
            "no_recall": tp / (tp + fn) if tp + fn else None,
            "yes_precision": yes_ok / yes if yes else None, "wrong_yes": yes - yes_ok,
            "answers": answers, "bases": bases,
            "ms_per_forecast": round(1e3 * cpu / max(len(fresh), 1), 2)}


def calibrate_backtracking() -> dict[str, Any]:
    """Seconds per 2^n of backtracking with no exact hit (random costs 1e15..1e16, budget half
    the total plus noise, n = 14..24, median of 3): ``solvers._costmodel.CostModel``'s
    ``bt_per_selection``."""
    import solvers

    rng = random.Random(7)
    out = {}
    for n in (14, 16, 18, 20, 22, 24):
        times = []
        for _ in range(3):
            costs = [rng.randint(10**15, 10**16) for _ in range(n)]
            budget = sum(costs) // 2 + rng.randint(0, 10**14)
            t0 = time.process_time()
            solvers.solve(costs, budget, "backtracking", 20.0)
            times.append(time.process_time() - t0)
        out[n] = sorted(times)[1] / 2.0**n
    return {"seconds_per_2^n": out, "load_average": os.getloadavg()}


def cycle(family: str, other: str, generated: list[dict[str, Any]], args: argparse.Namespace,
          out: Path) -> dict[str, Any]:
    from ml.selection import train_selector
    from ml.serving import load_runtime, load_selector

    limit = args.time_limit
    start = datetime(2026, 11, 1, tzinfo=UTC)
    users = instances(family, args.users, 1)
    tag = f"{family}-u{args.users}-l{limit}-r{args.repeats}"
    replays = _cached(out / f"replay-{tag}.pkl",
                      lambda: replay(users, family, limit, args.repeats, start))
    fresh_items = instances(family, args.fresh, 2)
    fresh = _cached(out / f"fresh-{family}-f{args.fresh}-l{limit}-r{args.repeats}.pkl",
                    lambda: replay(fresh_items, family, limit, args.repeats,
                                   start + timedelta(days=30)))
    t0 = time.perf_counter()
    from ml.features import FEATURE_NAMES, FEATURE_NAMES_V1

    names = FEATURE_NAMES_V1 if args.features == "v1" else FEATURE_NAMES

    def train() -> dict[str, Any]:
        o = train_selector([*generated, *replays], time_limit=limit,
                           model_dir=out / f"models-{family}", seeds=tuple(range(args.cv)),
                           noise_sample=args.noise_sample, timing_repeats=args.repeats,
                           feature_names=names)
        return {"promote": o.promote, "decision": o.decision, "artifact": o.artifact,
                "runtime": o.runtime, "metrics": o.metrics,
                "train_seconds": round(time.perf_counter() - t0, 1)}

    outcome = argparse.Namespace(**_cached(
        out / f"trained-{tag}-g{len(generated)}-{args.features}.pkl", train))
    train_s = outcome.train_seconds
    served = load_selector(selector_info(outcome.artifact, f"selector-{family}"))
    rt = outcome.runtime
    runtime = load_runtime({"name": "runtime", "version": 1, **rt}) if rt else None
    champion = served if outcome.promote else None
    import solvers

    rows = []
    for rec in fresh:
        table = cost_table(rec, limit)
        feats = solvers.features(rec["projects"], rec["budget"])
        ruled = solvers.rules(feats)
        picked = champion(feats) if champion is not None else ruled
        model_pick = served(feats) if served is not None else ruled
        rows.append((table[ruled], table[picked], table[model_pick], min(table.values())))
    arr = np.array(rows)
    other_fresh = _cached(out / f"fresh-{other}-f{args.fresh}-l{limit}-r{args.repeats}.pkl",
                          lambda: replay(instances(other, args.fresh, 2), other, limit,
                                         args.repeats, start + timedelta(days=30)))
    m = outcome.metrics
    import lightgbm as lgb

    booster = lgb.Booster(model_file=outcome.artifact["path"])
    gain = dict(zip(booster.feature_name(), booster.feature_importance("gain"), strict=True))
    total = sum(gain.values()) or 1.0
    top = sorted(((k, v / total) for k, v in gain.items()), key=lambda kv: -kv[1])[:10]
    return {
        "features": args.features,
        "gain_share_top10": [(k, round(v, 3)) for k, v in top],
        "family": family, "promoted": outcome.promote, "decision": outcome.decision,
        "train_seconds": round(train_s, 1), "rows": m["rows"],
        "noise_floor": {k: m["noise_floor"].get(k) for k in
                        ("instances", "label_agreement", "oracle_regret_s", "margin")},
        "promotion_checks": m["promotion_checks"],
        "time_holdout_deviations": (m.get("time_holdout") or {}).get("deviations"),
        "lofo_deviations": m.get("lofo_deviations"),
        "fresh": {"instances": len(fresh), "rules_par10": float(arr[:, 0].mean()),
                  "auto_par10": float(arr[:, 1].mean()),
                  "model_par10": float(arr[:, 2].mean()), "vbs_par10": float(arr[:, 3].mean()),
                  "auto_over_vbs": float(arr[:, 1].mean() / arr[:, 3].mean()),
                  "rules_over_vbs": float(arr[:, 0].mean() / arr[:, 3].mean())},
        "forecast_trained_family": forecast_accuracy(runtime, fresh, champion, limit,
                                                     args.probe)
        if runtime else None,
        "forecast_unseen": {
            name: forecast_accuracy(runtime, recs, champion, limit, args.probe)
            for name, recs in [(other, other_fresh), *unseen_fresh(args, out, family, other)]}
        if runtime else None,
        "forecast_unseen_at_limit": {
            name: forecast_accuracy(runtime, at_limit(recs, name, champion, args, out),
                                    champion, args.forecast_limit, args.probe)
            for name, recs in [(other, other_fresh), *unseen_fresh(args, out, family, other)]}
        if runtime and args.forecast_limit else None,
    }


def at_limit(recs: list[dict[str, Any]], name: str, selector: Any, args: argparse.Namespace,
             out: Path) -> list[dict[str, Any]]:
    """The same fresh instances timed again at ``--forecast-limit`` (honest protocol), only
    the algorithm ``auto`` runs with ``selector`` (its choice does not depend on the limit)."""
    import solvers
    from solvers.auto import choose

    limit = args.forecast_limit
    label = getattr(selector, "name", "rules").replace(":", "_").replace("@", "_")

    def timed() -> list[dict[str, Any]]:
        done = []
        for rec in recs:
            feats = solvers.features(rec["projects"], rec["budget"])
            algo = choose(feats, selector, solvers.ALGORITHMS)[0]
            runs = run_instance(rec["projects"], rec["budget"], limit, [algo],
                                repeats=args.repeats)
            done.append({**rec, "runs": runs})
        return done

    return _cached(out / f"fresh-{name}-f{len(recs)}-l{limit}-r{args.repeats}-{label}.pkl",
                   timed)


def unseen_fresh(args: argparse.Namespace, out: Path, *skip: str
                 ) -> list[tuple[str, list[dict[str, Any]]]]:
    """Fresh timed instances of the ``--forecast-families`` (no cycle trains on them)."""
    limit = args.time_limit
    start = datetime(2026, 11, 1, tzinfo=UTC)
    found = []
    for name in [f for f in args.forecast_families.split(",") if f and f not in skip]:
        found.append((name, _cached(
            out / f"fresh-{name}-f{args.fresh}-l{limit}-r{args.repeats}.pkl",
            lambda name=name: replay(instances(name, args.fresh, 2), name, limit,
                                     args.repeats, start + timedelta(days=30)))))
    return found


def unseen_only(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """The forecast of ``auto`` (the rules: no selector) on families the runtime model never
    saw, at each limit (see the module docstring)."""
    from ml.runtime import train_runtime
    from ml.serving import load_runtime

    limit = args.time_limit
    gen = _cached(out / f"generated-{args.generated}-n{args.max_n}-l{limit}-r{args.repeats}.pkl",
                  lambda: list(run_history(plan_instances(args.generated, 7, max_n=args.max_n),
                                           limit, PORTFOLIO, repeats=args.repeats)))
    art = train_runtime(gen, limit, out / "models-generated", evaluate=False)
    runtime = load_runtime({"name": "runtime", "version": 1, **art})
    names = [f for f in [*args.families.split(","), *args.forecast_families.split(",")] if f]
    limits = [limit] + ([args.forecast_limit] if args.forecast_limit else [])
    report: dict[str, Any] = {"load_average_start": os.getloadavg(), "generated": len(gen),
                              "runtime_rows": art["params"]["rows"], "families": {}}
    for name in names:
        recs = [{"projects": c, "budget": b, "family": name}
                for c, b in instances(name, args.fresh, 2)]
        for lim in limits:
            timed = at_limit(recs, name, None, argparse.Namespace(**{
                **vars(args), "forecast_limit": lim}), out)
            report["families"][f"{name}@{lim:g}"] = forecast_accuracy(
                runtime, timed, None, lim, args.probe)
    report["load_average_end"] = os.getloadavg()
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generated", type=int, default=120)
    ap.add_argument("--max-n", type=int, default=300)
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--fresh", type=int, default=40)
    ap.add_argument("--time-limit", type=float, default=0.5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cv", type=int, default=1, help="repeats of the stratified 5-fold")
    ap.add_argument("--noise-sample", type=int, default=24)
    ap.add_argument("--families", default="two_scale,few_prices")
    ap.add_argument("--features", choices=["v1", "v2"], default="v2",
                    help="selector feature set: v2 with the shape features (default), v1 without")
    ap.add_argument("--forecast-families", default="sparse_large",
                    help="families only forecast (never trained on by any cycle)")
    ap.add_argument("--probe", type=float, default=None,
                    help="the forecast's probe seconds (default ml.runtime.PROBE_SECONDS; "
                         "0: no probe)")
    ap.add_argument("--forecast-limit", type=float, default=None,
                    help="also forecast the unseen families at this limit (their auto choice "
                         "timed again at it)")
    ap.add_argument("--unseen-only", action="store_true",
                    help="only the forecast on unseen families (runtime model trained on the "
                         "generated suite alone); see the module docstring")
    ap.add_argument("--calibrate", action="store_true",
                    help="only measure backtracking's seconds per 2^n without a hit")
    ap.add_argument("--out", default="/tmp/selector-cycle")
    args = ap.parse_args()
    if args.calibrate:
        print(json.dumps(calibrate_backtracking(), indent=1))
        return 0
    out = Path(args.out)
    limit = args.time_limit
    if args.unseen_only:
        report = unseen_only(args, out)
        print(json.dumps(report, indent=1, default=str))
        return 0
    gen = _cached(out / f"generated-{args.generated}-n{args.max_n}-l{limit}-r{args.repeats}.pkl",
                  lambda: list(run_history(plan_instances(args.generated, 7, max_n=args.max_n),
                                           limit, PORTFOLIO, repeats=args.repeats)))
    names = args.families.split(",")
    report = {"load_average_start": os.getloadavg(), "time_limit": limit,
              "generated": len(gen), "cycles": []}
    for i, family in enumerate(names):
        report["cycles"].append(cycle(family, names[(i + 1) % len(names)], gen, args, out))
        print(json.dumps(report["cycles"][-1], indent=1, default=str), flush=True)
    report["load_average_end"] = os.getloadavg()
    suffix = "" if args.probe is None else f"-probe{args.probe:g}"
    suffix += "" if args.forecast_limit is None else f"-fl{args.forecast_limit:g}"
    (out / f"report-{args.features}{suffix}.json").write_text(
        json.dumps(report, indent=1, default=str))
    print(json.dumps({k: report[k] for k in ("load_average_start", "load_average_end")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
