"""Access paths: how a query can find its rows, decided from the model's keys alone.

Every backend answers the same query with the same rows; what differs is the work. The
path is decided here, once, so that every backend agrees on which queries read every row
(``allow_scan=False`` refuses those on all of them alike) and ``explain()`` names the same
path everywhere:

- ``key``: the filter pins the whole key: one row, read by key;
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
from .filters import And, Condition, Filter, pinned_values

__all__ = ["Access", "access_path", "refuse_scan"]

AccessKind = Literal["key", "unique", "partition", "index", "scan"]


@dataclass(frozen=True)
class Access:
    """The path a query takes to its rows.

    Attributes:
        kind: ``key``, ``unique``, ``partition``, ``index`` or ``scan`` (see the module).
        field: The unique field (``unique``), or the ``index=True`` field (``index``).
        index: The declared index (``index`` through ``model_keys``), else ``None``.
        pinned: The fields the filter fixes to one value, and their values.
        starts: The text fields a top-level ``startswith`` filters, and the text: a sort
            key template's prefix may take it in (``Template.prefix``).
    """

    kind: AccessKind
    pinned: dict[str, Any]
    field: str | None = None
    index: IndexLayout | None = None
    starts: dict[str, str] = dataclass_field(default_factory=dict)


def access_path(schema: ModelSchema, tree: Filter | None) -> Access:
    """The path a query of ``schema`` filtered by ``tree`` takes (see the module)."""
    pinned = pinned_values(tree)
    if schema.key_fields and all(name in pinned for name in schema.key_fields):
        return Access("key", pinned)
    unique = next((n for n in schema.unique_fields if pinned.get(n) is not None), None)
    if unique is not None:
        return Access("unique", pinned, field=unique)
    layout = schema.layout
    if layout is not None and all(name in pinned for name in layout.pk.fields):
        return Access("partition", pinned, starts=_starts(schema, tree))
    if layout is not None:
        for index in layout.indexes.values():
            if _serves(schema, index, pinned):
                return Access("index", pinned, index=index, starts=_starts(schema, tree))
    indexed = next((n for n in schema.indexed_fields if pinned.get(n) is not None), None)
    if indexed is not None:
        return Access("index", pinned, field=indexed)
    return Access("scan", pinned)


def _starts(schema: ModelSchema, tree: Filter | None) -> dict[str, str]:
    """Text fields a top-level ``startswith`` condition filters, and the text."""
    parts = tree.children if isinstance(tree, And) else (tree,)
    return {
        part.field: part.value
        for part in parts
        if isinstance(part, Condition)
        and part.lookup == "startswith"
        and schema.fields[part.field].kind is FieldKind.STR
    }


def _serves(schema: ModelSchema, index: IndexLayout, pinned: dict[str, Any]) -> bool:
    """Whether every row the filter can match is in the index.

    The filter pins the index's partition key; a row whose sort key field is ``None``
    is not in the index (it is sparse), so such a field must be pinned or never ``None``.
    """
    if not all(pinned.get(name) is not None for name in index.pk.fields):
        return False
    sort = index.sk.fields if index.sk is not None else ()
    return all(pinned.get(name) is not None or not schema.fields[name].nullable for name in sort)


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
        return f"{schema.name}.all()"
    parts = tree.children if isinstance(tree, And) else (tree,)
    if all(isinstance(part, Condition) for part in parts):
        shown = ", ".join(
            f"{part.field}{'' if part.lookup == 'eq' else '__' + part.lookup}={part.value!r}"
            for part in parts
            if isinstance(part, Condition)
        )
        return f"{schema.name}.where({shown})"
    return f"{schema.name}.where({tree!r})"
