"""Turn ``field__lookup=value`` keywords into a validated filter tree."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any

from ..errors import QueryError
from ..schema import LOOKUPS, TEXT_MATCH_LOOKUPS, FieldKind, FieldSpec, ModelSchema
from ..storable import number_problem, text_problem
from .filters import And, Condition, Filter

__all__ = ["parse_filters", "split_lookup"]

_COLLECTIONS = (list, tuple, set, frozenset)
# Lookups that compare a text field with a piece of text, not with a value of the field.
_TEXT_LOOKUPS = frozenset({"startswith", "contains"}) | TEXT_MATCH_LOOKUPS


def split_lookup(schema: ModelSchema, keyword: str) -> tuple[FieldSpec, str]:
    """Split ``age__gte`` into the field and the lookup, checking both against the model.

    Raises:
        QueryError: The field does not exist or does not support the lookup.
    """
    name, lookup = keyword, "eq"
    if "__" in keyword and keyword not in schema.fields:
        name, lookup = keyword.rsplit("__", 1)
        if lookup not in LOOKUPS:
            if name in schema.fields:
                raise QueryError(
                    f"{schema.name}.{name}: unknown lookup {lookup!r} in {keyword!r}; "
                    f"allowed lookups: {_allowed(schema.fields[name])}"
                )
            name = keyword
    spec = schema.field_spec(name, purpose=f"filter {keyword!r}")
    if lookup not in spec.lookups:
        raise QueryError(
            f"{schema.name}.{name}: lookup {lookup!r} does not apply to a {spec.kind.value} "
            f"field; allowed lookups: {_allowed(spec)}"
        )
    return spec, lookup


def parse_filters(schema: ModelSchema, filters: Mapping[str, Any]) -> Filter | None:
    """Parse keyword filters into one ``Condition`` or an ``And`` of them (``None`` if empty).

    Raises:
        QueryError: A field, lookup or value does not fit the model.
    """
    conditions = tuple(_condition(schema, keyword, value) for keyword, value in filters.items())
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0]
    return And(conditions)


def _allowed(spec: FieldSpec) -> str:
    return ", ".join(lookup for lookup in LOOKUPS if lookup in spec.lookups)


def _condition(schema: ModelSchema, keyword: str, value: Any) -> Condition:
    spec, lookup = split_lookup(schema, keyword)
    where = f"{schema.name}.{spec.name}"
    if lookup == "isnull":
        if not isinstance(value, bool):
            raise QueryError(f"{where}: {keyword} takes True or False, not {value!r}")
        return Condition(spec.name, lookup, value)
    if lookup == "in":
        if not isinstance(value, _COLLECTIONS):
            raise QueryError(f"{where}: {keyword} takes a list, tuple or set, not {value!r}")
        items = tuple(_single(schema, spec, keyword, item, keyed=True) for item in value)
        return Condition(spec.name, lookup, items)
    if lookup == "between":
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise QueryError(f"{where}: {keyword} takes a (low, high) pair, not {value!r}")
        low, high = (_single(schema, spec, keyword, item, allow_none=False) for item in value)
        if _aware(low) != _aware(high):
            raise QueryError(
                f"{where}: {keyword} takes two naive or two timezone-aware datetimes, "
                f"not one of each: {value!r}"
            )
        return Condition(spec.name, lookup, (low, high))
    if lookup in _TEXT_LOOKUPS and spec.kind is FieldKind.STR:
        if not isinstance(value, str):
            raise QueryError(f"{where}: {keyword} takes a string, not {value!r}")
        return Condition(spec.name, lookup, value)
    if lookup == "contains":
        return Condition(spec.name, lookup, _element(schema, spec, keyword, value))
    ordered = lookup in ("gt", "gte", "lt", "lte")
    checked = _single(schema, spec, keyword, value, allow_none=not ordered, keyed=lookup == "eq")
    return Condition(spec.name, lookup, checked)


def _single(
    schema: ModelSchema,
    spec: FieldSpec,
    keyword: str,
    value: Any,
    *,
    allow_none: bool = True,
    keyed: bool = False,
) -> Any:
    if value is None:
        if not allow_none:
            raise QueryError(
                f"{schema.name}.{spec.name}: {keyword} cannot compare with None; "
                f"use {spec.name}__isnull=True"
            )
        if not spec.nullable:
            raise QueryError(
                f"{schema.name}.{spec.name}: the field is never None, so {keyword}=None "
                "matches nothing; it is rejected as a likely mistake"
            )
        return None
    checked = schema.validate_value(spec.name, value, purpose=keyword)
    return _storable(schema, spec, keyword, checked, keyed=keyed)


def _element(schema: ModelSchema, spec: FieldSpec, keyword: str, value: Any) -> Any:
    # A list field's `contains` looks for one element: check it as the element type.
    checked = schema.validate_value(spec.name, value, purpose=keyword, element=True)
    return _storable(schema, spec, keyword, checked)


def _storable(
    schema: ModelSchema, spec: FieldSpec, keyword: str, value: Any, *, keyed: bool = False
) -> Any:
    # No stored number is beyond what every backend can hold, nor a key, unique or indexed
    # value longer than its limit, and DynamoDB refuses such an operand outright where it
    # looks it up by key (``keyed``: eq and in), so the filter is refused everywhere alike.
    problem = None
    if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
        problem = number_problem(value)
    elif keyed and isinstance(value, str) and spec.name in schema.byte_limits:
        problem = text_problem(value, schema.byte_limits[spec.name])
    if problem is not None:
        raise QueryError(f"{schema.name}.{spec.name}: {keyword}: {problem}")
    return value


def _aware(value: Any) -> bool:
    return isinstance(value, dt.datetime) and value.tzinfo is not None
