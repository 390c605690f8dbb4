"""``explain``: the request a query would send, worked out without sending anything.

It runs the same planning as the reads (``_reads.request_of`` builds the Query or Scan
request the reader sends), so the plan cannot tell another story than the requests.
"""

from __future__ import annotations

from restmachine_orm.query import Condition, QuerySpec, walk
from restmachine_orm.query.access import Access, access_path
from restmachine_orm.query.plan import Plan
from restmachine_orm.schema import TEXT_MATCH_LOOKUPS, ModelSchema

from ._expressions import Expressions
from ._keys import KeyScheme
from ._reads import request_of, server_side

__all__ = ["explain"]


def explain(keys: KeyScheme, schema: ModelSchema, spec: QuerySpec) -> Plan:
    """The plan of ``spec`` (already passed through ``live_spec``) on this table layout."""
    server, _ = server_side(spec)
    access = access_path(schema, server.filter)
    client_side = _client_side(spec)
    if access.kind in ("key", "keys", "unique"):
        return _by_key(keys, schema, access, client_side)
    operation, request = request_of(keys, schema, server, access, spec)
    return Plan(
        access=access.kind,
        operation=operation,
        index=request.get("IndexName"),
        key_condition=request.get("KeyConditionExpression"),
        filter=request.get("FilterExpression"),
        client_side=client_side,
        names=request.get("ExpressionAttributeNames", {}),
        values=request.get("ExpressionAttributeValues", {}),
        segments=spec.segments if operation == "Scan" else 1,
    )


def _by_key(
    keys: KeyScheme, schema: ModelSchema, access: Access, client_side: tuple[str, ...]
) -> Plan:
    """The reads by key: ``GetItem``, or ``BatchGetItem`` of listed keys (100 a request).

    A ``unique`` read gets the unique value's claim first, then the row it names.
    """
    ex = Expressions()
    steps: tuple[str, ...] = ("test the rows read against the whole filter",)
    operation = "GetItem"
    if access.kind == "key":
        item_keys = [keys.item_key(schema, tuple(access.pinned[n] for n in schema.key_fields))]
    elif access.kind == "keys":
        operation = "BatchGetItem"
        item_keys = [keys.item_key(schema, key) for key in access.keys]
    else:
        field = access.field or ""
        value = access.pinned[field]
        item_keys = [keys.sentinel_key(schema, field, value)]
        steps = (f"GetItem of the row the claim of {field}={value!r} names", *steps)
    equalities = [
        " AND ".join(f"{ex.name(name)} = {ex.encoded(value)}" for name, value in key.items())
        for key in item_keys
    ]
    condition = equalities[0] if len(equalities) == 1 else " OR ".join(f"({e})" for e in equalities)
    return Plan(
        access=access.kind,
        operation=operation,
        key_condition=condition,
        client_side=steps + client_side,
        names=ex.names,
        values=ex.values,
    )


def _conditions(spec: QuerySpec) -> list[Condition]:
    if spec.filter is None:
        return []
    return [node for node in walk(spec.filter) if isinstance(node, Condition)]


def _client_side(spec: QuerySpec) -> tuple[str, ...]:
    """What the reader does to the rows it reads, in words."""
    steps = []
    after = [f"{c.field}__{c.lookup}" for c in _conditions(spec) if c.lookup in TEXT_MATCH_LOOKUPS]
    if after:
        steps.append(f"filter on {', '.join(after)} (DynamoDB has no such lookup)")
    if spec.order:
        shown = ", ".join(("-" if o.descending else "") + o.field for o in spec.order)
        steps.append(f"order by {shown}, once every page is read")
    if spec.offset:
        steps.append(f"skip {spec.offset} rows")
    if spec.limit is not None:
        steps.append(f"stop after {spec.limit} rows")
    return tuple(steps)
