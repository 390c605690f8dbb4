"""Access paths: how a query can find its rows, decided from the model's keys alone.

Every backend answers the same query with the same rows; what differs is the work. The
path is decided here, once, so that every backend agrees on which queries read every row
(``allow_scan=False`` refuses those on all of them alike) and ``explain()`` names the same
path everywhere:

- ``key``: the filter pins the whole key: one row, read by key;
- ``keys``: it pins every key field but one, and gives that one a list of values
  (``id__in=[...]``): those rows, read by key (DynamoDB's ``BatchGetItem``);
- ``unique``: it pins a unique field: one row, found through its unique value;
- ``partition``: it pins every field of the table's partition key template: the rows of
  one partition (a DynamoDB ``Query``), in sort key order;
- ``index``: it pins the partition key of an index (a declared one, or an ``index=True``
  field): the rows of one index partition;
- ``scan``: nothing above: every row of the model is read and tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Literal

from ..errors import QueryError
from ..keys import IndexLayout
from ..schema import FieldKind, ModelSchema
from .filters import Condition, Filter, conjuncts, pinned_values

__all__ = ["Access", "access_path", "refuse_scan"]

AccessKind = Literal["key", "keys", "unique", "partition", "index", "scan"]


@dataclass(frozen=True)
class Access:
    """The path a query takes to its rows.

    Attributes:
        kind: ``key``, ``keys``, ``unique``, ``partition``, ``index`` or ``scan`` (see
            the module).
        field: The unique field (``unique``), or the ``index=True`` field (``index``).
        index: The declared index (``index`` through ``model_keys``), else ``None``.
        pinned: The fields the filter fixes to one value, and their values.
        starts: The text fields a top-level ``startswith`` filters, and the text: a sort
            key template's prefix may take it in (``Template.prefix``).
        keys: The keys a ``keys`` access reads, each once, in the order the list gives.
    """

    kind: AccessKind
    pinned: dict[str, Any]
    field: str | None = None
    index: IndexLayout | None = None
    starts: dict[str, str] = dataclass_field(default_factory=dict)
    keys: tuple[tuple[Any, ...], ...] = ()


def access_path(schema: ModelSchema, tree: Filter | None) -> Access:
    """The path a query of ``schema`` filtered by ``tree`` takes (see the module)."""
    pinned = pinned_values(tree)
    if schema.key_fields and all(name in pinned for name in schema.key_fields):
        return Access("key", pinned)
    keys = _listed_keys(schema, tree, pinned)
    if keys is not None:
        return Access("keys", pinned, keys=keys)
    unique = next((n for n in schema.unique_fields if pinned.get(n) is not None), None)
    if unique is not None:
        return Access("unique", pinned, field=unique)
    layout = schema.layout
    if layout is not None and all(name in pinned for name in layout.pk.fields):
        return Access("partition", pinned, starts=_starts(schema, tree))
    if layout is not None:
        for index in layout.indexes.values():
            if _serves(schema, index, pinned, tree):
                return Access("index", pinned, index=index, starts=_starts(schema, tree))
    indexed = next((n for n in schema.indexed_fields if pinned.get(n) is not None), None)
    if indexed is not None:
        return Access("index", pinned, field=indexed)
    return Access("scan", pinned)


def _listed_keys(
    schema: ModelSchema, tree: Filter | None, pinned: dict[str, Any]
) -> tuple[tuple[Any, ...], ...] | None:
    """The keys a filter lists: every key field pinned but one, which ``in`` lists."""
    missing = [name for name in schema.key_fields if name not in pinned]
    if len(missing) != 1:
        return None
    parts = conjuncts(tree)
    listed = next(
        (
            part.value
            for part in parts
            if isinstance(part, Condition) and part.field == missing[0] and part.lookup == "in"
        ),
        None,
    )
    if not listed:
        return None  # an empty list matches nothing: left to the filter, as any other
    keys = (
        tuple(value if name == missing[0] else pinned[name] for name in schema.key_fields)
        for value in listed
    )
    return tuple(dict.fromkeys(keys))


def _starts(schema: ModelSchema, tree: Filter | None) -> dict[str, str]:
    """Text fields a top-level ``startswith`` condition filters, and the text."""
    parts = conjuncts(tree)
    return {
        part.field: part.value
        for part in parts
        if isinstance(part, Condition)
        and part.lookup == "startswith"
        and schema.fields[part.field].kind is FieldKind.STR
    }


def _serves(
    schema: ModelSchema, index: IndexLayout, pinned: dict[str, Any], tree: Filter | None
) -> bool:
    """Whether every row the filter can match is in the index.

    The filter pins the index's partition key; a row whose sort key field is ``None``
    is not in the index (it is sparse), so the filter must rule ``None`` out for such a
    field (pin it, compare it, ``isnull=False``), or the field must never be ``None``.
    """
    if not all(pinned.get(name) is not None for name in index.pk.fields):
        return False
    sort = index.sk.fields if index.sk is not None else ()
    present = _never_none(tree)
    return all(name in present or not schema.fields[name].nullable for name in sort)


#: Lookups no ``None`` satisfies: a missing value never satisfies an ordering or text lookup.
_NOT_NONE = frozenset({"gt", "gte", "lt", "lte", "between", "startswith", "contains"})


def _never_none(tree: Filter | None) -> set[str]:
    """Fields the filter's top-level conditions require to hold a value (not ``None``)."""
    parts = conjuncts(tree)
    present = set()
    for part in parts:
        if not isinstance(part, Condition):
            continue
        lookup, value = part.lookup, part.value
        if (
            lookup in _NOT_NONE
            or (lookup == "eq" and value is not None)
            or (lookup == "in" and None not in value)
            or (lookup == "isnull" and value is False)
        ):
            present.add(part.field)
    return present


def refuse_scan(schema: ModelSchema, tree: Filter | None) -> None:
    """Raise if a query would scan.

    Raises:
        QueryError: Names the query and every way the model's keys and indexes offer to
            avoid the scan.
    """
    if access_path(schema, tree).kind != "scan":
        return
    ways = []
    if schema.key_fields:
        ways.append(f"the key ({', '.join(schema.key_fields)})")
    layout = schema.layout
    if layout is not None and layout.pk.fields and len(layout.pk.fields) < len(schema.key_fields):
        ways.append(f"the partition ({', '.join(layout.pk.fields)})")
    ways += [f"the unique field {name}" for name in schema.unique_fields]
    if layout is not None:
        ways += [
            f"index {index.name!r} ({', '.join(index.pk.fields)})"
            for index in layout.indexes.values()
        ]
    ways += [f"the indexed field {name}" for name in schema.indexed_fields]
    raise QueryError(
        f"{_shown(schema, tree)} would scan every {schema.name} row, and scans are not allowed "
        f"(allow_scan=False); pin with == one of: {'; '.join(ways) or 'no key declared'}"
    )


def _shown(schema: ModelSchema, tree: Filter | None) -> str:
    """The query as written, as near as the filter tree tells: ``User.where(age__gt=3)``."""
    if tree is None:
        return f"A query of every {schema.name} row (all(), or where() without filters)"
    parts = conjuncts(tree)
    if all(isinstance(part, Condition) for part in parts):
        shown = ", ".join(
            f"{part.field}{'' if part.lookup == 'eq' else '__' + part.lookup}={part.value!r}"
            for part in parts
            if isinstance(part, Condition)
        )
        return f"{schema.name}.where({shown})"
    return f"{schema.name}.where({tree!r})"
