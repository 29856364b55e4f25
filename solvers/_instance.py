"""Input validation and exact scaling of money amounts to integers.

Costs and the budget are non-negative integers, or money with at most two decimals given as
``"1234.56"``, ``Decimal`` or a float such as ``1234.56`` (the one rule of
:mod:`solvers.money`). When any amount has cents, every amount is scaled by 100 and the
algorithms work on exact integers; nothing is summed as floats.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from ._errors import InvalidInputError
from ._limits import Limits
from .money import MAX_DIGITS, parse_money

__all__ = [
    "MAX_DIGITS", "Problem", "exact_units", "from_units", "parse_problem", "parse_time_limit",
]


@dataclass(frozen=True)
class Problem:
    """A validated instance: integer costs and budget in units of ``1/scale`` of the caller's."""

    costs: tuple[int, ...]
    budget: int
    scale: int  # 1 for integer input, 100 when money with cents appears
    array: np.ndarray | None = field(default=None, compare=False, repr=False)
    """The same costs as int64, when every cost fits (set by the vectorised parse)."""

    @property
    def n(self) -> int:
        return len(self.costs)


def _amount(value: Any, field: str) -> Decimal | int:
    """One amount as an exact int or Decimal (:func:`solvers.money.parse_money`)."""
    return parse_money(value, field)


def _cost_of(item: Any, index: int) -> Any:
    if isinstance(item, Mapping):
        if "cost" not in item:
            raise InvalidInputError(f"projects[{index}].cost", None, "is missing")
        return item["cost"]
    if isinstance(item, str | bytes) or not isinstance(item, numbers.Number | Decimal):
        if isinstance(item, str):  # a bare numeric string is accepted like a number
            return item
        raise InvalidInputError(
            f"projects[{index}]", item, "must be a mapping with a 'cost' or a number"
        )
    return item


def parse_problem(projects: Any, budget: Any, limits: Limits) -> Problem:
    """Validate ``projects`` and ``budget``; scale money to integer cents exactly."""
    if type(projects) is np.ndarray and projects.ndim == 1 and projects.dtype.kind in "iu":
        fast = _parse_int_array(projects, budget, limits)
        if fast is not None:
            return fast
    if isinstance(projects, Mapping | str | bytes) or not isinstance(projects, Sequence):
        if projects is None or isinstance(projects, Mapping | str | bytes):
            raise InvalidInputError("projects", projects, "must be a list of projects")
        projects = list(projects)
    if len(projects) > limits.max_n:
        raise InvalidInputError(
            "projects", f"<{len(projects)} projects>", f"more than the maximum of {limits.max_n}"
        )
    budget_amount = _amount(budget, "budget")
    fast = _parse_fast(projects, budget_amount)
    if fast is not None:
        return fast
    amounts = [
        _amount(_cost_of(item, i), f"projects[{i}].cost") for i, item in enumerate(projects)
    ]
    scale = 100 if any(isinstance(a, Decimal) for a in (*amounts, budget_amount)) else 1
    if scale == 1:
        return Problem(tuple(int(a) for a in amounts), int(budget_amount), 1)
    return Problem(tuple(int(a * 100) for a in amounts), int(budget_amount * 100), 100)


_FAST_MIN_N = 32  # below this the per-item path is as fast


def _parse_int_array(costs: np.ndarray, budget: Any, limits: Limits) -> Problem | None:
    """A 1-D NumPy integer array of costs, read as its ints (what the per-item path makes of
    each NumPy integer), without a Python object per item; None when the per-item path must
    decide (negative or beyond int64 values, cents in the budget, too many projects: it then
    names the field)."""
    if costs.size > limits.max_n or costs.size == 0:
        return None
    budget_amount = _amount(budget, "budget")
    if not isinstance(budget_amount, int):
        return None
    if costs.dtype.kind == "u" and costs.dtype.itemsize == 8 and int(costs.max()) >= 2**63:
        return None
    arr = costs.astype(np.int64, copy=True)  # the caller's array is never aliased
    if int(arr.min()) < 0:
        return None
    return Problem(tuple(arr.tolist()), budget_amount, 1, arr)
_FLOAT_EXACT = 2.0**53 / 1000  # money as floats below this has its cents in the float exactly


def _parse_fast(projects: Sequence[Any], budget: int | Decimal) -> Problem | None:
    """Vectorised parse of many plain ``int`` or ``float`` costs; None when any item needs the
    per-item path (strings, Decimals, bools, huge or negative values, bad input: that path then
    names the offending field). Same semantics as ``_amount``: floats are read by their
    shortest repr, so ``1234.56`` is 123456 cents exactly."""
    n = len(projects)
    if n < _FAST_MIN_N:
        return None
    # a plain list of ints: no per-item lookup at all (counting the types in a list is ~0.8 ms
    # a 10^5 items quicker than a set of them: the check is most of a tiny budget's solve)
    if type(projects[0]) is int and list(map(type, projects)).count(int) == n:
        raw, kinds = projects, {int}
    else:
        try:
            raw = [item["cost"] if type(item) is dict else item for item in projects]
        except (KeyError, TypeError):
            return None
        kinds = set(map(type, raw))
    if kinds == {int}:
        try:
            arr = np.fromiter(raw, dtype=np.int64, count=n)
        except OverflowError:
            return None
        if int(arr.min()) < 0 or not isinstance(budget, int):
            return None
        return Problem(raw if type(raw) is tuple else tuple(raw), budget, 1, arr)
    if not kinds <= {int, float}:
        return None
    values = np.asarray(raw, dtype=np.float64)
    if not np.isfinite(values).all() or values.min() < 0 or values.max() >= _FLOAT_EXACT:
        return None
    cents = np.rint(values * 100.0)
    if not np.array_equal(cents / 100.0, values):  # more than two decimals somewhere
        return None
    icents = cents.astype(np.int64)
    if isinstance(budget, int) and not (icents % 100).any():
        arr = icents // 100
        return Problem(tuple(arr.tolist()), budget, 1, arr)
    return Problem(tuple(icents.tolist()), int(budget * 100), 100, icents)


def parse_time_limit(time_limit: Any) -> float | None:
    """``None`` or a positive finite number of seconds."""
    if time_limit is None:
        return None
    if isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real):
        raise InvalidInputError("time_limit", time_limit, "must be a number of seconds")
    try:
        value = float(time_limit)
    except OverflowError:  # an int beyond float range, e.g. 10**400
        raise InvalidInputError("time_limit", time_limit, "is too large a number of seconds"
                                ) from None
    if not math.isfinite(value) or value <= 0:
        raise InvalidInputError("time_limit", time_limit, "must be a positive number of seconds")
    return value


def from_units(value: int | None, scale: int) -> int | float | None:
    """Integer units back to the caller's: int, or money as a float rounded to cents.

    The float is for convenience only: above about 9×10^13 it cannot hold the cents. The exact
    amount is :func:`exact_units`."""
    if value is None or scale == 1:
        return value
    return round(value / scale, 2)


def exact_units(value: int | None, scale: int) -> str | None:
    """Integer units back to the caller's as an exact decimal string: ``"1650"``, ``"1650.75"``,
    ``"12345678901234567.89"`` — never rounded (``Decimal(s)`` reads it back exactly)."""
    if value is None:
        return None
    if scale == 1:
        return str(value)
    whole, cents = divmod(value, scale)
    return f"{whole}.{cents:02d}"
