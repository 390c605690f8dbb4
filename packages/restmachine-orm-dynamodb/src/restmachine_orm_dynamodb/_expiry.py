"""Rows that expire (``Field(ttl=True)``) on DynamoDB: liveness in conditions, native TTL.

DynamoDB deletes an expired item only eventually (within days), so the backend decides
liveness itself, by the ORM's clock, as every backend does (``restmachine_orm.query.
expiry``): reads filter expired rows out, a write that needs the row requires it live, and a
create may replace an expired row. The time travels in each request as a value, never as
the server's clock. Beside the field, a row and its unique sentinels carry the expiry as
epoch seconds in the table's TTL attribute, so that DynamoDB's own TTL deletes them
together once it gets to them (rounded up: never before the row has expired).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from restmachine_orm import ModelSchema, clock
from restmachine_orm.query.expiry import epoch_microseconds, live_filter
from restmachine_orm.query.filters import Filter, Not

from ._expressions import Expressions
from ._serialize import AttributeValue

__all__ = ["absent", "expiry_attribute", "present"]

_PER_SECOND = 1_000_000


def expiry_attribute(schema: ModelSchema, row: Mapping[str, Any]) -> AttributeValue | None:
    """The TTL attribute of a row (and of its sentinels): whole epoch seconds, or ``None``."""
    field = schema.ttl_field
    value = None if field is None else row.get(field)
    if value is None:
        return None
    return {"N": str(-(-epoch_microseconds(value) // _PER_SECOND))}


def present(ex: Expressions, pk: str, schema: ModelSchema) -> str:
    """A condition that the row exists and, for a model with TTL, has not expired."""
    exists = f"attribute_exists({ex.name(pk)})"
    if schema.ttl_field is None:  # the common case: no clock to read
        return exists
    return f"{exists} AND {ex.filter(_live(schema), pk)}"


def absent(ex: Expressions, pk: str, schema: ModelSchema) -> str:
    """A condition that no row has the key, or, for a model with TTL, that it expired."""
    missing = f"attribute_not_exists({ex.name(pk)})"
    if schema.ttl_field is None:
        return missing
    return f"({missing} OR {ex.filter(Not(_live(schema)), pk)})"


def _live(schema: ModelSchema) -> Filter:
    live = live_filter(schema, clock.now())
    assert live is not None  # the model has an expiry field
    return live
