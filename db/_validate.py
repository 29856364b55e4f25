"""Edge checks: bad input is rejected here with an error naming the field and the value."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from db.errors import DataValidationError

CENT = Decimal("0.01")
MONEY_LIMIT = Decimal(10) ** 18  # NUMERIC(20, 2) holds 18 integer digits


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
    """A non-negative amount with at most two decimals, as `Decimal`.

    Floats within 1e-6 of a whole cent are rounded to it (binary floats cannot hold 0.1 exactly);
    strings and Decimals must already have at most two decimals.
    """
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise DataValidationError(f"{field} must be a number, got {_show(value)}")
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise DataValidationError(f"{field} must be a number, got {_show(value)}") from None
    if not amount.is_finite():
        raise DataValidationError(f"{field} must be finite, got {_show(value)}")
    cents = amount.quantize(CENT)
    if cents != amount and not (isinstance(value, float) and abs(cents - amount) < Decimal("1e-6")):
        raise DataValidationError(f"{field} has more than two decimals: {_show(value)}")
    if cents < 0:
        raise DataValidationError(f"{field} must not be negative, got {_show(value)}")
    if cents >= MONEY_LIMIT:
        raise DataValidationError(f"{field} is too large (limit 10**18), got {_show(value)}")
    return cents


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
