"""Optimistic locking: the version condition of a write, and what a refused write means.

A versioned write is conditioned on the stored version being the one the caller read.
When the condition fails, one consistent read tells the two cases apart: the row is gone
(``NotFoundError``) or another writer moved the version (``ConcurrentModificationError``).

A stored row equal to this write is not taken as proof that this write landed (after a
retried request whose first answer was lost): two writers may send the same change from the
same version, and accepting both would lose one. Such a retry is reported as a conflict,
which is safe: nothing is written twice, and re-reading shows the row as it is.
"""

from __future__ import annotations

from typing import Any, NoReturn

from restmachine_orm import ConcurrentModificationError, ModelSchema, NotFoundError
from restmachine_orm.backends.base import Key, Row

from ._expressions import Expressions

__all__ = ["refused", "stored_version", "version_condition"]


def stored_version(schema: ModelSchema, row: Row) -> int | None:
    """The version a row holds (``None`` when the model is not versioned)."""
    field = schema.version_field
    return None if field is None else row.get(field)


def version_condition(ex: Expressions, schema: ModelSchema, expected: int | None) -> str:
    """`` AND <version> = expected``, or nothing when there is no version to check."""
    if expected is None or schema.version_field is None:
        return ""
    return f" AND {ex.name(schema.version_field)} = {ex.value(expected)}"


def refused(schema: ModelSchema, key: Key, stored: Row | None, expected: int) -> NoReturn:
    """Explain a versioned write whose condition failed, given the row read afterwards.

    Raises:
        NotFoundError: The row does not exist.
        ConcurrentModificationError: The row is at another version than ``expected``.
    """
    if stored is None:
        raise NotFoundError(schema.name, schema.key_dict(key))
    actual: Any = stored_version(schema, stored)
    raise ConcurrentModificationError(schema.name, schema.key_dict(key), expected, actual)
