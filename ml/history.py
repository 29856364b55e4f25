"""A covering run history built by calling the solvers, independent of the pipeline.

``plan_instances(count, seed)`` draws (family, n, seed, params) over every family of
``solvers.instances`` with sizes spanning the regions where different algorithms win: tiny n
(brute force, meet in the middle), mid n with large coefficients (meet in the middle vs
backtracking), large n with small coefficients (dp, greedy), dense money portfolios (hybrid).
``run_history(plan, time_limit)`` solves each instance with every algorithm in ``ALGORITHMS``
(the candidates plus ``hybrid``, its own baseline) and returns plain rows; ``algorithms=`` may
add the named configurations of ``solvers.CONFIGURATIONS`` (``PORTFOLIO``: everything), timed
the same way. A configuration's run row has the configuration's name as its ``algorithm``.

**Timing.** A run's ``execution_time`` is CPU seconds (``time.process_time`` around
``solvers.solve``), the median of ``repeats`` runs (default 3): wall time on a shared machine
and a single sample made two identical labelings agree on only 88 % of instances. A run that
used up the cutoff is not repeated (it costs PAR10 whatever the repeats say).

**Refusals.** Runs an algorithm is known to refuse (brute force with more than
``Limits.brute_force_max_n`` projects that fit the budget, meet in the middle with more than
``Limits.ss_max_n`` (Horowitz–Sahni to ``mitm_max_n``, Schroeppel–Shamir above, as the solver
runs it); the solvers count after preprocessing, so projects costlier than the
budget do not count; a configuration refuses what its base algorithm refuses) are neither
executed nor recorded: they are not failures. Each record
lists them in ``refused`` (the dataset costs a refused candidate PAR10, as it would a failure).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import statistics
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import solvers
from solvers.instances import FAMILIES, TODD_MAX_N, generate

__all__ = [
    "ALGORITHMS",
    "CANDIDATES",
    "CONFIGURATIONS",
    "DEFAULT_REPEATS",
    "PORTFOLIO",
    "base_algorithm",
    "instance_key",
    "plan_instances",
    "refusal",
    "refused_algorithms",
    "run_history",
    "run_instance",
]

CANDIDATES: tuple[str, ...] = (
    "brute_force", "dp", "backtracking", "greedy", "meet_in_the_middle",
)
"""Algorithms the selector chooses among (``hybrid`` and ``auto`` are compared, not chosen)."""
ALGORITHMS: tuple[str, ...] = (*CANDIDATES, "hybrid")
CONFIGURATIONS: tuple[str, ...] = tuple(solvers.CONFIGURATIONS)
"""Named configurations (``"hybrid[exact-first]"``, ...): candidates of the portfolio."""
PORTFOLIO: tuple[str, ...] = (*ALGORITHMS, *CONFIGURATIONS)
DEFAULT_REPEATS = 3

# n ranges (log-uniform) per family, chosen from where the algorithms' costs cross over
_N_RANGE = {
    "uniform": (4, 3000), "portfolio": (4, 400), "pe": (4, 600), "pthree": (4, 1500),
    "psix": (4, 600), "evenodd": (4, 1500), "avis": (4, 250), "todd": (3, TODD_MAX_N),
    "somatoth": (4, 1500),
}


def _params(family: str, rng: random.Random) -> dict[str, Any]:
    if family == "uniform":
        return {"high": rng.choice([10, 100, 1000, 10**5, 10**7]),
                "budget_ratio": round(rng.uniform(0.05, 0.95), 3)}
    if family == "portfolio":
        return {"sigma": rng.choice([0.3, 1.0, 2.0]),
                "budget_ratio": round(rng.uniform(0.05, 0.9), 3)}
    if family == "pe":
        return {"e": rng.randint(1, 12)}
    return {}


def plan_instances(count: int, seed: int = 0, families: Sequence[str] = FAMILIES,
                   max_n: int | None = None) -> list[dict[str, Any]]:
    """``count`` instance specs ``{"family", "n", "seed", "params"}``, round-robin over families.

    Deterministic in ``(count, seed, families, max_n)``. ``max_n`` caps every family's sizes
    (small histories for tests). Families whose instance does not depend on the seed
    (``avis``, ``todd``) get distinct n where they can, so specs rarely repeat content.
    """
    rng = random.Random(seed)
    specs: list[dict[str, Any]] = []
    used: set[tuple[str, int]] = set()
    for i in range(count):
        family = families[i % len(families)]
        low, high = _N_RANGE.get(family, (4, 500))
        if max_n is not None:
            low, high = min(low, max_n), max(min(high, max_n), min(low, max_n))
        n = round(math.exp(rng.uniform(math.log(low), math.log(high))))
        if family in ("avis", "todd"):
            tries = 0
            while (family, n) in used and tries < 50:
                n = rng.randint(low, high)
                tries += 1
            if (family, n) in used:
                family, n = "uniform", rng.randint(low, high)
            used.add((family, n))
        specs.append({"family": family, "n": n, "seed": seed * 1_000_003 + i,
                      "params": _params(family, rng)})
    return specs


def instance_key(costs: Sequence[Any], budget: Any) -> str:
    """Content key of an instance (sha256 of costs and budget as text)."""
    blob = json.dumps([[str(c) for c in costs], str(budget)], separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def base_algorithm(name: str) -> str:
    """The algorithm a configuration runs (``"hybrid[exact-first]"`` → ``"hybrid"``); an
    algorithm's own name otherwise."""
    config = solvers.CONFIGURATIONS.get(name)
    return config.algorithm if config is not None else name


def refusal(algorithm: str, n_fit: int, limits: solvers.Limits) -> str | None:
    """Why ``algorithm`` (or a configuration of it) would refuse an instance with ``n_fit``
    projects that fit, or None."""
    algorithm = base_algorithm(algorithm)
    if algorithm == "brute_force" and n_fit > limits.brute_force_max_n:
        return f"brute_force refuses {n_fit} > {limits.brute_force_max_n} projects"
    if algorithm == "meet_in_the_middle" and n_fit > limits.ss_max_n:
        return f"meet_in_the_middle refuses {n_fit} > {limits.ss_max_n} projects"
    return None


def _cpu_solve(projects: list[Any], budget: Any, algorithm: str, time_limit: float,
               limits: solvers.Limits) -> tuple[dict[str, Any], float]:
    start = time.process_time()
    result = solvers.solve(projects, budget, algorithm=algorithm, time_limit=time_limit,
                           limits=limits, measure_memory=False)
    return result, time.process_time() - start


_kernels_warm = False


def warm_kernels() -> None:
    """Load the solvers' optional native kernels (``solvers._native``) once per process before
    the first timed solve: their one-time load (0.1-0.5 s; seconds when Numba compiles them the
    first time on a machine) must not land in one run's label (a dp on n = 10 timed 0.29 s in
    a fresh clone, its kernel load included). Without Numba it does nothing."""
    global _kernels_warm
    if _kernels_warm:
        return
    _kernels_warm = True
    try:
        from solvers import _native

        _native.warm()
    except Exception:  # an optional speed-up: timing goes on without it
        return


def run_instance(projects: list[Any], budget: Any, time_limit: float,
                 algorithms: Sequence[str] = ALGORITHMS,
                 limits: solvers.Limits | None = None,
                 repeats: int = DEFAULT_REPEATS) -> list[dict[str, Any]]:
    """One run row per algorithm (or configuration) that does not refuse the instance (solver
    result vocabulary, ``algorithm`` the name asked for, memory not measured,
    ``execution_time`` the median CPU seconds of ``repeats`` runs)."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    warm_kernels()
    lim = limits or solvers.DEFAULT_LIMITS
    n_fit = int(solvers.features(projects, budget, lim)["n_fit"])
    rows = []
    for algorithm in algorithms:
        if refusal(algorithm, n_fit, lim):
            continue
        result, cpu = _cpu_solve(projects, budget, algorithm, time_limit, lim)
        samples = [cpu]
        while len(samples) < repeats and cpu < time_limit:
            samples.append(_cpu_solve(projects, budget, algorithm, time_limit, lim)[1])
        rows.append({
            "algorithm": result.get("configuration") or result["algorithm"],
            "status": result["status"],
            "selected_indices": list(result["selected_indices"]),
            "total_cost": result.get("total_cost_exact", result["total_cost"]),
            "upper_bound": result.get("upper_bound_exact", result["upper_bound"]),
            "execution_time": float(statistics.median(samples)), "memory_used": None,
            "reason": result["reason"], "time_limit": time_limit,
        })
    return rows


def refused_algorithms(projects: list[Any], budget: Any,
                       algorithms: Sequence[str] = ALGORITHMS,
                       limits: solvers.Limits | None = None) -> list[str]:
    """The algorithms of ``algorithms`` that refuse this instance for its size."""
    lim = limits or solvers.DEFAULT_LIMITS
    n_fit = int(solvers.features(projects, budget, lim)["n_fit"])
    return [a for a in algorithms if refusal(a, n_fit, lim)]


def run_history(specs: Iterable[Mapping[str, Any]], time_limit: float = 2.0,
                algorithms: Sequence[str] = ALGORITHMS,
                repeats: int = DEFAULT_REPEATS) -> Iterator[dict[str, Any]]:
    """For each spec: ``{"key", "family", "n", "seed", "params", "projects", "budget", "runs",
    "refused"}`` (``refused``: algorithms not run because they refuse the size).

    Pure apart from the clock: the instance content depends on the spec alone.
    """
    for spec in specs:
        inst = generate(spec["family"], spec["n"], spec["seed"], **spec.get("params", {}))
        projects = inst.projects()
        yield {
            "key": instance_key(inst.costs, inst.budget),
            "family": inst.family, "n": inst.n, "seed": inst.seed, "params": inst.params,
            "projects": projects, "budget": inst.budget,
            "runs": run_instance(projects, inst.budget, time_limit, algorithms,
                                 repeats=repeats),
            "refused": refused_algorithms(projects, inst.budget, algorithms),
        }
