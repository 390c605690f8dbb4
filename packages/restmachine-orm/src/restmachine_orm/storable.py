"""What every backend can store: the value rules checked before any write or filter.

A model must behave the same on every backend, so values that one of them cannot hold are
refused everywhere, before anything is sent: numbers must be finite, have at most 38
significant digits and a magnitude DynamoDB can hold (the strictest built-in backend), and
values nested in list, dict and untyped fields must be of a type every backend stores.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic_core import PydanticCustomError, ValidationError

if TYPE_CHECKING:
    from .schema import ModelSchema

__all__ = ["MAX_DIGITS", "check_row", "number_problem", "unstorable_error"]

#: Significant digits a stored number may have.
MAX_DIGITS = 38
_INT_LIMIT = 10**MAX_DIGITS
# The magnitude range DynamoDB documents for numbers: 1E-130 to 9.99…E+125.
_MIN_EXPONENT, _MAX_EXPONENT = -130, 125
_SCALARS = (str, bool, bytes, bytearray, dt.date, dt.time, uuid.UUID, enum.Enum)
_COLLECTIONS = (list, tuple, set, frozenset)


def number_problem(value: int | float | decimal.Decimal) -> str | None:
    """Why a number cannot be stored, or ``None`` when it can."""
    if isinstance(value, int):
        if -_INT_LIMIT < value < _INT_LIMIT:
            return None
        return (
            f"{value} has {len(str(abs(value)))} digits; stored numbers have at most "
            f"{MAX_DIGITS} significant digits"
        )
    exact = decimal.Decimal(repr(value)) if isinstance(value, float) else value
    if not exact.is_finite():
        return f"{value!r} is not a finite number"
    if not exact:
        return None
    # Counted by hand: normalize() would round to the context's 28 digits first.
    digits = len("".join(map(str, exact.as_tuple().digits)).strip("0"))
    if digits > MAX_DIGITS:
        return f"{value} has {digits} significant digits; stored numbers have at most {MAX_DIGITS}"
    if not _MIN_EXPONENT <= exact.adjusted() <= _MAX_EXPONENT:
        return f"{value} is out of the storable range 1E-130 to 9.99E+125 (in magnitude)"
    return None


_Loc = tuple[str | int, ...]


def _nested_problem(value: Any, path: _Loc) -> tuple[_Loc, Any, str] | None:
    """The first value under ``value`` that cannot be stored: its path, itself and why."""
    if value is None or isinstance(value, _SCALARS):
        return None
    if isinstance(value, (int, float, decimal.Decimal)):
        problem = number_problem(value)
        return None if problem is None else (path, value, problem)
    if isinstance(value, BaseModel):
        return _nested_problem(value.model_dump(), path)
    if isinstance(value, Mapping):
        for name, item in value.items():
            if not isinstance(name, str):
                return path, value, f"mapping keys must be strings, not {type(name).__name__}"
            found = _nested_problem(item, (*path, name))
            if found is not None:
                return found
        return None
    if isinstance(value, _COLLECTIONS):
        for index, item in enumerate(value):
            found = _nested_problem(item, (*path, index))
            if found is not None:
                return found
        return None
    return path, value, f"values of type {type(value).__name__} cannot be stored"


def unstorable_error(model: str, loc: _Loc, value: Any, problem: str) -> ValidationError:
    """A pydantic ``ValidationError`` of one unstorable value, titled with the model's name."""
    return ValidationError.from_exception_data(
        model,
        [
            {
                "type": PydanticCustomError("unstorable", "{problem}", {"problem": problem}),
                "loc": loc,
                "input": value,
            }
        ],
    )


def check_row(schema: ModelSchema, row: Mapping[str, Any]) -> None:
    """Refuse a row holding a value some backend cannot store.

    Raises:
        pydantic.ValidationError: Names the model, the field (and path inside it) and why.
    """
    names = schema.number_fields if schema.rows_are_flat else schema.fields
    for name in names:
        value = row[name]
        # The common case, a small int or a plain string, is decided without a call.
        kind = type(value)
        if value is None or kind is str or (kind is int and -_INT_LIMIT < value < _INT_LIMIT):
            continue
        found = _nested_problem(value, (name,))
        if found is not None:
            raise unstorable_error(schema.name, *found)
