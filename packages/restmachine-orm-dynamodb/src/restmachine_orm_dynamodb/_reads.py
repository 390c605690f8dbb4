"""Reads: choose GetItem, Query or Scan for a filter, page to the end, order client-side."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from restmachine_orm.backends.base import Row
from restmachine_orm.query import (
    And,
    Condition,
    Filter,
    QuerySpec,
    compile_filter,
    pinned_values,
    select_rows,
)
from restmachine_orm.schema import ModelSchema

from ._expressions import Expressions
from ._serialize import from_item
from ._table import Table
from .errors import DynamoDBError

__all__ = ["count", "pages", "plan", "rows", "select"]


def plan(table: Table, schema: ModelSchema, spec: QuerySpec) -> str:
    """Name the access path a filter gets: GetItem, unique, Query, index or Scan.

    A pinned whole key reads one item; a pinned unique value reads its sentinel, then the
    row; a pinned partition key queries the table; a pinned indexed field queries its index.
    """
    pinned = pinned_values(spec.filter)
    if all(name in pinned for name in schema.key_fields):
        return "GetItem"
    if any(pinned.get(name) is not None for name in schema.unique_fields):
        return "unique"
    if schema.key_fields[0] in pinned:
        return "Query"
    if _pinned_index(schema, pinned) is not None:
        return "index"
    return "Scan"


def _pinned_index(schema: ModelSchema, pinned: dict[str, Any]) -> str | None:
    return next((n for n in schema.indexed_fields if pinned.get(n) is not None), None)


def _without(tree: Filter, field: str, value: Any) -> Filter | None:
    """The filter less its top-level ``field == value`` (which a key condition guarantees)."""
    parts = tree.children if isinstance(tree, And) else (tree,)
    guaranteed = Condition(field, "eq", value)
    kept = tuple(part for part in parts if part != guaranteed)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else And(kept)


def _request(
    table: Table, schema: ModelSchema, spec: QuerySpec, path: str
) -> tuple[str, dict[str, Any]]:
    """The Query or Scan request for a filter (without paging)."""
    keys = table.keys
    ex = Expressions()
    if path == "Scan":
        entity = f"{ex.name(keys.entity)} = {ex.value(schema.name)}"
        condition = entity
        if spec.filter is not None:
            condition = f"{entity} AND {ex.filter(spec.filter, keys.pk)}"
        return "Scan", {"FilterExpression": condition, "ConsistentRead": True, **ex.request()}
    assert spec.filter is not None
    pinned = pinned_values(spec.filter)
    if path == "Query":
        field = schema.key_fields[0]
        key_condition = (
            f"{ex.name(keys.pk)} = {ex.value(keys.partition_value(schema, pinned[field]))} "
            f"AND begins_with({ex.name(keys.sk)}, {ex.value(schema.name)})"
        )
        request: dict[str, Any] = {"KeyConditionExpression": key_condition, "ConsistentRead": True}
    else:
        field = _pinned_index(schema, pinned) or ""
        index = keys.index_name(field)
        if index not in table.index_names():
            raise DynamoDBError(
                f"{schema.name}.{field} is declared index=True but table "
                f"{table.name!r} has no index {index!r}; create it with "
                f"backend.create_table(models=[{schema.name}]) or "
                f"backend.ensure_indexes([{schema.name}])"
            )
        key_condition = (
            f"{ex.name(keys.index_attribute(field))} = "
            f"{ex.value(keys.index_value(schema, pinned[field]))}"
        )
        # Global secondary indexes offer eventually consistent reads only.
        request = {"IndexName": index, "KeyConditionExpression": key_condition}
    remaining = _without(spec.filter, field, pinned[field])
    if remaining is not None:
        request["FilterExpression"] = ex.filter(remaining, keys.pk)
    return "Query", {**request, **ex.request()}


def pages(table: Table, operation: str, request: dict[str, Any]) -> Iterator[Any]:
    """Send a Query or Scan and its follow-up pages until ``LastEvaluatedKey`` runs out."""
    while True:
        answer = table.call(operation, **request)
        yield answer
        last = answer.get("LastEvaluatedKey")
        if not last:
            return
        request = {**request, "ExclusiveStartKey": last}


def _by_key(table: Table, schema: ModelSchema, spec: QuerySpec) -> Iterator[Row]:
    """The one row a pinned key or unique value can name, if it matches the whole filter."""
    pinned = pinned_values(spec.filter)
    keys = table.keys
    if all(name in pinned for name in schema.key_fields):
        item_key = keys.item_key(schema, tuple(pinned[name] for name in schema.key_fields))
    else:
        name = next(n for n in schema.unique_fields if pinned.get(n) is not None)
        sentinel = table.read(keys.sentinel_key(schema, name, pinned[name]))
        if sentinel is None:
            return
        item_key = sentinel[keys.owner]["M"]
    item = table.read(item_key)
    if item is not None:
        row = from_item(schema, item)
        if compile_filter(spec.filter)(row):
            yield row


def rows(table: Table, schema: ModelSchema, spec: QuerySpec) -> Iterator[Row]:
    """Every row matching ``spec.filter``, unordered, read lazily page by page."""
    path = plan(table, schema, spec)
    if path in ("GetItem", "unique"):
        yield from _by_key(table, schema, spec)
        return
    operation, request = _request(table, schema, spec, path)
    for answer in pages(table, operation, request):
        # Drop each page before asking for the next: a page at a time is all it holds.
        items = answer.pop("Items", [])
        for item in items:
            yield from_item(schema, item)
        del items


def select(table: Table, schema: ModelSchema, spec: QuerySpec) -> Iterator[Row]:
    """The rows of a query, ordered, sought and sliced as the core defines it."""
    yield from select_rows(rows(table, schema, spec), spec, filtered=True)


def count(table: Table, schema: ModelSchema, spec: QuerySpec) -> int:
    """Count matches with ``Select=COUNT`` (no items travel), or by key for pinned rows."""
    path = plan(table, schema, spec)
    if path in ("GetItem", "unique"):
        return sum(1 for _ in _by_key(table, schema, spec))
    operation, request = _request(table, schema, spec, path)
    return sum(
        int(answer.get("Count", 0))
        for answer in pages(table, operation, {**request, "Select": "COUNT"})
    )
