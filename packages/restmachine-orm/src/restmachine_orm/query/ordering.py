"""Ordering rules shared by every backend: ``None`` first, several fields, mixed directions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

__all__ = ["OrderBy", "is_after", "sort_key", "sort_rows"]


class OrderBy(NamedTuple):
    """One ordering field.

    Attributes:
        field: The field name.
        descending: Largest first when true.
    """

    field: str
    descending: bool = False


def sort_key(value: Any) -> tuple[Any, ...]:
    """Return a key that orders ``None`` before every value of the field."""
    return (0,) if value is None else (1, value)


def sort_rows(rows: list[dict[str, Any]], order: Sequence[OrderBy]) -> None:
    """Sort rows in place by several fields, each ascending or descending.

    Sorting stably once per field, last field first, gives each field its own direction.
    """
    for field, descending in reversed(order):
        rows.sort(key=lambda row: sort_key(row.get(field)), reverse=descending)


def is_after(row: Mapping[str, Any], position: Sequence[Any], order: Sequence[OrderBy]) -> bool:
    """Tell whether a row comes strictly after a position (its ordering values) in ``order``."""
    for (field, descending), mark in zip(order, position, strict=True):
        mine, theirs = sort_key(row.get(field)), sort_key(mark)
        if mine != theirs:
            return (mine < theirs) if descending else (mine > theirs)
    return False
