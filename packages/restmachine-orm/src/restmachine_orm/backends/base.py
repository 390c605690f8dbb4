"""The ``Backend`` contract every storage backend implements, and the errors it raises.

Backends receive validated input only: a ``ModelSchema`` describing the model, rows as
``{field: python value}`` dicts (what ``model_dump()`` returns), keys as tuples in
``schema.key_fields`` order and queries as a ``QuerySpec`` holding a parsed filter tree.
They return rows in the same shape. Rows passed in are never mutated by a backend, and rows
handed out are never mutated by the ORM, so either side may keep them without copying.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from ..errors import (
    BackendError,
    ConcurrentModificationError,
    DuplicateKeyError,
    ModelDefinitionError,
    NotFoundError,
    OrmError,
    PartialWriteError,
    QueryError,
)
from ..query.spec import QuerySpec
from ..schema import ModelSchema

__all__ = [
    "CAPABILITIES",
    "Backend",
    "BackendError",
    "ConcurrentModificationError",
    "DuplicateKeyError",
    "Key",
    "ModelDefinitionError",
    "NotFoundError",
    "OrmError",
    "PartialWriteError",
    "QueryError",
    "Row",
]

Row = dict[str, Any]
"""A stored row: field name to Python value."""

Key = tuple[Any, ...]
"""A row's key: the values of ``schema.key_fields``, in that order."""

#: Optional features a backend may have, and what each means. A backend lists the ones it
#: has in ``Backend.capabilities``; tests use them to skip what a backend cannot do, and the
#: docs print them as the support table.
CAPABILITIES: dict[str, str] = {
    "transactions": "writes several items atomically (unique values are claimed in the "
    "same atomic write as the row)",
    "order_by_any_field": "orders results by any field, not only by the sort key",
    "offset": "skips rows with offset()",
    "sort_key_range": "answers range lookups on the sort key from the key index",
}


class Backend(abc.ABC):
    """Where models are stored. Subclass it to add a storage engine.

    Every method must behave as ``InMemoryBackend`` does, which is the reference: the same
    rows, the same order when one is asked for, the same errors.
    """

    #: The optional features of this backend (names from ``CAPABILITIES``).
    capabilities: ClassVar[frozenset[str]] = frozenset()

    @abc.abstractmethod
    def insert(self, schema: ModelSchema, row: Row) -> None:
        """Store a new row.

        Raises:
            DuplicateKeyError: The key, or a unique value, is taken; nothing is written.
        """

    @abc.abstractmethod
    def get(self, schema: ModelSchema, key: Key) -> Row | None:
        """Return the row with this key, or ``None``."""

    @abc.abstractmethod
    def update(
        self, schema: ModelSchema, key: Key, changes: Row, previous: Row | None = None
    ) -> Row:
        """Change some fields of an existing row and return the whole stored row.

        ``previous`` is the row as the caller last read or wrote it, when known. A backend
        may use it to release changed unique values without reading first, but must not
        trust it: the stored row may have changed since.

        When the model has a version field (``schema.version_field``), ``changes`` holds it
        with the new version, and the write must happen only if the stored version is the
        one before it (``changes[field] - 1``), checked atomically with the write.

        Raises:
            NotFoundError: No row has this key.
            DuplicateKeyError: A changed unique value is taken; nothing is written.
            ConcurrentModificationError: The stored version is not the expected one;
                nothing is written.
        """

    @abc.abstractmethod
    def upsert(self, schema: ModelSchema, row: Row) -> Row:
        """Insert the row, or replace the row with its key; return the stored row.

        A replaced row keeps its ``auto_now_add`` values and releases its old unique values.
        A model's version field is stored as the replaced row's version plus one (1 for a
        new row), whatever the given row holds: an upsert is a write that checks no version.

        Raises:
            DuplicateKeyError: A unique value is held by another row; nothing is written.
        """

    @abc.abstractmethod
    def delete(self, schema: ModelSchema, key: Key, previous: Row | None = None) -> None:
        """Remove a row and release its unique values.

        ``previous`` is the row as the caller last saw it, when known (see ``update``). For a
        model with a version field, a known ``previous`` makes the delete conditional on the
        stored version still being ``previous[field]``.

        Raises:
            NotFoundError: No row has this key.
            ConcurrentModificationError: The stored version is not ``previous``'s; nothing
                is deleted.
        """

    @abc.abstractmethod
    def query(self, spec: QuerySpec) -> Iterator[Row]:
        """Yield the rows a query selects, in its order, offset and limit applied."""

    @abc.abstractmethod
    def count(self, spec: QuerySpec) -> int:
        """Count the rows matching ``spec.filter`` (the spec carries no order or slice)."""

    @abc.abstractmethod
    def exists(self, spec: QuerySpec) -> bool:
        """Tell whether any row matches ``spec.filter``, stopping at the first."""

    @abc.abstractmethod
    def clear(self, schema: ModelSchema | None = None) -> None:
        """Delete every row of one model, or of every model when ``schema`` is ``None``."""

    @abc.abstractmethod
    def insert_many(self, schema: ModelSchema, rows: Sequence[Row]) -> None:
        """Store several new rows at once.

        Raises:
            DuplicateKeyError: A key or unique value is taken, or repeated within ``rows``.
        """

    @abc.abstractmethod
    def get_many(self, schema: ModelSchema, keys: Sequence[Key]) -> list[Row | None]:
        """Return the row of each key, in the order of ``keys`` (``None`` where missing)."""
