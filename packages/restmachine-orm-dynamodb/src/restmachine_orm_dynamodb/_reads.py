"""Reads: choose GetItem, Query or Scan for a filter, page to the end, order client-side.

Every read is a flow (see ``_flow``). A query's rows come a page per flow (``Selection``),
so the sync iterator and the async one both hold one page at a time. Lookups DynamoDB has
no expression for (``endswith`` and the case-insensitive ones) are tested on each page's
rows, after the server-side part of the filter (``split_filter``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

# By full name (see ``backend``): ``from . import`` would trust the package's attributes.
import restmachine_orm_dynamodb._batch as _batch
import restmachine_orm_dynamodb._segments as _segments
from restmachine_orm.backends.base import Row
from restmachine_orm.query import (
    And,
    Condition,
    Filter,
    Predicate,
    QuerySpec,
    compile_filter,
    conjuncts,
    select_rows,
    split_filter,
    walk,
)
from restmachine_orm.query.access import Access, access_path
from restmachine_orm.schema import TEXT_MATCH_LOOKUPS, ModelSchema

from ._expressions import Expressions
from ._flow import Flow
from ._items import Pages, get_row
from ._keys import KeyScheme
from ._serialize import from_item
from ._table import Table
from .errors import DynamoDBError

__all__ = [
    "Reader",
    "Selection",
    "count",
    "exists",
    "index_of",
    "request_of",
    "server_side",
]


#: The accesses that read rows by key: one, listed ones (``BatchGetItem``), or the one a
#: unique value's sentinel names.
_BY_KEY = ("key", "keys", "unique")


def _expressible(condition: Condition) -> bool:
    # DynamoDB has begins_with and contains, but no ends_with and no case folding.
    return condition.lookup not in TEXT_MATCH_LOOKUPS


def server_side(spec: QuerySpec) -> tuple[QuerySpec, Predicate | None]:
    """The query DynamoDB evaluates, and the test left for its rows (``None``: none)."""
    stored, after = split_filter(spec.filter, _expressible)
    if after is None:
        return spec, None
    return replace(spec, filter=stored), compile_filter(after)


def _projection(spec: QuerySpec, full: QuerySpec, ex: Expressions) -> dict[str, str]:
    """``ProjectionExpression`` of a read of some fields: those, and what the reader uses.

    The reader still orders, seeks and tests rows client-side, so it reads the fields of
    the ordering, the key (for pages) and the client-side filter (``full``'s) too.
    """
    if spec.fields is None:
        return {}
    used = [*spec.fields, *spec.schema.key_fields, *(order.field for order in spec.order)]
    if full.filter is not None:
        used += [node.field for node in walk(full.filter) if isinstance(node, Condition)]
    return {"ProjectionExpression": ", ".join(ex.name(name) for name in dict.fromkeys(used))}


def _without(tree: Filter, guaranteed: dict[str, Any]) -> Filter | None:
    """The filter less its top-level ``field == value`` parts a key condition guarantees."""
    parts = conjuncts(tree)
    kept = tuple(
        part
        for part in parts
        if not (
            isinstance(part, Condition)
            and part.lookup == "eq"
            and part.field in guaranteed
            and part.value == guaranteed[part.field]
        )
    )
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else And(kept)


def index_of(keys: KeyScheme, access: Access) -> str | None:
    """The index an ``index`` access reads: a declared one, or an indexed field's."""
    if access.index is not None:
        return access.index.name
    return None if access.field is None else keys.index_name(access.field)


def request_of(
    keys: KeyScheme, schema: ModelSchema, spec: QuerySpec, access: Access, full: QuerySpec
) -> tuple[str, dict[str, Any]]:
    """The Query or Scan request of a ``partition``, ``index`` or ``scan`` access.

    Without paging and without sending anything (``explain`` shows it); ``spec`` is the part
    of the query DynamoDB evaluates, ``full`` the whole query.
    """
    ex = Expressions()
    projection = _projection(spec, full, ex)

    def entity() -> str:
        # Bound only when used: DynamoDB refuses placeholders an expression leaves unused.
        return f"{ex.name(keys.entity)} = {ex.value(schema.name)}"

    if access.kind == "scan":
        condition = entity()
        if spec.filter is not None:
            condition = f"{condition} AND {ex.filter(spec.filter, keys.pk, schema)}"
        scan = {"FilterExpression": condition, "ConsistentRead": True, **projection}
        return "Scan", {**scan, **ex.request()}
    layout = schema.layout
    assert layout is not None
    pinned = access.pinned
    request: dict[str, Any]
    if access.kind == "partition":
        covered = layout.pk.fields
        key_condition = _key_condition(
            ex,
            (keys.pk, layout.pk.render(pinned)),
            (keys.sk, layout.sk.prefix(pinned, access.starts)),
        )
        request = {"KeyConditionExpression": key_condition, "ConsistentRead": True}
    elif access.index is not None:
        index = access.index
        covered = index.pk.fields
        sort = None
        if index.sk is not None and index.sk_attribute is not None:
            sort = (index.sk_attribute, index.sk.prefix(pinned, access.starts))
        key_condition = _key_condition(ex, (index.pk_attribute, index.pk.render(pinned)), sort)
        # Global secondary indexes offer eventually consistent reads only.
        request = {"IndexName": index.name, "KeyConditionExpression": key_condition}
    else:
        field = access.field or ""
        covered = (field,)
        key_condition = (
            f"{ex.name(keys.index_attribute(field))} = "
            f"{ex.value(keys.index_value(schema, pinned[field]))}"
        )
        request = {"IndexName": keys.index_name(field), "KeyConditionExpression": key_condition}
    filters = []
    if layout.declared:
        # Models with key templates may share partitions and indexes: keep to this one's.
        filters.append(entity())
    # A partition key template without fields (pk="FEED") is pinned by any filter, none too.
    remaining = None
    if spec.filter is not None:
        remaining = _without(spec.filter, {name: pinned[name] for name in covered})
    if remaining is not None:
        # A compound filter comes parenthesised already (DynamoDB refuses redundant ones).
        filters.append(ex.filter(remaining, keys.pk, schema))
    if filters:
        request["FilterExpression"] = " AND ".join(filters)
    return "Query", {**request, **projection, **ex.request()}


def _key_condition(
    ex: Expressions, partition: tuple[str, str], sort: tuple[str, str] | None
) -> str:
    """``pk = :v``, and ``begins_with(sk, :prefix)`` when the sort key's start is known."""
    condition = f"{ex.name(partition[0])} = {ex.value(partition[1])}"
    if sort is not None and sort[1]:
        condition += f" AND begins_with({ex.name(sort[0])}, {ex.value(sort[1])})"
    return condition


def _request(
    table: Table, schema: ModelSchema, spec: QuerySpec, access: Access, full: QuerySpec
) -> Flow[tuple[str, dict[str, Any]]]:
    """``request_of``, once sure the table has the index it reads."""
    index = index_of(table.keys, access) if access.kind == "index" else None
    if index is not None and index not in (yield from table.index_names()):
        declared = (
            f"{schema.name}.{access.field} is declared index=True"
            if access.field is not None
            else f"{schema.name}.model_keys declares index {index!r}"
        )
        raise DynamoDBError(
            f"{declared} but table {table.name!r} has no index {index!r}; create it with "
            f"backend.create_table(models=[{schema.name}]) or "
            f"backend.ensure_indexes([{schema.name}])"
        )
    return request_of(table.keys, schema, spec, access, full)


def _by_key(table: Table, schema: ModelSchema, spec: QuerySpec, access: Access) -> Flow[list[Row]]:
    """The rows a pinned key, listed keys or unique value name, if they match the filter.

    The whole filter decides, liveness included (``live_spec`` put it there, unless the
    query includes expired rows).
    """
    matches = compile_filter(spec.filter)
    keys = table.keys
    if access.kind == "keys":
        item_keys = [keys.item_key(schema, key) for key in access.keys]
        found = yield from _batch.read_batch(table, item_keys)
        items = (found.get(keys.address(item_key)) for item_key in item_keys)
        rows = [from_item(schema, item) for item in items if item is not None]
        return [row for row in rows if matches(row)]
    if access.kind == "key":
        item_key = keys.item_key(schema, tuple(access.pinned[n] for n in schema.key_fields))
    else:
        name = access.field or ""
        sentinel = yield from table.read(keys.sentinel_key(schema, name, access.pinned[name]))
        if sentinel is None:
            return []
        item_key = sentinel[keys.owner]["M"]
    row = yield from get_row(table, schema, item_key, expired=True)
    return [row] if row is not None and matches(row) else []


class Reader:
    """The rows matching ``spec.filter``, unordered, read a page per flow."""

    def __init__(self, table: Table, schema: ModelSchema, spec: QuerySpec) -> None:
        """Plan the reads of ``spec``; nothing is sent yet."""
        self._table, self._schema, self._spec = table, schema, spec
        self._server, self._after = server_side(spec)
        self._access = access_path(schema, self._server.filter)
        self._pages: _segments.Pager | None = None
        self._done = False

    def page(self) -> Flow[list[Row] | None]:
        """The rows of the next page (maybe none), or ``None`` once every page was read."""
        if self._done:
            return None
        table, schema = self._table, self._schema
        if self._access.kind in _BY_KEY:
            self._done = True
            return (yield from _by_key(table, schema, self._spec, self._access))
        if self._pages is None:
            operation, request = yield from _request(
                table, schema, self._server, self._access, self._spec
            )
            parts = _segments.split(operation, request, self._spec.segments)
            self._pages = _segments.in_rounds([Pages(table, operation, p) for p in parts])
        answer = yield from self._pages.next()
        self._done = self._pages.done
        rows = [from_item(schema, item) for item in answer.get("Items", ())]
        return rows if self._after is None else [row for row in rows if self._after(row)]


class Selection:
    """The rows of a query, ordered, sought and sliced as the core defines it, in batches.

    In natural order each batch is one page's worth, and reading stops once the slice is
    full; an ordering has to read every page first, then gives one batch.
    """

    def __init__(self, table: Table, schema: ModelSchema, spec: QuerySpec) -> None:
        """Plan the reads of ``spec``; nothing is sent yet."""
        self._reader = Reader(table, schema, spec)
        self._spec = spec
        self._skip = spec.offset  # rows still to pass over (natural order)
        self._left = spec.limit  # rows still to give (natural order; None: no limit)
        self._done = False

    def next(self) -> Flow[list[Row] | None]:
        """The next rows of the query (maybe none), or ``None`` once there are no more."""
        if self._done or self._left == 0:
            return None
        if self._spec.order:
            matches: list[Row] = []
            while (page := (yield from self._reader.page())) is not None:
                matches += page
            self._done = True
            return list(select_rows(matches, self._spec, filtered=True))
        page = yield from self._reader.page()
        if page is None:
            self._done = True
            return None
        if self._skip:
            passed = min(self._skip, len(page))
            page, self._skip = page[passed:], self._skip - passed
        if self._left is not None:
            page = page[: self._left]
            self._left -= len(page)
        return page


def exists(table: Table, schema: ModelSchema, spec: QuerySpec) -> Flow[bool]:
    """Whether a row matches ``spec.filter``, reading no further than the first match."""
    reader = Reader(table, schema, spec)
    while (page := (yield from reader.page())) is not None:
        if page:
            return True
    return False


def count(table: Table, schema: ModelSchema, spec: QuerySpec) -> Flow[int]:
    """Count matches with ``Select=COUNT`` (no items travel), or by key for pinned rows.

    A filter with a client-side part reads the rows (only the fields it tests) instead.
    """
    server, after = server_side(spec)
    access = access_path(schema, server.filter)
    if access.kind in _BY_KEY:
        return len((yield from _by_key(table, schema, spec, access)))
    if after is not None:
        reader = Reader(table, schema, replace(spec, fields=()))
        total = 0
        while (page := (yield from reader.page())) is not None:
            total += len(page)
        return total
    operation, request = yield from _request(table, schema, spec, access, spec)
    parts = _segments.split(operation, {**request, "Select": "COUNT"}, spec.segments)
    return (yield from _segments.count([Pages(table, operation, p) for p in parts]))
