"""Run a ``QuerySpec`` over rows in Python: the reference any backend can fall back on."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from .ordering import is_after, sort_rows
from .predicate import compile_filter
from .spec import QuerySpec

__all__ = ["select_rows"]


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
        full; an ordering has to read them all first.
    """
    matches = rows if filtered or spec.filter is None else filter(compile_filter(spec.filter), rows)
    stop = None if spec.limit is None else spec.offset + spec.limit
    if not spec.order:
        return itertools.islice(matches, spec.offset, stop)
    ordered = list(matches)
    sort_rows(ordered, spec.order)
    if spec.after is not None:
        after = spec.after
        ordered = [row for row in ordered if is_after(row, after, spec.order)]
    return iter(ordered[spec.offset : stop])
