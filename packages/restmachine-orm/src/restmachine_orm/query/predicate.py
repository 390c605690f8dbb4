"""Compile a filter tree into a Python predicate over stored rows.

The in-memory backend filters with it; any backend can use it for what its storage cannot
evaluate natively, and so match the in-memory semantics exactly: a stored ``None`` never
satisfies an ordering or text lookup, while ``ne`` treats it as a value like any other, and
a naive datetime never satisfies an ordering against an aware one (nor the reverse).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from typing import Any

from .filters import And, Condition, Filter, Not, Or

__all__ = ["Predicate", "compile_filter"]

Predicate = Callable[[Mapping[str, Any]], bool]
"""A test of one stored row."""

_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def compile_filter(tree: Filter | None) -> Predicate:
    """Return a predicate that is true for the rows the tree matches (all rows for ``None``)."""
    if tree is None:
        return _always
    if isinstance(tree, Condition):
        return _condition(tree)
    if isinstance(tree, Not):
        inner = compile_filter(tree.child)
        return lambda row: not inner(row)
    parts = tuple(compile_filter(child) for child in tree.children)
    if isinstance(tree, And):
        return lambda row: all(part(row) for part in parts)
    if isinstance(tree, Or):
        return lambda row: any(part(row) for part in parts)
    raise TypeError(f"not a filter node: {tree!r}")  # pragma: no cover - closed union


def _always(row: Mapping[str, Any]) -> bool:
    return True


def _condition(cond: Condition) -> Predicate:
    name, value = cond.field, cond.value
    lookup = cond.lookup
    if lookup == "eq":
        return lambda row: row.get(name) == value
    if lookup == "ne":
        return lambda row: row.get(name) != value
    if lookup == "isnull":
        return lambda row: (row.get(name) is None) is value
    if lookup == "in":
        return lambda row: row.get(name) in value
    if lookup == "startswith":
        return lambda row: isinstance(stored := row.get(name), str) and stored.startswith(value)
    if lookup == "contains":
        return lambda row: (stored := row.get(name)) is not None and value in stored
    if lookup in _FOLDED:
        return _text_match(name, lookup, value)
    if lookup == "endswith":
        return lambda row: isinstance(stored := row.get(name), str) and stored.endswith(value)
    if lookup == "between":
        low, high = value
        return _compared(name, lambda stored, _: low <= stored <= high, value)
    return _compared(name, _ORDERING[lookup], value)


# Case-insensitive lookups compare casefolded text (``"Straße"`` matches ``"STRASSE"``).
_FOLDED: dict[str, Callable[[str, str], bool]] = {
    "iexact": operator.eq,
    "istartswith": str.startswith,
    "iendswith": str.endswith,
    "icontains": operator.contains,
}


def _text_match(name: str, lookup: str, value: str) -> Predicate:
    test, folded = _FOLDED[lookup], value.casefold()
    return lambda row: isinstance(stored := row.get(name), str) and test(stored.casefold(), folded)


def _compared(name: str, test: Callable[[Any, Any], bool], value: Any) -> Predicate:
    operand = value[0] if isinstance(value, tuple) else value
    # Naive and timezone-aware datetimes have no order between them: a stored value of the
    # other kind never matches, as on backends that compare their stored text.
    aware = operand.tzinfo is not None if isinstance(operand, dt.datetime) else None

    def predicate(row: Mapping[str, Any]) -> bool:
        stored = row.get(name)
        if stored is None:
            return False
        if aware is not None and (stored.tzinfo is not None) is not aware:
            return False
        return test(stored, value)

    return predicate
