"""Rows that expire (``Field(ttl=True)``): when a row is live, decided alike by every backend.

A row is live while its expiry field is ``None`` or holds a time after the ORM's clock
(``restmachine_orm.clock``); a naive expiry is taken as UTC. An expired row is absent: no
read returns it, no write but a create meets it. Backends answer reads with
``live_spec`` (their own filter engine evaluates the liveness test beside the query's) and
judge writes on ``is_live`` rows; ``epoch_microseconds`` gives the expiry as a number for
storage engines that index or expire rows by one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .. import clock
from ..schema import ModelSchema
from .filters import And, Condition, Filter, Or
from .spec import QuerySpec

__all__ = ["epoch_microseconds", "expires_at", "is_live", "live_filter", "live_spec"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICROSECOND = dt.timedelta(microseconds=1)


def expires_at(value: dt.datetime) -> dt.datetime:
    """An expiry as an aware UTC datetime (a naive one is taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def epoch_microseconds(value: dt.datetime) -> int:
    """A time as whole microseconds since 1970-01-01 UTC (naive taken as UTC): exact."""
    return (expires_at(value) - _EPOCH) // _MICROSECOND


def is_live(schema: ModelSchema, row: Mapping[str, Any], now: dt.datetime | None = None) -> bool:
    """Whether a stored row has not expired at ``now`` (always, for a model without TTL).

    ``now`` defaults to the ORM's clock, read only for a model whose rows expire.
    """
    field = schema.ttl_field
    if field is None:
        return True
    expiry = row.get(field)
    return expiry is None or expires_at(expiry) > (clock.now() if now is None else now)


def live_filter(schema: ModelSchema, now: dt.datetime) -> Filter | None:
    """The filter of live rows at ``now``, or ``None`` for a model without TTL.

    Stored aware and naive datetimes never compare with each other (see
    ``query.predicate``), so the test names ``now`` in both forms: an expiry stored either
    way is compared with its own kind.
    """
    field = schema.ttl_field
    if field is None:
        return None
    utc = now.astimezone(dt.timezone.utc)
    return Or(
        (
            Condition(field, "isnull", value=True),
            Condition(field, "gt", utc),
            Condition(field, "gt", utc.replace(tzinfo=None)),
        )
    )


def live_spec(spec: QuerySpec, now: dt.datetime | None = None) -> QuerySpec:
    """``spec`` restricted to live rows, unless its model has no TTL or it includes expired.

    A query made with ``include_expired()`` is returned as it is. ``now`` defaults to the
    ORM's clock, read only for a model whose rows expire. The liveness test joins the
    filter's top-level conditions, so a key or index the filter pins is still seen as
    pinned (``pinned_values``).
    """
    if spec.schema.ttl_field is None or spec.include_expired:
        return spec
    live = live_filter(spec.schema, clock.now() if now is None else now)
    assert live is not None  # the model has an expiry field
    tree = spec.filter
    if tree is None:
        combined: Filter = live
    elif isinstance(tree, And):
        combined = And((*tree.children, live))
    else:
        combined = And((tree, live))
    return replace(spec, filter=combined)
