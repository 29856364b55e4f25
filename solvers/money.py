"""Money: the one definition of an amount, read by its text and never through a float.

Every door of the tool (the solver library, CLI files, the REST API, Prefect flow parameters,
the database layer and the exports) reads amounts with :func:`parse_money` and writes them with
:func:`money_text`, so one value gets one verdict everywhere:

- an ``int`` (not a ``bool``) or a ``Decimal`` is taken exactly. JSON is decoded with
  ``parse_float=Decimal`` (:func:`loads`), so a JSON number arrives here as its own text;
- a string must be plain digits with at most two decimals (``"1200.50"``, ``"1650"``): no sign,
  exponent, underscore, comma or space (``"1e3"`` and ``"1_000"`` are refused);
- a Python ``float`` is read by its shortest repr, and only below 10**13: there every decimal
  with at most two places (15 significant digits) survives the trip through a binary float, so
  the repr *is* the text the caller wrote. From 10**13 a float may already be another amount
  than the one written (``90071992547409.93`` becomes ``…409.94``): it is refused, with a
  message to write the amount as text;
- at most two decimals (``0.1 + 0.2`` is refused, never rounded), non-negative, finite, and
  below ``limit`` (default :data:`MAX_AMOUNT`; what the database stores is below
  :data:`STORED_LIMIT`).

Errors are :class:`~solvers.InvalidInputError` (a ``ValueError``) naming the field and the value.

Pure: the standard library only. :class:`Money` is the same rule as a pydantic type (pydantic is
imported only when pydantic itself asks for the schema), for the API, the flows and the db layer.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ._errors import InvalidInputError

__all__ = [
    "FLOAT_EXACT_BELOW", "MAX_AMOUNT", "MONEY_PATTERN", "STORED_LIMIT", "Money", "loads",
    "money_text", "parse_money",
]

MAX_DIGITS = 30
MAX_AMOUNT = 10**MAX_DIGITS
"""Amounts are below 10**30 (far beyond any budget; keeps conversions bounded, so
``1e999999999`` is bad input, not a hang)."""
STORED_LIMIT = 10**18
"""What the database keeps (NUMERIC(20, 2)): the API and the db layer refuse amounts from here."""
FLOAT_EXACT_BELOW = 10**13
"""Python floats are read by their repr below this; above, a float may not be what was written."""
MONEY_PATTERN = r"^[0-9]+(\.[0-9]{1,2})?$"
"""A money string: digits, optionally a point and one or two decimals."""
_TEXT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_TEXT_LONG = re.compile(r"[0-9]+\.[0-9]+")  # to say "more than cents" rather than "not a number"
_SHOW = 60


def _show(value: Any) -> Any:
    """The value as the error shows it (long strings cut)."""
    if isinstance(value, str) and len(value) > _SHOW:
        return value[: _SHOW - 3] + "..."
    return value


def parse_money(value: Any, field: str = "amount", *, limit: int = MAX_AMOUNT) -> int | Decimal:
    """``value`` as an exact amount: an ``int`` when whole, else a ``Decimal`` with at most two
    decimals. Raises :class:`InvalidInputError` naming ``field`` and the value."""
    if isinstance(value, bool):
        raise InvalidInputError(field, value, "must be an amount, not a boolean")
    if isinstance(value, numbers.Integral):  # int, and NumPy's integers
        number: int | Decimal = int(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidInputError(field, value, "must be a finite amount")
        number = value
    elif isinstance(value, numbers.Real) and not isinstance(value, Decimal):
        value = float(value)  # float, and NumPy's floats
        if not math.isfinite(value):
            raise InvalidInputError(field, value, "must be a finite amount")
        if abs(value) >= FLOAT_EXACT_BELOW:
            raise InvalidInputError(
                field, value, "is a binary float of 10**13 or more, which may not be the amount "
                "written: give it as text (\"12345678901234.56\") or as an integer")
        number = Decimal(repr(value))
    elif isinstance(value, str):
        if not _TEXT.fullmatch(value):
            if value.startswith("-") and _TEXT.fullmatch(value[1:]):
                raise InvalidInputError(field, _show(value), "must be non-negative")
            if _TEXT_LONG.fullmatch(value):
                raise InvalidInputError(field, _show(value),
                                        "has more decimal places than cents (max 2)")
            raise InvalidInputError(field, _show(value),
                                    "must be digits with at most two decimals, e.g. \"1200.50\"")
        if len(value.partition(".")[0].lstrip("0")) > MAX_DIGITS:
            raise InvalidInputError(field, _show(value), f"is too large (at most {MAX_DIGITS} "
                                    "digits)")
        number = Decimal(value)
    else:
        raise InvalidInputError(field, _show(value),
                                f"must be an amount, not {type(value).__name__}")
    if isinstance(number, Decimal):
        if number and number.adjusted() >= MAX_DIGITS:
            raise InvalidInputError(field, value, f"is too large (at most {MAX_DIGITS} digits)")
        if number == number.to_integral_value():
            number = int(number)
        elif number.normalize().as_tuple().exponent < -2:  # type: ignore[operator]
            raise InvalidInputError(field, value, "has more decimal places than cents (max 2)")
        else:
            number = number.quantize(Decimal("0.01"))
    if number < 0:
        raise InvalidInputError(field, value, "must be non-negative")
    if number >= limit:
        raise InvalidInputError(field, _show(value),
                                f"is too large (must be below {_limit(limit)})")
    return number


def _limit(limit: int) -> str:
    exponent = len(str(limit)) - 1
    return f"10**{exponent}" if limit == 10**exponent else str(limit)


def money_text(value: int | Decimal | str | None) -> str | None:
    """An amount as its exact text: ``"1650"`` when whole, else ``"1650.75"`` (never rounded;
    ``Decimal(text)`` reads it back)."""
    if value is None:
        return None
    amount = parse_money(value) if not isinstance(value, int | Decimal) else value
    if isinstance(amount, int) or amount == amount.to_integral_value():
        return str(int(amount))
    return format(amount.quantize(Decimal("0.01")), "f")


def _fraction(text: str) -> Decimal:
    """A JSON fraction from its text. A Python function, not ``Decimal`` itself: the C decoder
    holds the GIL for a whole document, and a Python call per fraction is where the
    interpreter can switch threads (the API decodes bodies in a worker thread)."""
    return Decimal(text)


def loads(text: str | bytes, *,
          object_hook: Callable[[dict[str, Any]], Any] | None = None) -> Any:
    """JSON with every number read by its text: fractions as ``Decimal``, integers as ``int``;
    ``NaN`` and ``Infinity`` are refused by the money rule downstream (they stay floats).
    ``object_hook`` is ``json.loads``'s."""
    return json.loads(text, parse_float=_fraction, object_hook=object_hook)


def _to_decimal(value: Any, field: str, limit: int) -> Decimal:
    return Decimal(parse_money(value, field, limit=limit))


class Money(Decimal):
    """The money rule as a pydantic type (validates to ``Decimal``; serialises to its text in
    JSON). ``Money.stored()`` is the same rule with the database's :data:`STORED_LIMIT`."""

    limit = MAX_AMOUNT

    @classmethod
    def stored(cls) -> type[Money]:
        return _StoredMoney

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import PydanticCustomError, core_schema

        limit = cls.limit

        def validate(value: Any) -> Decimal:
            try:
                return _to_decimal(value, "amount", limit)
            except InvalidInputError as exc:
                raise PydanticCustomError("money", exc.problem) from None

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda v: money_text(v), when_used="json"),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, core: Any, handler: Any) -> dict[str, Any]:
        return {
            "anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMaximum": cls.limit,
                 "multipleOf": 0.01},
                {"type": "string", "pattern": MONEY_PATTERN},
            ],
            "description": "Non-negative amount with at most two decimals: a JSON number or a "
                           f"string of digits such as \"1200.50\"; below {_limit(cls.limit)}.",
            "examples": ["1200.50"],
        }


class _StoredMoney(Money):
    limit = STORED_LIMIT
