"""Run a ``QuerySpec`` over rows in Python: the reference any backend can fall back on."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from .access import access_path
from .ordering import is_after, sort_rows
from .predicate import compile_filter
from .spec import QuerySpec

__all__ = ["in_key_order", "select_rows"]


def select_rows(
    rows: Iterable[dict[str, Any]], spec: QuerySpec, *, filtered: bool = False
) -> Iterator[dict[str, Any]]:
    """Filter, order, seek and slice rows exactly as the query language defines it.

    Args:
        rows: Candidate rows of the queried model.
        spec: The query.
        filtered: The rows already satisfy ``spec.filter`` (skip filtering again).

    Returns:
        The selected rows, in order. In natural order (no ``order_by``) they are read from
        ``rows`` one at a time, as they are consumed, and reading stops when the slice is
        full; an ordering has to read them all first. The natural order of a read of one
        partition of a model with key templates is its sort key's (``in_key_order``).
    """
    matches = rows if filtered or spec.filter is None else filter(compile_filter(spec.filter), rows)
    stop = None if spec.limit is None else spec.offset + spec.limit
    if not spec.order:
        return itertools.islice(in_key_order(spec, matches), spec.offset, stop)
    ordered = list(matches)
    sort_rows(ordered, spec.order)
    if spec.after is not None:
        after = spec.after
        ordered = [row for row in ordered if is_after(row, after, spec.order)]
    return iter(ordered[spec.offset : stop])


def in_key_order(spec: QuerySpec, rows: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """Rows in the natural order of the query's access path.

    A read of one partition of a model with key templates comes in its sort key's text
    order, and one of a declared index's partition in the index's sort key order, as
    DynamoDB gives them; other reads keep the order ``rows`` come in (unspecified, as
    DynamoDB's is). Listed keys (``id__in=[...]``) come in the order listed.
    """
    layout = spec.schema.layout
    if layout is None or not layout.declared:
        return rows
    access = access_path(spec.schema, spec.filter)
    if access.kind == "partition":
        return sorted(rows, key=layout.sk.render)
    index = access.index
    if access.kind == "index" and index is not None and index.sk is not None:
        return sorted(rows, key=index.sk.render)
    return rows
