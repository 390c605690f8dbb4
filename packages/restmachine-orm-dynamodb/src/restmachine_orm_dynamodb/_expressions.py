"""Filter trees to DynamoDB condition expressions, every name and value a placeholder.

The expressions reproduce the in-memory semantics: a missing attribute (a ``None`` field)
never satisfies an ordering, text or ``in`` lookup, while ``ne`` and ``not_`` match it, and
a naive datetime never satisfies an ordering against an aware one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from restmachine_orm import QueryError
from restmachine_orm.query import And, Condition, Filter, Not, Or
from restmachine_orm.schema import ModelSchema

from ._serialize import (
    AttributeValue,
    absent_when_empty,
    stored_as_absent,
    text_of,
    to_attribute,
)

__all__ = ["Expressions"]

_OPERATORS = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_IN_LIMIT = 100  # DynamoDB's maximum number of operands of one IN


class Expressions:
    """Collects ``ExpressionAttributeNames``/``Values`` while building expressions."""

    def __init__(self) -> None:
        """Start with no placeholders."""
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValue] = {}
        self._by_name: dict[str, str] = {}

    def name(self, attribute: str) -> str:
        """Return the placeholder of an attribute name (one per distinct name)."""
        placeholder = self._by_name.get(attribute)
        if placeholder is None:
            placeholder = f"#n{len(self._by_name)}"
            self._by_name[attribute] = placeholder
            self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        """Return a new placeholder bound to a value."""
        return self.encoded(to_attribute(value))

    def encoded(self, attribute: AttributeValue) -> str:
        """Return a new placeholder bound to a value already in DynamoDB's form."""
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = attribute
        return placeholder

    def request(self) -> dict[str, Any]:
        """The placeholder maps as request parameters (omitting empty ones)."""
        params: dict[str, Any] = {}
        if self.names:
            params["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            params["ExpressionAttributeValues"] = dict(self.values)
        return params

    def never(self, always_present: str) -> str:
        """An expression no item satisfies (``always_present`` exists on every item)."""
        return f"attribute_not_exists({self.name(always_present)})"

    def _always(self, always_present: str) -> str:
        """An expression every item satisfies."""
        return f"attribute_exists({self.name(always_present)})"

    def filter(self, tree: Filter, always_present: str, schema: ModelSchema | None = None) -> str:
        """Compile a filter tree (on ``schema``'s fields, when some may be stored absent)."""
        if isinstance(tree, Condition):
            return self._condition(tree, always_present, schema)
        if isinstance(tree, Not):
            return f"(NOT {self.filter(tree.child, always_present, schema)})"
        joiner = " AND " if isinstance(tree, And) else " OR "
        assert isinstance(tree, (And, Or))
        parts = (self.filter(c, always_present, schema) for c in tree.children)
        return "(" + joiner.join(parts) + ")"

    def _condition(self, cond: Condition, always_present: str, schema: ModelSchema | None) -> str:
        value, lookup = cond.value, cond.lookup

        def absent(operand: Any) -> bool:
            # None, and the empty set of a field that stores it as nothing.
            if schema is None:
                return operand is None
            return stored_as_absent(schema, cond.field, operand)

        if (lookup == "between" and value[0] > value[1]) or (lookup == "in" and not value):
            # Nothing matches; decided first so that no placeholder is left unused.
            return self.never(always_present)
        if lookup == "isnull" and schema is not None and cond.field in absent_when_empty(schema):
            # Never None: its missing attribute is an empty set, not a null.
            return self.never(always_present) if value else self._always(always_present)
        path = self.name(cond.field)
        missing = f"attribute_not_exists({path})"
        if lookup == "isnull":
            return missing if value else f"attribute_exists({path})"
        if lookup in ("eq", "ne"):
            same = missing if absent(value) else f"{path} = {self.value(value)}"
            return same if lookup == "eq" else f"(NOT {same})"
        if lookup in _OPERATORS:
            return self._same_form(path, value, f"{path} {_OPERATORS[lookup]} {self.value(value)}")
        if lookup == "between":
            low, high = value
            compared = f"{path} BETWEEN {self.value(low)} AND {self.value(high)}"
            return self._same_form(path, low, compared)
        if lookup == "in":
            return self._in(path, value, absent)
        if lookup in ("startswith", "contains") and value == "":
            # Every string starts with and contains "", and DynamoDB refuses an empty operand.
            return f"attribute_type({path}, {self.value('S')})"
        if lookup in ("startswith", "contains"):
            function = "begins_with" if lookup == "startswith" else "contains"
            return f"{function}({path}, {self.value(value)})"
        # The reader tests the other text lookups on the rows it reads (``_reads``); a
        # write's condition cannot use them (the core refuses them there).
        model = "" if schema is None else f"{schema.name}."
        raise QueryError(
            f"{model}{cond.field}: DynamoDB has no expression for {lookup!r}; "
            "queries test it on the rows they read, and write conditions cannot use it"
        )

    def _same_form(self, path: str, operand: Any, comparison: str) -> str:
        """Restrict a datetime comparison to stored values of the operand's form.

        Datetimes are stored as fixed-width ISO text, naive ones without an offset, so the
        text's length tells naive from aware; in memory the two never compare either.
        """
        if not isinstance(operand, dt.datetime):
            return comparison
        return f"({comparison} AND size({path}) = {self.value(len(text_of(operand)))})"

    def _in(self, path: str, values: tuple[Any, ...], absent: Callable[[Any], bool]) -> str:
        present = [v for v in values if not absent(v)]
        parts = [
            f"{path} IN ({', '.join(self.value(v) for v in present[i : i + _IN_LIMIT])})"
            for i in range(0, len(present), _IN_LIMIT)
        ]
        if len(present) < len(values):
            parts.append(f"attribute_not_exists({path})")
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
