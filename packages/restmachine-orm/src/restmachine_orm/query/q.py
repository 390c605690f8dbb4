"""``Q``: filters combined with ``|``, ``&`` and ``~``, for ``where``, ``find_by``, conditions.

``Q(age__gte=30) | Q(name="Bo")`` is a filter not yet bound to a model: the model it is
given to checks its fields, lookups and values (``resolve``), as keyword filters are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Union

from ..errors import QueryError
from ..schema import ModelSchema
from .filters import And, Filter, Not, Or, conjuncts
from .parse import parse_filters

__all__ = ["Q", "WriteCondition", "resolve_filters"]

_Join = Literal["and", "or", "not"]


class Q:
    """A filter: keyword lookups as in ``where``, joined with ``&``, ``|`` and negated by ``~``.

    ``Q(a=1, b=2)`` holds when both hold, like ``Q(a=1) & Q(b=2)``. An empty ``Q()``
    matches every row.
    """

    __slots__ = ("_children", "_filters", "_join")

    def __init__(self, **filters: Any) -> None:
        """Hold the keyword filters ``field=value`` / ``field__lookup=value``."""
        self._filters: dict[str, Any] = filters
        self._join: _Join | None = None
        self._children: tuple[Q, ...] = ()

    @classmethod
    def _joined(cls, join: _Join, *children: Q) -> Q:
        combined = cls()
        combined._join = join
        # Flatten a chain of the same operator: (a | b) | c is one Or of three.
        combined._children = tuple(
            grandchild
            for child in children
            for grandchild in (child._children if child._join == join != "not" else (child,))
        )
        return combined

    def __and__(self, other: object) -> Q:
        """Both hold."""
        if not isinstance(other, Q):
            return NotImplemented
        return Q._joined("and", self, other)

    def __or__(self, other: object) -> Q:
        """Either holds."""
        if not isinstance(other, Q):
            return NotImplemented
        return Q._joined("or", self, other)

    def __invert__(self) -> Q:
        """It does not hold."""
        return Q._joined("not", self)

    def __eq__(self, other: object) -> bool:
        """The same filters joined the same way."""
        if not isinstance(other, Q):
            return NotImplemented
        return (self._join, self._filters, self._children) == (
            other._join,
            other._filters,
            other._children,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable filter values: not hashable

    def __repr__(self) -> str:
        """``Q(age__gte=30) | ~Q(name='Bo')``."""
        if self._join is None:
            return "Q(" + ", ".join(f"{k}={v!r}" for k, v in self._filters.items()) + ")"
        if self._join == "not":
            child = self._children[0]
            return f"~({child!r})" if child._join in ("and", "or") else f"~{child!r}"
        joiner = " & " if self._join == "and" else " | "
        return joiner.join(
            f"({child!r})" if child._join in ("and", "or") else repr(child)
            for child in self._children
        )

    def resolve(self, schema: ModelSchema) -> Filter | None:
        """The filter tree on ``schema``'s fields (``None``: every row).

        Raises:
            QueryError: A field, lookup or value does not fit the model, or ``~Q()``.
        """
        if self._join is None:
            return parse_filters(schema, self._filters)
        parts = [child.resolve(schema) for child in self._children]
        if self._join == "not":
            if parts[0] is None:
                raise QueryError(
                    f"{schema.name}: {self!r} negates an empty Q(), which would match no row"
                )
            return Not(parts[0])
        if self._join == "or":
            # An empty Q() matches every row, and so does its disjunction with anything.
            return None if None in parts else Or(tuple(p for p in parts if p is not None))
        kept = tuple(p for p in parts if p is not None)
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else And(kept)


WriteCondition = Union[Mapping[str, Any], Q]  # noqa: UP007 - a runtime alias, valid on 3.10
"""A write's ``condition=``: keyword lookups (``{"balance__gte": 100}``) or a ``Q``."""


def resolve_filters(
    schema: ModelSchema, conditions: tuple[Any, ...], filters: Mapping[str, Any], method: str
) -> Filter | None:
    """One filter of ``Q`` objects given positionally and keyword filters, all of them held.

    Raises:
        QueryError: A positional argument is not a ``Q``, or a filter does not fit.
    """
    parts: list[Filter] = []
    for condition in conditions:
        if not isinstance(condition, Q):
            raise QueryError(
                f"{schema.name}.{method}() takes Q objects positionally and field=value "
                f"keywords, not {condition!r}"
            )
        resolved = condition.resolve(schema)
        if resolved is not None:
            parts.append(resolved)
    keywords = parse_filters(schema, filters)
    if keywords is not None:
        parts.append(keywords)
    flat = tuple(child for part in parts for child in conjuncts(part))
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else And(flat)
