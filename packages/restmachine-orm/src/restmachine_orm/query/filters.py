"""The parsed filter tree that backends receive: conditions joined by and / or / not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Union

__all__ = [
    "And",
    "Condition",
    "Filter",
    "Not",
    "Or",
    "conjuncts",
    "describe",
    "pinned_values",
    "split_filter",
    "walk",
]


@dataclass(frozen=True)
class Condition:
    """``field <lookup> value``, already validated against the model.

    Attributes:
        field: The field compared.
        lookup: One of ``restmachine_orm.schema.LOOKUPS``.
        value: The validated value: a tuple for ``in``, a pair for ``between``, a bool for
            ``isnull``, a value of the field's type otherwise.
    """

    field: str
    lookup: str
    value: Any


@dataclass(frozen=True)
class And:
    """Every child holds."""

    children: tuple[Filter, ...]


@dataclass(frozen=True)
class Or:
    """At least one child holds."""

    children: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    """The child does not hold."""

    child: Filter


Filter = Union[Condition, And, Or, Not]  # noqa: UP007 - a runtime alias, valid on 3.10
"""Any node of a filter tree."""


def conjuncts(tree: Filter | None) -> tuple[Filter, ...]:
    """The top-level parts a row must match all of: an ``And``'s children, else the tree.

    No filter has none. Only these parts can pin a key, start a prefix, or be told to the
    storage one by one.
    """
    if tree is None:
        return ()
    return tree.children if isinstance(tree, And) else (tree,)


def pinned_values(tree: Filter | None) -> dict[str, Any]:
    """Fields a filter fixes to one value with a top-level ``eq`` (alone or in an ``And``).

    Backends use it to answer a query from a key or an index instead of reading every row.
    """
    conditions = conjuncts(tree)
    return {
        cond.field: cond.value
        for cond in conditions
        if isinstance(cond, Condition) and cond.lookup == "eq"
    }


def walk(tree: Filter) -> Iterator[Filter]:
    """Every node of the tree, the root first."""
    yield tree
    if isinstance(tree, Not):
        yield from walk(tree.child)
    elif isinstance(tree, (And, Or)):
        for child in tree.children:
            yield from walk(child)


def split_filter(
    tree: Filter | None, native: Callable[[Condition], bool]
) -> tuple[Filter | None, Filter | None]:
    """Split a filter into what a storage evaluates (``native``) and what is left to do after.

    Returns ``(stored, after)``: every row matching ``tree`` matches ``stored``, and a row
    matching ``stored`` matches ``tree`` exactly when it matches ``after`` (``None``: no
    test). Top-level conditions of an ``And`` split one by one; any other node that holds
    a condition the storage cannot evaluate is left whole to ``after``.
    """
    if tree is None:
        return None, None
    parts = conjuncts(tree)
    stored: list[Filter] = []
    after: list[Filter] = []
    for part in parts:
        whole = all(native(n) for n in walk(part) if isinstance(n, Condition))
        (stored if whole else after).append(part)
    return _joined(stored), _joined(after)


def _joined(parts: list[Filter]) -> Filter | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def describe(tree: Filter) -> str:
    """The tree in ``where`` syntax, for messages: ``balance__gte=100 and owner='ann'``."""
    if isinstance(tree, Condition):
        lookup = "" if tree.lookup == "eq" else f"__{tree.lookup}"
        return f"{tree.field}{lookup}={tree.value!r}"
    if isinstance(tree, Not):
        return f"not ({describe(tree.child)})"
    joiner = " and " if isinstance(tree, And) else " or "
    return joiner.join(_grouped(child) for child in tree.children)


def _grouped(tree: Filter) -> str:
    text = describe(tree)
    return f"({text})" if isinstance(tree, (And, Or)) else text
