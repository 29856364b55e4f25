"""Edge checks: bad input is rejected here with an error naming the field and the value."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from db.errors import DataValidationError

# The one money rule lives in solvers.money (pure, standard library only): the db layer imports
# that module alone of solvers (a deliberate exception, see tests/test_layering.py).
# parse_money raises solvers.InvalidInputError, re-exported by solvers.money.
from solvers.money import STORED_LIMIT, InvalidInputError, parse_money

CENT = Decimal("0.01")
MONEY_LIMIT = Decimal(STORED_LIMIT)  # NUMERIC(20, 2) holds 18 integer digits


def _show(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def text(field: str, value: Any, *, max_length: int, required: bool = True) -> str | None:
    """A string no longer than `max_length` (None allowed when not `required`)."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise DataValidationError(f"{field} must be a non-empty string, got {_show(value)}")
    if len(value) > max_length:
        raise DataValidationError(
            f"{field} is {len(value)} characters long, the limit is {max_length}: {_show(value)}"
        )
    return value


def money(field: str, value: Any, *, required: bool = True) -> Decimal | None:
    """A non-negative amount with at most two decimals, below `STORED_LIMIT`, as `Decimal`.

    The one money rule, `solvers.money.parse_money` (see there): ints, Decimals, plain digit
    strings ("1200.50"), floats below 10**13 read by their repr; "1e3", "1_000" and
    `0.1 + 0.2` are refused, never rounded. The error names the field and the value.
    """
    if value is None and not required:
        return None
    try:
        amount = parse_money(value, field, limit=STORED_LIMIT)
    except InvalidInputError as exc:
        raise DataValidationError(str(exc)) from None
    return Decimal(amount).quantize(CENT)  # NUMERIC(20, 2)'s own form: 60 -> Decimal("60.00")


def seconds(field: str, value: Any, *, required: bool = True) -> float | None:
    """A finite, non-negative float."""
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataValidationError(f"{field} must be a number, got {_show(value)}")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise DataValidationError(f"{field} must be finite and non-negative, got {_show(value)}")
    return number


def json_doc(field: str, value: Any) -> Any:
    """A value JSON can store (dict, list, str, numbers, None)."""
    if value is None:
        return None
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"{field} is not JSON-serialisable: {exc}") from None
    return value


def positions(field: str, value: Any, *, n: int) -> list[int]:
    """Sorted, unique integer positions in [0, n)."""
    if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__"):
        raise DataValidationError(f"{field} must be a list of positions, got {_show(value)}")
    out = sorted(value)
    if not {type(p) for p in out} <= {int}:  # bool is a subclass of int: excluded on purpose
        bad = next(p for p in out if type(p) is not int)
        raise DataValidationError(f"{field} holds a non-integer position: {_show(bad)}")
    if len(set(out)) != len(out):
        dup = next(p for i, p in enumerate(out) if i and p == out[i - 1])
        raise DataValidationError(f"{field} holds position {dup} twice")
    if out and (out[0] < 0 or out[-1] >= n):
        bad = out[0] if out[0] < 0 else out[-1]
        raise DataValidationError(f"{field} holds position {bad}, outside 0..{n - 1}")
    return out


def choice(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    """One of `allowed`."""
    if value not in allowed:
        options = ", ".join(allowed)
        raise DataValidationError(f"{field} must be one of {options}, got {_show(value)}")
    return value
