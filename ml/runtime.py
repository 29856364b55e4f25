"""The learned runtime model: log10 CPU seconds of one (instance, algorithm) run.

One LightGBM regressor over (selector features, algorithm index as a categorical feature),
trained on every recorded run of the history (``execution_time``: median CPU seconds; a run that
hit the cutoff counts at the cutoff, which is also what it costs a benchmark batch). It is
versioned in the model registry under its own name (``RUNTIME_MODEL_NAME``, ``params.kind ==
"runtime"``) and served by ``ml.serving.runtime_model`` as ``predict_seconds(features,
algorithm)``; ``tasks.plan.make_batches`` balances benchmark batches with it.

Besides the selector's O(1) features, the model sees a **greedy probe** (``probe``: one greedy
solve, O(n log n)): whether greedy already hits the budget and how far it stays below. What
makes a family slow for the exact methods (avis, somatoth: no subset reaches the budget, so
nothing ends the search early) is invisible in the cost statistics but shows in that gap, and
it generalises across families. A mapping without the probe keys predicts with them missing
(LightGBM's own missing-value branch), so ``predict_seconds(solvers.features(...), a)`` works.

**Worst-case envelope.** A family whose instances never end early (nothing reaches the budget)
is slow for reasons no other family shows, so a model trained without it predicts the early
exits it has seen. When the probe says greedy misses the budget (no early proof), planners use
max(model, envelope): brute force ``c · 2^n_fit``, meet in the middle ``c · 2^(n_fit/2) ·
n_fit``, dp ``c · n_fit · (budget_reduced + 1)`` (each ``c`` the 90th percentile of seconds per
unit of work in the history), backtracking its time limit (it has no better bound); each
capped at the time limit.

Held-out quality is measured leave-one-family-out: the median absolute log10 error and the
share of runs predicted within 3× of their measured time, on families the model never saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

import solvers

from . import RUNTIME_MODEL_NAME
from . import features as ml_features
from .models import LGBM_BASE_PARAMS
from .train import library_versions, save_booster

__all__ = [
    "ALGORITHM_FEATURE",
    "FLOOR_SECONDS",
    "PROBE_NAMES",
    "RUNTIME_KIND",
    "RUNTIME_MODEL_NAME",
    "RUNTIME_ROUNDS",
    "fit_runtime",
    "probe",
    "runtime_rows",
    "train_runtime",
]

RUNTIME_KIND = "runtime"
ALGORITHM_FEATURE = "algorithm"
FLOOR_SECONDS = 1e-5  # below the resolution that matters for planning
RUNTIME_ROUNDS = 150
PROBE_NAMES = ("greedy_hit", "log2_greedy_gap", "greedy_gap_over_min")
RUNTIME_FEATURES: tuple[str, ...] = (*ml_features.FEATURE_NAMES, *PROBE_NAMES)
RUNTIME_FEATURES_V1: tuple[str, ...] = (*ml_features.FEATURE_NAMES_V1, *PROBE_NAMES)
KNOWN_RUNTIME_FEATURE_SETS = (RUNTIME_FEATURES, RUNTIME_FEATURES_V1)
"""Feature sets of runtime models this code serves (v1: before the shape features)."""


def probe(projects: Any, budget: Any, feats: Mapping[str, float] | None = None
          ) -> dict[str, float]:
    """The greedy probe: 1.0 when greedy's total equals the budget, log2(1 + budget − total),
    and that gap over the cheapest project (O(n log n))."""
    result = solvers.solve(projects, budget, algorithm="greedy", measure_memory=False)
    total = float(result.get("total_cost_exact") or result["total_cost"])
    cap = float(result.get("budget_exact") or result.get("budget") or budget)
    gap = max(cap - total, 0.0)
    base = feats or solvers.features(projects, budget)
    low = float(base["cost_min"]) or 1.0
    return {"greedy_hit": float(gap == 0), "log2_greedy_gap": float(np.log2(1.0 + gap)),
            "greedy_gap_over_min": gap / low}


def work(algorithm: str, feats: Mapping[str, float]) -> float | None:
    """The analytic worst-case work of ``algorithm`` (None: no bound but the time limit)."""
    n_fit = float(feats["n_fit"])
    if algorithm == "brute_force":
        return 2.0 ** n_fit
    if algorithm == "meet_in_the_middle":
        return 2.0 ** (n_fit / 2) * max(n_fit, 1.0)
    if algorithm == "dp":
        return n_fit * (float(feats["budget_reduced"]) + 1.0)
    return None


ENVELOPE_ALGORITHMS = ("brute_force", "meet_in_the_middle", "dp")
UNBOUNDED = ("backtracking",)  # worst case: the time limit


def envelope(records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Seconds per unit of work (90th percentile over runs above 1 ms) per bounded algorithm."""
    ratios: dict[str, list[float]] = {a: [] for a in ENVELOPE_ALGORITHMS}
    for rec in records:
        feats = solvers.features(rec["projects"], rec["budget"])
        for run in rec["runs"]:
            a = run["algorithm"]
            seconds = float(run["execution_time"] or 0.0)
            if a in ratios and seconds > 1e-3:
                ratios[a].append(seconds / max(work(a, feats) or 1.0, 1.0))
    return {a: float(np.quantile(v, 0.9)) for a, v in ratios.items() if v}


def runtime_vector(feats: Mapping[str, float],
                   names: Sequence[str] = RUNTIME_FEATURES) -> np.ndarray:
    """Selector features then probe features in ``names`` order (NaN where the mapping has
    no probe or no shape)."""
    full = feats if "fit_ratio" in feats else ml_features.extend(feats)
    return np.array([full.get(f, feats.get(f, np.nan)) for f in names], dtype=np.float64)


def runtime_rows(records: Sequence[Mapping[str, Any]], time_limit: float | None = None
                 ) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """(X, y, families, algorithms): one row per recorded run; X's last column is the
    algorithm's index in ``algorithms`` (sorted names), y is log10 of its CPU seconds (floored
    at ``FLOOR_SECONDS``, capped at ``time_limit`` when given)."""
    algorithms = sorted({r["algorithm"] for rec in records for r in rec["runs"]}
                        - {"auto"})
    index = {a: i for i, a in enumerate(algorithms)}
    rows, ys, fams = [], [], []
    for rec in records:
        feats = instance_vector(rec)
        for run in rec["runs"]:
            if run["algorithm"] not in index:
                continue
            seconds = float(run["execution_time"] or 0.0)
            if time_limit is not None:
                seconds = min(seconds, time_limit)
            rows.append(np.append(feats, index[run["algorithm"]]))
            ys.append(np.log10(max(seconds, FLOOR_SECONDS)))
            fams.append(rec.get("family", "custom"))
    width = len(RUNTIME_FEATURES) + 1
    return (np.array(rows, dtype=np.float64).reshape(-1, width), np.array(ys, dtype=np.float64),
            fams, algorithms)


def instance_vector(rec: Mapping[str, Any]) -> np.ndarray:
    """The runtime features of one record's instance (selector features and the probe)."""
    base = solvers.features(rec["projects"], rec["budget"])
    return runtime_vector({**base, **probe(rec["projects"], rec["budget"], base)})


def fit_runtime(X: np.ndarray, y: np.ndarray, rounds: int = RUNTIME_ROUNDS) -> lgb.Booster:
    """The regressor (deterministic, one thread), algorithm column categorical."""
    params = {**LGBM_BASE_PARAMS, "objective": "regression"}
    data = lgb.Dataset(X, label=y, free_raw_data=False,
                       feature_name=[*RUNTIME_FEATURES, ALGORITHM_FEATURE],
                       categorical_feature=[X.shape[1] - 1], params={"verbosity": -1})
    return lgb.train(params, data, num_boost_round=rounds)


def _errors(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    err = np.abs(pred - y)
    return {"median_abs_log10": float(np.median(err)), "mean_abs_log10": float(err.mean()),
            "within_3x_pct": float(100.0 * np.mean(err <= np.log10(3.0)))}


def lofo_errors(X: np.ndarray, y: np.ndarray, families: Sequence[str],
                rounds: int = RUNTIME_ROUNDS) -> dict[str, Any]:
    """Errors on each family when trained on the others, and pooled."""
    fam = np.asarray(list(families))
    names = sorted(set(fam.tolist()))
    if len(names) < 2:
        return {"families": {}, "pooled": None}
    pred = np.zeros_like(y)
    per: dict[str, dict[str, float]] = {}
    for name in names:
        test = fam == name
        booster = fit_runtime(X[~test], y[~test], rounds)
        pred[test] = booster.predict(X[test], num_threads=1)
        per[name] = {**_errors(pred[test], y[test]), "runs": int(test.sum())}
    return {"families": per, "pooled": _errors(pred, y)}


def train_runtime(records: Sequence[Mapping[str, Any]], time_limit: float,
                  model_dir: str | Path, rounds: int = RUNTIME_ROUNDS,
                  evaluate: bool = True) -> dict[str, Any] | None:
    """Fit on every run, save ``runtime-<sha12>.txt``, describe it (None: no runs)."""
    X, y, families, algorithms = runtime_rows(records, time_limit)
    if len(y) < 10:
        return None
    metrics = {"runs": len(y), "algorithms": algorithms}
    if evaluate:
        metrics["lofo"] = lofo_errors(X, y, families, rounds)
    booster = fit_runtime(X, y, rounds)
    metrics["train"] = _errors(booster.predict(X, num_threads=1), y)
    metrics["envelope"] = envelope(records)
    path, sha = save_booster(booster, model_dir, "runtime")
    from .trust import fit_trust

    instances = np.unique(X[:, :-1], axis=0)  # one row per instance (its runs share it)
    region = fit_trust(instances)
    t_path, t_sha = region.save(model_dir, "runtime-trust")
    metrics["trust_radius"] = region.radius
    return {
        "kind": RUNTIME_KIND, "path": str(path), "sha256": sha,
        "params": {"kind": RUNTIME_KIND, "num_boost_round": rounds, "time_limit": time_limit,
                   "floor_seconds": FLOOR_SECONDS, "rows": len(y),
                   "envelope": metrics["envelope"],
                   "trust": {"path": str(t_path), "sha256": t_sha, "radius": region.radius},
                   "target": "log10 CPU seconds"},
        "feature_names": list(RUNTIME_FEATURES), "class_order": algorithms,
        "library_versions": library_versions(), "metrics": metrics,
    }


# ------------------------------------------------------------------ the solvers' own view

HYBRID_LIKE = ("hybrid",)
"""Algorithms that plan an exact fallback from the time limit (and their configurations)."""


def outlook(projects: Any, budget: Any, algorithm: str, time_limit: float | None,
            limits: solvers.Limits | None = None) -> dict[str, Any] | None:
    """What the solvers themselves know, structurally, about proving this instance with
    ``algorithm`` within ``time_limit`` (no solve; O(n log n)): the reduced core the solve
    would see (after dropping what cannot fit and dividing by the gcd), each exact route the
    algorithm can take with the reference cost model's seconds (``hybrid.estimated_seconds``:
    dp by its table bits or refused by the memory cap, meet in the middle's 2^(n/2), Schroeppel–
    Shamir's sweep, the bounded and balanced dps), hybrid's planned fallback
    (``hybrid.plan_fallback``), and the expected number of selections that reach the proven
    upper bound exactly (``log10_hits``; below about 0.1, no heuristic hit can end the search:
    only an exhaustive method proves it). None when preprocessing alone decides the instance
    (nothing left to search) or the solvers' internals cannot be read (then nothing is claimed).

    Keys: ``n`` (core items), ``routes`` ({method: seconds} the algorithm may run; empty when
    it has none but its time limit: backtracking), ``refused`` (the algorithm itself refuses
    this core: dp over the memory cap, meet in the middle past its size), ``cheapest``
    (seconds, inf without a route), ``fallback`` (hybrid's plan), ``planned`` (the seconds of
    the exact route the algorithm will actually run: for hybrid its planned fallback's, inf
    when that is backtracking without an estimate; else ``cheapest``), ``log10_hits``,
    ``log2_selections`` (distinct selections, Π(m_i + 1)), ``bound_is_budget`` (the proven
    upper bound is the reduced budget, not the cardinality bound, which the largest items
    reach by construction).
    """
    try:  # the solvers' private preprocessing, read-only (see the report: a public helper)
        from solvers import _scales, dp, hybrid, meet_in_the_middle
        from solvers._core import parse_call, prepare

        problem, lim, tl = parse_call(projects, budget, time_limit, limits)
        core = prepare(problem, lim, None).core
    except solvers.InvalidInputError:
        raise
    except Exception:  # an internal change in solvers/: no structural claim
        return None
    if core is None:
        return None
    limit = tl if tl is not None else lim.default_time_limit
    core.seconds = limit
    base = solvers.CONFIGURATIONS[algorithm].algorithm if algorithm in \
        solvers.CONFIGURATIONS else algorithm
    refused = False
    fallback = None
    first_method = None
    if base in HYBRID_LIKE:
        # as hybrid does first: the residue step lowers the bound, and proves it when found
        proven_by_residue = hybrid.residue_step(core) is not None
        routes = hybrid.estimated_seconds(core)
        fallback = hybrid.plan_fallback(routes, limit if limit is not None else np.inf)
        first_method = "residue" if proven_by_residue else hybrid.exact_first(core, routes)
    elif base == "dp":
        refused = dp.refusal(core) is not None
        routes = {} if refused else {"dp": dp.predicted_seconds(core)}
    elif base == "meet_in_the_middle":
        refused = meet_in_the_middle.refusal(core) is not None
        routes = {} if refused else {base: meet_in_the_middle.estimated_seconds(core)}
    else:  # backtracking (and brute force, refused elsewhere): no bound but the limit
        routes = {}
    values, counts = np.unique(np.asarray(core.costs, dtype=object).astype(float)
                               if core.array is None else core.array, return_counts=True)
    # the solvers' own estimate (multisets of equal costs; costs on two scales: only the huge
    # ones landing in the tiny ones' window, and only their selections to enumerate)
    log10_hits, log2_sets = _scales.hits_and_search(values, counts, float(core.upper_bound))
    cheapest = float(min(routes.values(), default=np.inf))
    # hybrid runs only the exact method it plans from the limit (deterministic: the cheapest
    # within PLAN_SHARE of it, else backtracking), so a route it does not plan cannot prove it
    planned = float(routes.get(fallback, np.inf)) if fallback is not None else cheapest
    core_hits = birthday_seconds = None
    if base in HYBRID_LIKE and limit is not None and planned > limit:
        core_hits, birthday_seconds = _core_hits(core, limit)
    return {"n": core.n, "routes": {k: float(v) for k, v in routes.items()},
            "refused": refused, "cheapest": cheapest, "planned": planned,
            "fallback": fallback, "log10_hits": log10_hits, "log2_selections": log2_sets,
            "core_hits": core_hits, "birthday_seconds": birthday_seconds,
            "exact_first": first_method,
            "bound_is_budget": core.upper_bound >= core.budget, "time_limit": limit}


def _core_hits(core: Any, limit: float) -> tuple[float | None, float | None]:
    """log10 of the hits hybrid's difference core expects when no exact route fits, or None
    when it cannot say; and the birthday search's expected seconds when ``core_hit`` runs it
    first (else None).

    n ≤ ``SMALL_N`` with an enumerable plan whose builds fit: the solver's own scoring
    (``solvers._bigcore.core_plans``, which ``_enumerated_hit`` chooses by), given the time
    the core gets (half the limit left after the quick core search). Otherwise (no such plan,
    or more items, or when that plan finds nothing) the solver's other core, the greedy-and-
    moves one (``_bigcore.generic_expected_hits``: its own targets in its window, each at its
    sums' density there); the two add up. Before both, the generalised birthday search
    (``solvers._birthday``) when its plan fits the core's time as ``core_hit`` decides: its
    hits a try times the tries that fit; it is the only core counted when the sums pass int64."""
    try:
        from solvers import _bigcore as bc
        from solvers import hybrid

        seconds = (limit - min(hybrid.QUICK_CORE_SECONDS, limit / 8)) / 2
        expected = 0.0
        first = None
        a = core.array
        wagner, goes_first, budget = bc.birthday_route(core, seconds)
        if wagner is not None:
            tries = (budget - wagner.setup_seconds()) / wagner.try_seconds()
            expected += wagner.hits_per_try * max(tries, 1.0)
            if goes_first:
                first = wagner.seconds()
        if a is None or not bc.MIN_N <= core.n <= hybrid.LARGE_N:  # O(n log n): bounded
            return (float(np.log10(expected)) if expected > 0 else None), first
        s = a[core.sorted_order()]
        kmax = bc._max_core(core)
        if core.n <= bc.SMALL_N:
            plans = bc.core_plans(s, kmax, seconds, core.upper_bound)
            if any(plan.build_seconds < seconds for plan in plans):
                expected += max(plan.expected_hits for plan in plans)
        # the other core runs too when that one finds nothing: its own targets and density
        other = bc.generic_expected_hits(core, seconds if core.n <= bc.SMALL_N else limit / 2)
        if other is None and expected == 0.0:
            return None, first
        expected += other or 0.0
        return (float(np.log10(expected)) if expected > 0 else -300.0), first
    except Exception:  # an internal change in solvers/: no claim
        return None, None


NO_MARGIN = 2.0
"""Structural "no" needs every exact route, and backtracking's exhaustive search, predicted at
more than this many times the limit."""
LOG10_HITS_NO = -1.5
"""Structural "no" needs fewer than 10^this expected selections reaching the bound (so no
heuristic hit or early stop can end the search). Chosen on the generated suite (the runtime
model's own training families), never on the families it is evaluated on: there the largest
value of a proven instance was -1.1 (portfolio, n=33), the smallest of an unproven one -2.7
(todd)."""
CORE_HITS_NO = -1.5
"""Structural "no" also when hybrid's difference cores (its only way to a proof once no exact
route fits) expect fewer than 10^this hits in their time (``_core_hits``: the solver's own
scoring of its enumerated core when that core's builds fit, plus its greedy-and-moves core's
targets): under 0.03 expected hits. Set on the generated suite (the runtime model's own
families; `pe` with e = 11..15, n = 70..120 at 0.5 s and 2 s, 72 runs): the lowest estimate of
a proven instance there was 10^-1.1, none was proven below 10^-1.5."""
PROBE_SECONDS = 0.01
"""The forecast's probe: the predicted algorithm run for at most this long on an instance the
learned model and the structure leave undecided (0 disables)."""


def exhaustive_seconds(view: Mapping[str, Any]) -> float:
    """Backtracking's predicted seconds to enumerate every distinct selection (the solvers'
    cost model: ``bt_per_selection``, calibrated by ``bench_selector_cycle.py --calibrate``)."""
    from solvers._costmodel import cost_model

    return cost_model().backtracking(float(view["log2_selections"]))


def structural_route(view: Mapping[str, Any] | None, limit: float | None) -> bool:
    """Does the solvers' own view leave a way to a proof within ``limit``: the exact route the
    algorithm will run (``planned``) or backtracking's exhaustive search fits, or at least one
    selection is expected to reach the bound (a heuristic hit or the core can end it)? True
    when nothing is known (no view, no limit)."""
    if view is None or limit is None or not view["bound_is_budget"]:
        return True
    if view["planned"] <= limit or exhaustive_seconds(view) <= limit:
        return True
    core = view.get("core_hits")
    return view["log10_hits"] >= 0.0 and (core is None or core >= CORE_HITS_NO
                                           or "backtracking" in view["routes"])


def structural_no(view: Mapping[str, Any] | None, limit: float | None) -> str | None:
    """Why no exact method of the solvers can prove this instance within ``limit`` (their own
    cost model), or None when they might: the exact route the algorithm will take (``planned``:
    hybrid runs only the fallback it plans from the limit, so a route it does not plan cannot
    prove anything) is predicted over ``NO_MARGIN`` × the limit (or refused), backtracking's
    exhaustive search too, and fewer
    than 10^``LOG10_HITS_NO`` selections are expected to reach the proven bound (the bound is
    the budget: the cardinality bound is reached by construction)."""
    if view is None or limit is None or not view["bound_is_budget"]:
        return None
    if view["planned"] <= NO_MARGIN * limit:
        return None
    search = exhaustive_seconds(view)
    if search <= NO_MARGIN * limit:
        return None
    routes = ", ".join(f"{k} {v:.3g} s" for k, v in sorted(view["routes"].items()))
    head = (f"no exact route within the {limit:g} s limit (the solvers' cost model: "
            f"{routes or 'none applies'}; exhaustive search ~{search:.2g} s)")
    if view["log10_hits"] < LOG10_HITS_NO:
        return (f"{head} and about 10^{view['log10_hits']:.1f} selections reach the bound: "
                "not proven")
    core = view.get("core_hits")
    # the cores are the only way left unless backtracking is priced (costs on two scales):
    # its estimate is a search without a hit, and the hits expected there end it sooner
    if core is not None and core < CORE_HITS_NO and "backtracking" not in view["routes"]:
        return (f"{head}, and hybrid's difference core expects 10^{max(core, -99):.1f} hits "
                "in the time it gets: not proven")
    return None


def plan_seconds(view: Mapping[str, Any], algorithm: str, limit: float | None,
                 after: float = 0.0) -> float | None:
    """hybrid's planned time before its fallback ends: its heuristic allotments (the quick core
    search for n ≤ ``SMALL_N``, then the core search: ``min(heuristic_seconds, cheapest ×
    share, time left / 4)``, and at most half the slack a planned method leaves) plus
    ``after`` (the fallback's own seconds); when the core step's birthday search goes first
    (``birthday_seconds`` in the view) the quick search plus ``after`` or, without it, the
    search's expected seconds. None for other algorithms. From the configuration's settings
    and the cost model, capped at ``limit``."""
    from solvers import _residue, hybrid

    config = solvers.CONFIGURATIONS.get(algorithm)
    if (config.algorithm if config is not None else algorithm) != "hybrid":
        return None
    settings = config.settings if config is not None else hybrid.DEFAULT_CONFIG
    lim = limit if limit is not None else np.inf
    cheapest = view["cheapest"]
    routes = view["routes"]
    if view.get("exact_first") == "residue":  # the residue step proves it before anything
        return float(min(lim, _residue.SECONDS_PER_ITEM * view["n"]))
    if view.get("exact_first") or (routes and min(routes, key=routes.__getitem__)
                                   == "backtracking" and cheapest <= lim * hybrid.PLAN_SHARE):
        # the exact method runs first: priced backtracking (costs on two scales), a
        # Schroeppel–Shamir priced to stop at its first hit, or one cheaper than guessing
        return float(min(lim, after))
    quick = (min(settings.quick_core_seconds, cheapest * settings.heuristic_share, lim / 8)
             if view["n"] <= hybrid.SMALL_N else 0.0)
    first = view.get("birthday_seconds")
    if first is not None:  # the core step's birthday search goes first and expects its hit
        return float(min(lim, quick + (after if after > 0 else first)))
    search = min(settings.heuristic_seconds, cheapest * settings.heuristic_share,
                 (lim - quick) / 4)
    if cheapest <= lim * hybrid.PLAN_SHARE:  # the searches leave the planned method its time
        search = min(search, max(0.0, (lim - quick - cheapest * hybrid.FALLBACK_MARGIN) / 2))
    return float(min(lim, quick + search + after))


def probe_solve(projects: Any, budget: Any, algorithm: str, seconds: float,
                limits: solvers.Limits | None, view: Mapping[str, Any] | None
                ) -> tuple[float, str | None] | None:
    """Run ``algorithm`` for at most ``seconds``: (CPU seconds, hybrid's stage) when it proved
    the instance in a way the full solve repeats, else None. hybrid plans its fallback from the
    limit, so a proof by a fallback the full limit would not plan (backtracking under the
    probe's tiny limit, meet in the middle under the full one) does not count; a proof by its
    heuristics or the difference core does, and any other algorithm's does (same search, more
    time)."""
    import time

    cpu = time.process_time()
    result = solvers.solve(projects, budget, algorithm=algorithm, time_limit=seconds,
                           measure_memory=False, limits=limits or solvers.DEFAULT_LIMITS)
    cpu = time.process_time() - cpu
    if result["status"] != "exact":
        return None
    stage = result.get("stage")
    if stage is not None and view is not None and view.get("fallback") is not None:
        planned = {"heuristic", "core", view["fallback"]}
        if view["routes"]:
            planned.add(min(view["routes"], key=view["routes"].__getitem__))
        if stage not in planned:
            return None
    return cpu, stage
