"""Rows to DynamoDB items and back: the one place that knows DynamoDB's value types.

Numbers travel as exact decimal strings (``N``), datetimes as ISO-8601 strings normalised to
UTC so that string order is time order, and ``None`` as a missing attribute, so that sparse
indexes and ``attribute_not_exists`` see it as absent. A set whose elements are all strings,
all numbers or all binary is a DynamoDB set (``SS``, ``NS``, ``BS``), which ``ADD`` and
``DELETE`` change in place; DynamoDB has no empty set, so a field that holds a set and is
never ``None`` stores its empty set as a missing attribute too (``absent_when_empty``),
which it reads back as an empty set. Other sets, and other empty ones, are lists.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import uuid
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from pydantic import BaseModel

from restmachine_orm import ModelSchema
from restmachine_orm.keys import key_text
from restmachine_orm.schema import FieldKind

__all__ = [
    "AttributeValue",
    "Item",
    "absent_when_empty",
    "from_item",
    "parse_value",
    "stored_as_absent",
    "text_of",
    "to_attribute",
    "to_item",
]

AttributeValue = dict[str, Any]
"""One value as DynamoDB's JSON protocol writes it, e.g. ``{"S": "text"}``."""

Item = dict[str, AttributeValue]
"""A whole item: attribute name to ``AttributeValue``."""


# Enough digits for any storable number (38 significant): normalizing never rounds.
_EXACT = decimal.Context(prec=40)


#: The text of a scalar in a key or sentinel (and of a datetime): the core's, so that every
#: backend builds the same key texts from the same templates.
text_of = key_text


def _number(value: int | float | decimal.Decimal) -> AttributeValue:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"DynamoDB cannot store the number {value!r}")
        return {"N": repr(value)}  # repr is exact: float() of it gives the value back
    # As written (DynamoDB trims zeros itself); keys use text_of's canonical form instead.
    return {"N": str(value)}


def to_attribute(value: Any) -> AttributeValue:
    """Encode one Python value (never ``None`` at the top level of a row) as an attribute."""
    kind = type(value)
    if kind is str:  # the common cases first, decided by exact type
        return {"S": value}
    if kind is int:
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float, decimal.Decimal)):
        return _number(value)
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, enum.Enum):
        return to_attribute(value.value)
    if isinstance(value, (dt.date, dt.time, uuid.UUID)):
        return {"S": text_of(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"B": bytes(value)}
    if isinstance(value, BaseModel):
        return to_attribute(value.model_dump())
    if isinstance(value, Mapping):
        return {"M": {str(k): to_attribute(v) for k, v in value.items()}}
    if isinstance(value, (set, frozenset)) and value:
        return _set(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return {"L": [to_attribute(v) for v in value]}
    raise TypeError(f"cannot store a {type(value).__name__} value in DynamoDB: {value!r}")


_SET_TYPES = {"S": "SS", "N": "NS", "B": "BS"}


def _set(value: set[Any] | frozenset[Any]) -> AttributeValue:
    """A non-empty set: a DynamoDB set when its elements are of one such type, else a list."""
    members = [to_attribute(v) for v in value]
    kinds = {next(iter(member)) for member in members}
    if len(kinds) == 1 and (kind := kinds.pop()) in _SET_TYPES:
        # Sorted, so that equal sets are sent alike (a condition compares them).
        return {_SET_TYPES[kind]: sorted(member[kind] for member in members)}
    return {"L": members}


# Per model, the fields whose empty set is stored as a missing attribute; worked out once.
_ABSENT_WHEN_EMPTY: dict[type, frozenset[str]] = {}


def absent_when_empty(schema: ModelSchema) -> frozenset[str]:
    """The fields that hold a set and are never ``None``: their empty set is not stored."""
    names = _ABSENT_WHEN_EMPTY.get(schema.model)
    if names is None:
        names = frozenset(n for n, s in schema.fields.items() if s.is_set and not s.nullable)
        _ABSENT_WHEN_EMPTY[schema.model] = names
    return names


def stored_as_absent(schema: ModelSchema, name: str, value: Any) -> bool:
    """Whether a field's value is stored as a missing attribute: ``None``, or an empty set."""
    return value is None or (not value and name in absent_when_empty(schema))


def to_item(schema: ModelSchema, row: Mapping[str, Any]) -> Item:
    """Encode a row; ``None`` fields (and empty sets, see above) are left out."""
    empty = absent_when_empty(schema)
    if not empty:  # most models: a missing attribute is None only
        return {name: to_attribute(value) for name, value in row.items() if value is not None}
    return {
        name: to_attribute(value)
        for name, value in row.items()
        if value is not None and (value or name not in empty)
    }


def _natural(number: str) -> int | float:
    # Untyped (nested) numbers come back as Python would hold them: int, else float. A
    # float was stored as its repr, so float() gives back exactly the value written.
    exact = decimal.Decimal(number)
    return int(exact) if exact == exact.to_integral_value() else float(number)


def _plain(attribute: AttributeValue, *, top: bool = False) -> Any:
    ((kind, raw),) = attribute.items()
    if kind == "S" or kind == "BOOL" or kind == "B":
        return raw.value if hasattr(raw, "value") else raw
    if kind == "N":
        # A field's own number stays exact until parse_value gives it the field's type.
        return decimal.Decimal(raw) if top else _natural(raw)
    if kind == "NULL":
        return None
    if kind == "L":
        return [_plain(item) for item in raw]
    if kind == "M":
        return {name: _plain(item) for name, item in raw.items()}
    if kind in ("SS", "BS"):
        return list(raw)
    if kind == "NS":
        return [_natural(item) for item in raw]
    raise TypeError(f"unknown DynamoDB attribute type {kind!r}")  # pragma: no cover


def _number_parser(annotation: Any) -> Callable[[Any], Any]:
    if annotation is int:
        return int
    if annotation is float:
        return float
    return lambda value: value


def parse_value(schema: ModelSchema, name: str, value: Any) -> Any:
    """Turn a decoded attribute into the field's Python type, for comparing and ordering."""
    spec = schema.fields[name]
    kind = spec.kind
    if value is None:
        return None
    if isinstance(value, decimal.Decimal):
        if kind is FieldKind.NUMBER:
            return _number_parser(spec.inner)(value)
        return _natural(str(value))
    if kind is FieldKind.DATETIME and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if kind is FieldKind.DATE and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if kind is FieldKind.TIME and isinstance(value, str):
        return dt.time.fromisoformat(value)
    if kind is FieldKind.ENUM:
        return spec.inner(value)
    if kind is FieldKind.UUID and isinstance(value, str):
        return uuid.UUID(value)
    if isinstance(value, list) and spec.is_set:
        # A set comes back as a list (SS, NS, BS, or L): a set again, so that comparing
        # it, or sending it back in a condition, treats it as the set it is.
        return set(value)
    return value


Decoder = Callable[[AttributeValue], Any]

# A field declared as exactly one of these types is read straight from the attribute of
# this DynamoDB type, through a builtin: no Python call per field on the hot read path.
_DIRECT: dict[tuple[FieldKind, type], tuple[str, Callable[[Any], Any]]] = {
    (FieldKind.STR, str): ("S", str),
    (FieldKind.NUMBER, int): ("N", int),
    (FieldKind.BOOL, bool): ("BOOL", bool),
}


class _FieldDecoding(NamedTuple):
    name: str
    tag: str  # the attribute type read directly ("" when there is none)
    direct: Callable[[Any], Any]
    generic: Decoder  # every other attribute, e.g. one written by another program
    empty_set: bool  # a missing attribute is an empty set (``absent_when_empty``), not None


def _decoding(schema: ModelSchema, name: str) -> _FieldDecoding:
    spec = schema.fields[name]

    def generic(attribute: AttributeValue) -> Any:
        return parse_value(schema, name, _plain(attribute, top=True))

    tag, direct = _DIRECT.get((spec.kind, spec.inner), ("", generic))
    return _FieldDecoding(name, tag, direct, generic, name in absent_when_empty(schema))


# Decoding runs on every row read: each model's decoders are worked out once (model
# classes live as long as the process, and their schemas with them).
_DECODINGS: dict[type, tuple[_FieldDecoding, ...]] = {}


def from_item(schema: ModelSchema, item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    """Decode an item into a row of the model's fields (absent fields are ``None``)."""
    decodings = _DECODINGS.get(schema.model)
    if decodings is None:
        decodings = tuple(_decoding(schema, name) for name in schema.fields)
        _DECODINGS[schema.model] = decodings
    row: dict[str, Any] = {}
    for name, tag, direct, generic, empty_set in decodings:
        attribute = item.get(name)
        if attribute is None:
            row[name] = set() if empty_set else None
        elif tag in attribute:
            try:
                row[name] = direct(attribute[tag])
            except ValueError:  # a number int() does not read, e.g. "4.2E+1"
                row[name] = generic(attribute)
        else:
            row[name] = generic(attribute)
    return row
