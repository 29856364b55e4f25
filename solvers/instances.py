"""Seeded instance generators for budget allocation (subset sum).

Every generator is pure and draws only from ``random.Random(seed)`` (the
standard library's Mersenne Twister), so an instance depends on
``(family, n, seed, params)`` alone and not on the numpy version installed.
``generate(family, n, seed, **params)`` is the single entry point; it returns a
frozen :class:`GeneratedInstance` whose ``projects()`` feed ``solvers.solve``.

Families
--------
``uniform``
    Integer costs uniform in ``[low, high]`` (defaults 1 and 1000), budget
    ``floor(budget_ratio * total)`` with ``budget_ratio`` 0.5 by default.
    The textbook random subset-sum instance; easy for dynamic programming.

``portfolio``
    A realistic project portfolio in money: lognormal costs (median
    ``median`` = 50,000, shape ``sigma`` = 1.0) rounded to cents, budget
    ``budget_ratio`` (default 0.35) times the total, rounded to cents, and
    names ``"Project 0042"``.  Lognormal project sizes are the usual model for
    capital budgets (a few large projects, many small ones).  Costs and budget
    are floats with at most two decimals; their cents are exact integers.

``pe`` / ``pthree`` / ``psix``
    Pisinger's P(E) instances: costs uniform in ``[1, 10**e]``, budget
    ``floor(n * 10**e / 4)``.  ``pthree`` is P(3), ``psix`` is P(6); ``pe``
    takes ``e`` (1 to 15).  Large coefficients defeat dynamic programming over
    the capacity; a quarter of the total is where the most subsets compete.
    D. Pisinger, "Where are the hard knapsack problems?", Computers &
    Operations Research 32 (2005) 2271-2284; S. Martello and P. Toth,
    *Knapsack Problems* (Wiley, 1990), ch. 4 (subset-sum test problems).

``evenodd``
    Pisinger's EVEN/ODD: even costs ``2 * U[1, 500]``, odd budget
    ``2 * floor(n * 1000 / 8) + 1``.  The budget can never be hit exactly, so
    an exact solver must prove that ``budget - 1`` is the best, which defeats
    "stop when the budget is reached" shortcuts.  (Pisinger 2005; the parity
    idea is R. G. Jeroslow, "Trivial integer programs unsolvable by
    branch-and-bound", Mathematical Programming 6 (1974).)

``avis``
    Avis's instances (V. Chvátal, "Hard knapsack problems", Operations
    Research 28 (1980), credits them to D. Avis): ``cost_j = n(n+1) + j`` for
    ``j = 1..n``, budget ``n(n+1) * floor((n-1)/2) + n(n-1)/2``.  Branch and
    bound with the usual bounds needs exponentially many nodes.
    Deterministic: the seed does not change the instance.

``todd``
    Todd's instances (Chvátal 1980): ``k = floor(log2 n)``, ``cost_j =
    2**(k+n+1) + 2**(k+j) + 1`` for ``j = 1..n``, budget ``floor(sum / 2)``.
    Costs grow like ``2**(2n)``: past ``n = 40`` they head for the 64-bit
    range of peer solvers (``n = 60`` exceeds it), so ``n > 40`` is refused.
    Deterministic: the seed does not change the instance.

``somatoth``
    Frobenius-number instances ("SOMATOTH", Pisinger 2005, after Soma and
    Toth, "An exact algorithm for the subset sum problem", EJOR 136 (2002)).
    Draw distinct coprime ``w1, w2`` in ``[2, max(n, 3)]`` (1 is excluded:
    with a weight of 1 the "Frobenius number" is -1) and set the budget
    to their Frobenius number ``(w1-1)(w2-1) - 1``, the largest integer that
    is *not* ``a*w1 + b*w2`` with ``a, b >= 0``; accept only if
    ``budget // w1 < n // 2`` and ``budget // w2 < n // 2`` (otherwise redraw;
    after 10,000 rejected draws fall back to ``w1, w2 = 2, 3``).  Costs are
    ``ceil(pos/2) * w1`` for even ``pos`` and ``ceil(pos/2) * w2`` for odd
    ``pos``, with ``pos = 1..n``.  *Choice:* positions start at 1, not 0, so
    no project costs 0 (a zero-cost item changes nothing but the count).
    Every subset sum is some ``a*w1 + b*w2``, so the budget is unreachable.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAMILIES", "GeneratedInstance", "generate"]

FAMILIES: tuple[str, ...] = (
    "uniform",
    "portfolio",
    "pe",
    "pthree",
    "psix",
    "evenodd",
    "avis",
    "todd",
    "somatoth",
)

TODD_MAX_N = 40
_SOMATOTH_MAX_TRIES = 10_000


@dataclass(frozen=True)
class GeneratedInstance:
    """One generated instance: costs, budget, and how they were made."""

    family: str
    n: int
    seed: int
    params: dict[str, Any]
    costs: list[int] | list[float]
    budget: int | float
    names: list[str] | None = field(default=None)

    def projects(self) -> list[dict[str, Any]]:
        """Projects as ``[{"name": ..., "cost": ...}]``, named ``p0, p1, ...`` if unnamed."""
        names = self.names or [f"p{i}" for i in range(len(self.costs))]
        return [{"name": name, "cost": cost} for name, cost in zip(names, self.costs, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        """Plain-data copy (JSON-, Parquet- and Prefect-friendly)."""
        return {
            "family": self.family,
            "n": self.n,
            "seed": self.seed,
            "params": dict(self.params),
            "costs": list(self.costs),
            "budget": self.budget,
            "names": list(self.names) if self.names is not None else None,
        }


# ---------------------------------------------------------------- validation


def _int_param(name: str, value: Any, *, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return value


def _float_param(name: str, value: Any, *, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")
    return float(value)


def _take(params: dict[str, Any], defaults: dict[str, Any], family: str) -> dict[str, Any]:
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        allowed = ", ".join(sorted(defaults)) or "none"
        raise ValueError(
            f"unknown parameter(s) for family {family!r}: {', '.join(unknown)} (allowed: {allowed})"
        )
    return {**defaults, **params}


# ---------------------------------------------------------------- families


@dataclass
class _Made:
    costs: list[int] | list[float]
    budget: int | float
    names: list[str] | None = None
    derived: dict[str, Any] = field(default_factory=dict)


def _uniform(n: int, rng: random.Random, p: dict[str, Any]) -> _Made:
    low = _int_param("low", p["low"], minimum=0)
    high = _int_param("high", p["high"], minimum=max(low, 1))
    ratio = _float_param("budget_ratio", p["budget_ratio"], low=0.0, high=1.0)
    costs = [rng.randint(low, high) for _ in range(n)]
    return _Made(costs, math.floor(ratio * sum(costs)))


def _portfolio(n: int, rng: random.Random, p: dict[str, Any]) -> _Made:
    median = _float_param("median", p["median"], low=0.01, high=1e12)
    sigma = _float_param("sigma", p["sigma"], low=0.0, high=5.0)
    ratio = _float_param("budget_ratio", p["budget_ratio"], low=0.0, high=1.0)
    mu = math.log(median)
    cents = [max(1, round(rng.lognormvariate(mu, sigma) * 100)) for _ in range(n)]
    budget_cents = round(ratio * sum(cents))
    width = max(4, len(str(n - 1)))
    names = [f"Project {i:0{width}d}" for i in range(n)]
    return _Made([c / 100 for c in cents], budget_cents / 100, names)


def _pe_costs(n: int, rng: random.Random, e: int) -> tuple[list[int], int]:
    r = 10**e
    return [rng.randint(1, r) for _ in range(n)], (n * r) // 4


def _pe(n: int, rng: random.Random, p: dict[str, Any]) -> _Made:
    e = _int_param("e", p["e"], minimum=1, maximum=15)
    return _Made(*_pe_costs(n, rng, e))


def _pthree(n: int, rng: random.Random, p: dict[str, Any]) -> _Made:
    return _Made(*_pe_costs(n, rng, 3))


def _psix(n: int, rng: random.Random, p: dict[str, Any]) -> _Made:
    return _Made(*_pe_costs(n, rng, 6))


def _evenodd(n: int, rng: random.Random, p: dict[str, Any]) -> _Made:
    costs = [2 * rng.randint(1, 500) for _ in range(n)]
    return _Made(costs, 2 * ((n * 1000) // 8) + 1)


def _avis(n: int, rng: random.Random, p: dict[str, Any]) -> _Made:
    base = n * (n + 1)
    costs = [base + j for j in range(1, n + 1)]
    return _Made(costs, base * ((n - 1) // 2) + n * (n - 1) // 2)


def _todd(n: int, rng: random.Random, p: dict[str, Any]) -> _Made:
    if n > TODD_MAX_N:
        raise ValueError(f"n must be <= {TODD_MAX_N} for family 'todd' (costs ~2**(2n)), got {n}")
    k = n.bit_length() - 1  # floor(log2 n) for n >= 1, exact in integers
    costs = [2 ** (k + n + 1) + 2 ** (k + j) + 1 for j in range(1, n + 1)]
    return _Made(costs, sum(costs) // 2)


def _somatoth_weights(n: int, rng: random.Random) -> tuple[int, int]:
    top = max(n, 3)
    for _ in range(_SOMATOTH_MAX_TRIES):
        w1, w2 = rng.randint(2, top), rng.randint(2, top)
        if w1 == w2 or math.gcd(w1, w2) != 1:
            continue
        cap = (w1 - 1) * (w2 - 1) - 1
        if cap // w1 < n // 2 and cap // w2 < n // 2:
            return w1, w2
    return 2, 3  # fallback (e.g. n = 1, where no draw can pass): Frobenius number 1


def _somatoth(n: int, rng: random.Random, p: dict[str, Any]) -> _Made:
    w1, w2 = _somatoth_weights(n, rng)
    costs = [math.ceil(pos / 2) * (w1 if pos % 2 == 0 else w2) for pos in range(1, n + 1)]
    # The drawn weights describe the instance, so they are recorded in params.
    return _Made(costs, (w1 - 1) * (w2 - 1) - 1, derived={"w1": w1, "w2": w2})


_GENERATORS = {
    "uniform": (_uniform, {"low": 1, "high": 1000, "budget_ratio": 0.5}),
    "portfolio": (_portfolio, {"median": 50_000.0, "sigma": 1.0, "budget_ratio": 0.35}),
    "pe": (_pe, {"e": 3}),
    "pthree": (_pthree, {}),
    "psix": (_psix, {}),
    "evenodd": (_evenodd, {}),
    "avis": (_avis, {}),
    "todd": (_todd, {}),
    "somatoth": (_somatoth, {}),
}
if tuple(_GENERATORS) != FAMILIES:  # pragma: no cover - guards edits to the two lists
    raise RuntimeError("FAMILIES and _GENERATORS disagree")


def generate(family: str, n: int, seed: int = 0, **params: Any) -> GeneratedInstance:
    """Generate one instance of ``family`` with ``n`` projects from ``seed``.

    Raises ``ValueError`` for an unknown family (listing the valid ones), for
    ``n < 1``, a non-integer seed, or a bad or unknown parameter (naming it).
    """
    if family not in _GENERATORS:
        raise ValueError(f"unknown family {family!r}; valid families: {', '.join(FAMILIES)}")
    _int_param("n", n, minimum=1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    make, defaults = _GENERATORS[family]
    merged = _take(params, defaults, family)
    made = make(n, random.Random(seed), merged)
    return GeneratedInstance(
        family=family,
        n=n,
        seed=seed,
        params={**merged, **made.derived},
        costs=made.costs,
        budget=made.budget,
        names=made.names,
    )
