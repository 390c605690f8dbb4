"""What every backend can store: the value rules checked before any write or filter.

A model must behave the same on every backend, so values that one of them cannot hold are
refused everywhere, before anything is sent. DynamoDB, the strictest built-in backend, sets
the limits:

- numbers are finite, with at most 38 significant digits and a magnitude it can hold;
- values nested in list, dict and untyped fields are of a type every backend stores, and
  mapping keys are non-empty strings;
- a row takes at most ``MAX_ROW_BYTES``, measured as DynamoDB measures an item (UTF-8 names
  and values, key and indexed values twice since backends copy them into their keys and
  indexes), which leaves room within its 400 KB item limit for the rest of what a backend
  adds;
- a string that is part of a key, unique or indexed takes at most ``MAX_KEY_BYTES`` in UTF-8
  (``MAX_SORT_KEY_BYTES`` for the sort part of a composite key), since backends build their
  keys and sentinels from it and DynamoDB bounds key attributes at 2048 and 1024 bytes.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from pydantic import BaseModel
from pydantic_core import PydanticCustomError, ValidationError

__all__ = [
    "MAX_DIGITS",
    "MAX_KEY_BYTES",
    "MAX_ROW_BYTES",
    "MAX_SORT_KEY_BYTES",
    "RowShape",
    "check_row",
    "number_problem",
    "row_size",
    "stored_size",
    "text_problem",
    "unstorable_error",
]

#: Significant digits a stored number may have.
MAX_DIGITS = 38
#: Bytes a row may take, its key and indexed values counted twice (see ``check_row``):
#: DynamoDB's 400 KB item limit less 16 KiB for the rest of what a backend adds (key
#: attribute names, the entity type, model-name prefixes).
MAX_ROW_BYTES = 384 * 1024
#: UTF-8 bytes of a key, unique or indexed string value.
MAX_KEY_BYTES = 1024
#: UTF-8 bytes of the sort part of a composite key (DynamoDB's sort key limit is 1024, and
#: the backend prefixes the value with the model's name).
MAX_SORT_KEY_BYTES = 512
# Every flat value but a string takes at most this, its field name included (names are
# identifiers; a datetime's ISO text is 32 bytes, a 38-digit number 21), and its copy in a
# key or index too: rows whose text is short are accepted without measuring them.
_FLAT_FIELD_BOUND = 512
# What a key or index attribute adds to its value: a separator and its own short name.
_KEY_OVERHEAD = 16
_INT_LIMIT = 10**MAX_DIGITS
# The magnitude range DynamoDB documents for numbers: 1E-130 to 9.99…E+125.
_MIN_EXPONENT, _MAX_EXPONENT = -130, 125
_SCALARS = (str, bool, bytes, bytearray, dt.date, dt.time, uuid.UUID, enum.Enum)
_COLLECTIONS = (list, tuple, set, frozenset)


class RowShape(Protocol):
    """What ``check_row`` reads of a model (a ``ModelSchema`` is one).

    Named here rather than imported, so that this module stays below ``schema``, which
    builds its limits from the ones above.
    """

    @property
    def name(self) -> str:
        """The model's name."""
        ...

    @property
    def fields(self) -> Collection[str]:
        """Every field's name."""
        ...

    @property
    def key_fields(self) -> tuple[str, ...]:
        """The key's fields."""
        ...

    @property
    def indexed_fields(self) -> tuple[str, ...]:
        """Fields with a secondary index."""
        ...

    @property
    def number_fields(self) -> tuple[str, ...]:
        """Fields holding numbers."""
        ...

    @property
    def text_fields(self) -> tuple[str, ...]:
        """Fields holding strings."""
        ...

    @property
    def byte_limits(self) -> Mapping[str, int]:
        """The UTF-8 bound of each key, unique or indexed string field."""
        ...

    @property
    def rows_are_flat(self) -> bool:
        """Whether every field holds an immutable scalar."""
        ...


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


def text_problem(value: str, limit: int) -> str | None:
    """Why a key, unique or indexed string is too long to store, or ``None``."""
    # Four bytes per character at most: short strings are decided without encoding them.
    if len(value) * 4 <= limit:
        return None
    size = _utf8_size(value)
    if size <= limit:
        return None
    return (
        f"the value takes {size} bytes in UTF-8; key, unique and indexed values take at "
        f"most {limit}"
    )


def _utf8_size(text: str) -> int:
    # surrogatepass: a lone surrogate is measured, not a crash (UnicodeEncodeError).
    return len(text.encode("utf-8", "surrogatepass"))


def _number_size(value: int | float | decimal.Decimal) -> int:
    exact = decimal.Decimal(repr(value)) if isinstance(value, float) else decimal.Decimal(value)
    digits = "".join(map(str, exact.as_tuple().digits)).strip("0")
    return (len(digits) + 1) // 2 + 1


def stored_size(value: Any) -> int:
    """The bytes a value takes stored, by DynamoDB's measure of attribute values."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return _utf8_size(value)
    if isinstance(value, (int, float, decimal.Decimal)):
        return _number_size(value)
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, enum.Enum):
        return stored_size(value.value)
    if isinstance(value, dt.datetime):
        return 32  # ISO-8601 in UTC, to the microsecond
    if isinstance(value, (dt.date, dt.time, uuid.UUID)):
        return len(str(value))
    if isinstance(value, BaseModel):
        return stored_size(value.model_dump())
    if isinstance(value, Mapping):
        # A map costs 3 bytes, and each entry its name, its value and one byte.
        return 3 + sum(_utf8_size(str(k)) + stored_size(v) + 1 for k, v in value.items())
    # Lists likewise, without names; check_row has refused every other type already.
    return 3 + sum(stored_size(item) + 1 for item in value)


def row_size(row: Mapping[str, Any]) -> int:
    """The bytes a row's fields take stored: UTF-8 names and values (``None`` not stored)."""
    return sum(_utf8_size(n) + stored_size(v) for n, v in row.items() if v is not None)


def _copies_size(schema: RowShape, row: Mapping[str, Any]) -> int:
    # Backends store key and indexed values again, in their table and index keys, prefixed
    # with the model's name: those copies count too.
    names = schema.key_fields + schema.indexed_fields
    prefix = _utf8_size(schema.name) + _KEY_OVERHEAD
    return sum(stored_size(row[name]) + prefix for name in names if row[name] is not None)


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
            if not name:
                # DynamoDB names nested attributes by their keys, and a name is never empty.
                return path, value, "mapping keys must not be empty strings"
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


def check_row(schema: RowShape, row: Mapping[str, Any]) -> None:
    """Refuse a row holding a value some backend cannot store, or too big to store.

    Raises:
        pydantic.ValidationError: Names the model, the field (and path inside it) and why.
    """
    flat = schema.rows_are_flat
    for name in schema.number_fields if flat else schema.fields:
        value = row[name]
        # The common case, a small int or a plain string, is decided without a call.
        kind = type(value)
        if value is None or kind is str or (kind is int and -_INT_LIMIT < value < _INT_LIMIT):
            continue
        found = _nested_problem(value, (name,))
        if found is not None:
            raise unstorable_error(schema.name, *found)
    if flat:
        chars = 0
        for name in schema.text_fields:
            text = row[name]
            if text is not None:
                chars += len(text)
        # Short text: no string can be over a key limit and the row is small (the usual case).
        if 4 * chars <= MAX_SORT_KEY_BYTES and _FLAT_FIELD_BOUND * len(row) <= MAX_ROW_BYTES:
            return
    for name, limit in schema.byte_limits.items():
        text = row[name]
        problem = None if text is None else text_problem(text, limit)
        if problem is not None:
            raise unstorable_error(schema.name, (name,), text, problem)
    # Four bytes per character at most, and key and indexed strings stored twice.
    if flat and 8 * chars + _FLAT_FIELD_BOUND * len(row) <= MAX_ROW_BYTES:
        return
    size = row_size(row) + _copies_size(schema, row)
    if size > MAX_ROW_BYTES:
        largest = max((n for n in row if row[n] is not None), key=lambda n: stored_size(row[n]))
        raise unstorable_error(
            schema.name,
            (largest,),
            row[largest],
            f"the row takes {size} bytes stored, more than the {MAX_ROW_BYTES} a row may take "
            f"(DynamoDB's 400 KB item limit less room for keys); its largest field is "
            f"{largest!r} ({stored_size(row[largest])} bytes)",
        )
