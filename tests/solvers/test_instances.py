"""Pins the seeded instance generators in solvers.instances."""

from __future__ import annotations

import itertools
import math

import pytest

from solvers.instances import FAMILIES, GeneratedInstance, generate

RANDOM_FAMILIES = ("uniform", "portfolio", "pe", "pthree", "psix", "evenodd", "somatoth")
DETERMINISTIC_FAMILIES = ("avis", "todd")


def _subset_sums(costs: list[int], cap: int) -> set[int]:
    sums = {0}
    for c in costs:
        sums |= {s + c for s in sums if s + c <= cap}
    return sums


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_instance(family: str) -> None:
    """The same family, n, seed and params always give the same instance."""
    assert generate(family, 25, seed=7) == generate(family, 25, seed=7)


@pytest.mark.parametrize("family", RANDOM_FAMILIES)
def test_different_seeds_differ(family: str) -> None:
    """Random families give different costs for different seeds."""
    instances = {tuple(generate(family, 30, seed=s).costs) for s in range(5)}
    assert len(instances) == 5


@pytest.mark.parametrize("family", DETERMINISTIC_FAMILIES)
def test_deterministic_families_ignore_seed(family: str) -> None:
    """Avis and Todd are fixed formulas: the seed does not change them."""
    assert generate(family, 12, seed=1).costs == generate(family, 12, seed=2).costs


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("n", [1, 2, 3, 10, 40])
def test_shape_and_types(family: str, n: int) -> None:
    """Every family yields n non-negative costs and a non-negative budget."""
    inst = generate(family, n, seed=3)
    assert isinstance(inst, GeneratedInstance)
    assert inst.n == n == len(inst.costs) == len(inst.projects())
    assert all(c >= 0 for c in inst.costs)
    assert inst.budget >= 0
    if family != "portfolio":
        assert all(isinstance(c, int) for c in inst.costs)
        assert isinstance(inst.budget, int)


def test_pe_formula() -> None:
    """P(E): costs in [1, 10**e], budget floor(n * 10**e / 4); pthree/psix are P(3)/P(6)."""
    for family, e in (("pthree", 3), ("psix", 6), ("pe", 4)):
        params = {"e": e} if family == "pe" else {}
        inst = generate(family, 101, seed=5, **params)
        assert all(1 <= c <= 10**e for c in inst.costs)
        assert inst.budget == 101 * 10**e // 4
    assert generate("pe", 50, seed=9, e=3).costs == generate("pthree", 50, seed=9).costs


def test_uniform_formula() -> None:
    """Uniform: costs in [low, high], budget floor(budget_ratio * total)."""
    inst = generate("uniform", 200, seed=2, low=10, high=20, budget_ratio=0.25)
    assert all(10 <= c <= 20 for c in inst.costs)
    assert inst.budget == math.floor(0.25 * sum(inst.costs))


def test_evenodd_parity() -> None:
    """EVEN/ODD: all costs even in [2, 1000], budget odd = 2*floor(n*1000/8)+1."""
    for n in (1, 7, 50, 333):
        inst = generate("evenodd", n, seed=n)
        assert all(c % 2 == 0 and 2 <= c <= 1000 for c in inst.costs)
        assert inst.budget % 2 == 1
        assert inst.budget == 2 * (n * 1000 // 8) + 1


@pytest.mark.parametrize("n", [1, 2, 5, 10, 11, 50])
def test_avis_formula(n: int) -> None:
    """Avis: cost_j = n(n+1)+j, budget = n(n+1)*floor((n-1)/2) + n(n-1)/2."""
    inst = generate("avis", n)
    assert inst.costs == [n * (n + 1) + j for j in range(1, n + 1)]
    assert inst.budget == n * (n + 1) * ((n - 1) // 2) + n * (n - 1) // 2


@pytest.mark.parametrize("n", [1, 2, 3, 8, 20, 40])
def test_todd_formula(n: int) -> None:
    """Todd: k = floor(log2 n), cost_j = 2^(k+n+1) + 2^(k+j) + 1, budget = floor(sum/2)."""
    inst = generate("todd", n)
    k = math.floor(math.log2(n))
    assert inst.costs == [2 ** (k + n + 1) + 2 ** (k + j) + 1 for j in range(1, n + 1)]
    assert inst.budget == sum(inst.costs) // 2


def test_todd_refuses_large_n() -> None:
    """Todd refuses n > 40, naming n."""
    with pytest.raises(ValueError, match=r"\bn\b.*41"):
        generate("todd", 41)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 9, 20, 60, 500])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_somatoth_budget_is_frobenius_number(n: int, seed: int) -> None:
    """Somatoth: budget = (w1-1)(w2-1)-1 is not a*w1 + b*w2, costs are multiples of w1/w2."""
    inst = generate("somatoth", n, seed=seed)
    w1, w2 = inst.params["w1"], inst.params["w2"]
    assert w1 != w2 and math.gcd(w1, w2) == 1 and min(w1, w2) >= 2
    cap = inst.budget
    assert cap == (w1 - 1) * (w2 - 1) - 1
    assert all(cap != a * w1 + b * w2 for a in range(cap // w1 + 1) for b in range(cap // w2 + 1))
    # Frobenius: every larger integer up to cap + min(w1, w2) is representable.
    for m in range(cap + 1, cap + 1 + min(w1, w2)):
        assert any((m - a * w1) % w2 == 0 for a in range(m // w1 + 1))
    assert all(c % w1 == 0 or c % w2 == 0 for c in inst.costs)
    assert all(c > 0 for c in inst.costs)
    if n >= 4:  # the acceptance rule holds whenever a draw could pass it
        assert cap // w1 < n // 2 and cap // w2 < n // 2


@pytest.mark.parametrize("seed", range(4))
def test_somatoth_budget_unreachable_by_subsets(seed: int) -> None:
    """No subset of a small somatoth instance sums exactly to the budget."""
    inst = generate("somatoth", 16, seed=seed)
    assert inst.budget not in _subset_sums(list(inst.costs), inst.budget)


def test_portfolio_money_has_at_most_two_decimals() -> None:
    """Portfolio costs and budget are cents: at most two decimals, positive."""
    inst = generate("portfolio", 500, seed=11)
    for value in [*inst.costs, inst.budget]:
        assert isinstance(value, float)
        assert round(value, 2) == value
        assert len(repr(value).split(".")[1]) <= 2
    cents = sum(round(c * 100) for c in inst.costs)
    assert inst.budget == round(0.35 * cents) / 100
    assert all(c >= 0.01 for c in inst.costs)


def test_portfolio_names_and_scale() -> None:
    """Portfolio names read 'Project 0042' and the median cost is near 50,000."""
    inst = generate("portfolio", 1001, seed=0)
    assert inst.names is not None and inst.names[42] == "Project 0042"
    assert len(set(inst.names)) == 1001
    median = sorted(inst.costs)[500]
    assert 35_000 < median < 70_000
    assert inst.projects()[42] == {"name": "Project 0042", "cost": inst.costs[42]}


def test_to_dict_is_plain_data() -> None:
    """to_dict returns independent plain lists and dicts."""
    inst = generate("uniform", 5, seed=1)
    d = inst.to_dict()
    assert d["family"] == "uniform" and d["n"] == 5 and d["seed"] == 1
    assert d["costs"] == inst.costs and d["budget"] == inst.budget
    d["costs"].append(1)
    d["params"]["low"] = 99
    assert len(inst.costs) == 5 and inst.params["low"] == 1


def test_unknown_family_lists_valid_names() -> None:
    """An unknown family raises ValueError listing every valid family."""
    with pytest.raises(ValueError, match="nosuch") as info:
        generate("nosuch", 10)
    assert all(f in str(info.value) for f in FAMILIES)


@pytest.mark.parametrize("n", [0, -3, 2.5, "10", True])
def test_bad_n_names_field(n: object) -> None:
    """n < 1 or a non-integer n raises ValueError naming n and the value."""
    with pytest.raises(ValueError, match=r"^n must") as info:
        generate("uniform", n)  # type: ignore[arg-type]
    assert repr(n) in str(info.value)


@pytest.mark.parametrize(
    ("family", "params", "field"),
    [
        ("uniform", {"low": -1}, "low"),
        ("uniform", {"low": 10, "high": 5}, "high"),
        ("uniform", {"budget_ratio": 1.5}, "budget_ratio"),
        ("portfolio", {"sigma": -0.1}, "sigma"),
        ("portfolio", {"median": 0}, "median"),
        ("portfolio", {"budget_ratio": float("nan")}, "budget_ratio"),
        ("pe", {"e": 0}, "e"),
        ("pe", {"e": 2.0}, "e"),
        ("avis", {"e": 3}, "e"),
        ("uniform", {"hgh": 3}, "hgh"),
    ],
)
def test_bad_params_name_field(family: str, params: dict, field: str) -> None:
    """A bad or unknown parameter raises ValueError naming that parameter."""
    with pytest.raises(ValueError, match=rf"\b{field}\b"):
        generate(family, 10, **params)


def test_bad_seed_raises() -> None:
    """A non-integer seed raises ValueError naming seed."""
    with pytest.raises(ValueError, match="seed"):
        generate("uniform", 10, seed="x")  # type: ignore[arg-type]


def test_small_pthree_optimum_is_reachable_in_brute_force() -> None:
    """Sanity: brute force agrees with the subset-sum set on a tiny P(3) instance."""
    inst = generate("pthree", 10, seed=4)
    best = max(
        s
        for r in range(11)
        for combo in itertools.combinations(inst.costs, r)
        if (s := sum(combo)) <= inst.budget
    )
    assert best == max(_subset_sums(list(inst.costs), inst.budget))
