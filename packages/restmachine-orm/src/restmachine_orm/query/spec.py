"""``QuerySpec``: one read request as a backend receives it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .filters import Filter
from .ordering import OrderBy

if TYPE_CHECKING:
    from ..schema import ModelSchema

__all__ = ["QuerySpec"]


@dataclass(frozen=True)
class QuerySpec:
    """A validated read: which rows, in which order, which slice of them.

    Attributes:
        schema: The model queried.
        filter: The filter tree, or ``None`` for every row.
        order: Ordering fields; empty means the backend's natural order.
        limit: At most this many rows, or ``None``.
        offset: Skip this many rows first.
        after: A seek position: only rows strictly after these ``order`` values.
        include_expired: Return rows whose TTL has passed too, where the backend still
            holds them (``Query.include_expired()``); backends pass the spec through
            ``live_spec``, which honours it.
        fields: The fields the caller reads (``Query.values()``), or ``None`` for all. A
            backend may return only these (DynamoDB projects them) or every field.
        segments: How many parts a read of the whole model may be split into and read at
            the same time (``Query.segments(n)``): DynamoDB's parallel ``Scan``. The rows
            are the same whatever the number; only their natural order may differ.
    """

    schema: ModelSchema
    filter: Filter | None = None
    order: tuple[OrderBy, ...] = ()
    limit: int | None = None
    offset: int = 0
    after: tuple[Any, ...] | None = None
    include_expired: bool = False
    fields: tuple[str, ...] | None = None
    segments: int = 1

    def unsliced(self) -> QuerySpec:
        """The same rows without ordering or slicing, e.g. to count them."""
        return replace(self, order=(), limit=None, offset=0, after=None)
