"""Errors raised by RestMachine ORM.

Every error the ORM raises on its own account derives from one root, so callers can catch
``OrmError`` to handle them all. Invalid *data* is reported by pydantic's ``ValidationError``,
exactly as pydantic reports it, because the models are pydantic models.

Hierarchy::

    OrmError
    ├── ModelDefinitionError     a model class is declared inconsistently (raised at class creation)
    ├── DuplicateKeyError        a key or a unique value is already taken
    ├── NotFoundError            the row to update or delete does not exist (any more)
    ├── ConcurrentModificationError  a versioned row changed since it was read (stale save)
    ├── ConditionFailedError     a write's ``condition=`` did not hold on the stored row
    ├── TransactionError         a transaction was cancelled; ``.reasons`` says why, per action
    ├── QueryError               a lookup, filter, ordering or cursor is invalid
    ├── AsyncOnlyBackendError    the sync API was called on a backend that serves only async
    └── BackendError             the storage failed; the original exception is ``__cause__``
        ├── PartialWriteError    a batch write stored some rows but not others (``.failed``)
        └── WriteOutcomeUnknownError  a write's answer was lost and whether it landed is unknowable

    pydantic.ValidationError     field values that do not fit the model (not an OrmError)

Backends subclass these errors for their own failures (``BackendError`` in particular) so that
code written against the core keeps catching them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AsyncOnlyBackendError",
    "BackendError",
    "ConcurrentModificationError",
    "ConditionFailedError",
    "DuplicateKeyError",
    "ModelDefinitionError",
    "NotFoundError",
    "OrmError",
    "PartialWriteError",
    "QueryError",
    "TransactionError",
    "WriteOutcomeUnknownError",
]


class OrmError(Exception):
    """Root of every error raised by RestMachine ORM itself."""


class ModelDefinitionError(OrmError, TypeError):
    """A model class declares its fields inconsistently, e.g. two primary keys."""


class DuplicateKeyError(OrmError):
    """A write would reuse a key or a unique value that another row holds.

    Attributes:
        model: Name of the model class.
        fields: The field names forming the duplicated key or unique value.
        value: The duplicated value (a tuple for composite keys).
    """

    def __init__(self, model: str, fields: tuple[str, ...], value: Any, *, unique: bool) -> None:
        """Build the error and its message from the model, fields and value."""
        self.model = model
        self.fields = fields
        self.value = value
        self.unique = unique
        names = ", ".join(fields)
        if unique:
            message = f"{model}: {names}={value!r} is already taken by another row (unique field)"
        else:
            message = f"{model}: a row with {names}={value!r} already exists"
        super().__init__(message)

    @property
    def field(self) -> str:
        """The first (usually the only) field of the duplicated key or unique value."""
        return self.fields[0]

    def __reduce__(self) -> tuple[Any, ...]:
        """Keep the error picklable, e.g. across pytest-xdist workers."""
        return (_rebuild_duplicate, (self.model, self.fields, self.value, self.unique))


def _rebuild_duplicate(
    model: str,
    fields: tuple[str, ...],
    value: Any,
    unique: bool,  # noqa: FBT001  # pickle passes what __reduce__ gives, by position
) -> DuplicateKeyError:
    return DuplicateKeyError(model, fields, value, unique=unique)


class NotFoundError(OrmError):
    """The row an update, save or delete refers to does not exist.

    Attributes:
        model: Name of the model class.
        key: The key that was looked for, as a ``{field: value}`` mapping.
    """

    def __init__(self, model: str, key: dict[str, Any]) -> None:
        """Build the error and its message from the model and key."""
        self.model = model
        self.key = dict(key)
        shown = ", ".join(f"{name}={value!r}" for name, value in self.key.items())
        super().__init__(f"{model}: no row with {shown}")

    def __reduce__(self) -> tuple[Any, ...]:
        """Keep the error picklable, e.g. across pytest-xdist workers."""
        return (NotFoundError, (self.model, self.key))


class ConcurrentModificationError(OrmError):
    """A write of a versioned row was refused: another writer changed it since it was read.

    Nothing was written. Read the row again, apply the change to it and save that.

    Attributes:
        model: Name of the model class.
        key: The row's key, as a ``{field: value}`` mapping.
        expected: The version the instance was read at.
        actual: The version stored now.
    """

    def __init__(self, model: str, key: dict[str, Any], expected: int, actual: int) -> None:
        """Build the error and its message from the model, key and both versions."""
        self.model = model
        self.key = dict(key)
        self.expected = expected
        self.actual = actual
        shown = ", ".join(f"{name}={value!r}" for name, value in self.key.items())
        super().__init__(
            f"{model}({shown}): the stored row is at version {actual}, but this write was "
            f"based on version {expected}: another writer changed it meanwhile. Nothing was "
            f"written; read the row again ({model}.get(...)) and apply the change to it"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Keep the error picklable, e.g. across pytest-xdist workers."""
        return (ConcurrentModificationError, (self.model, self.key, self.expected, self.actual))


class ConditionFailedError(OrmError):
    """A conditional write was refused: its condition did not hold on the stored row.

    Nothing was written.

    Attributes:
        model: Name of the model class.
        key: The row's key, as a ``{field: value}`` mapping.
        condition: The condition, as written in ``where`` syntax (``"balance__gte=100"``).
    """

    def __init__(self, model: str, key: dict[str, Any], condition: str) -> None:
        """Build the error and its message from the model, key and condition."""
        self.model = model
        self.key = dict(key)
        self.condition = condition
        shown = ", ".join(f"{name}={value!r}" for name, value in self.key.items())
        super().__init__(
            f"{model}({shown}): the condition {condition} does not hold on the stored row; "
            "nothing was written"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Keep the error picklable, e.g. across pytest-xdist workers."""
        return (ConditionFailedError, (self.model, self.key, self.condition))


class TransactionError(OrmError):
    """A transaction was cancelled: nothing it holds was written.

    Attributes:
        reasons: One entry per action, in the order the actions were added: ``None`` for
            an action that was fine, else the error that action alone would have raised
            (``DuplicateKeyError``, ``NotFoundError``, ``ConditionFailedError``,
            ``ConcurrentModificationError``).
    """

    def __init__(self, reasons: list[OrmError | None]) -> None:
        """Build the error and its message from the reasons, one per action."""
        self.reasons = list(reasons)
        failed = [
            f"action {number} ({type(reason).__name__}): {reason}"
            for number, reason in enumerate(self.reasons, 1)
            if reason is not None
        ]
        super().__init__(
            f"the transaction of {len(self.reasons)} actions was cancelled; nothing was "
            f"written. {'; '.join(failed) or 'No action gave a reason'}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Keep the error picklable, e.g. across pytest-xdist workers."""
        return (TransactionError, (self.reasons,))


class QueryError(OrmError, ValueError):
    """A lookup, filter, ordering, limit or cursor is not valid for the model."""


class AsyncOnlyBackendError(OrmError, TypeError):
    """The sync API was called on a backend that implements only the async one.

    The message names the awaitable twin to call instead (``await User.acreate(...)``
    rather than ``User.create(...)``).
    """


class BackendError(OrmError):
    """The storage backend failed; the underlying exception is kept as ``__cause__``."""


class PartialWriteError(BackendError):
    """A batch write could not store every row, even after retrying.

    Attributes:
        failed: The rows that were not stored; every other row of the batch was.
    """

    def __init__(self, message: str, failed: list[dict[str, Any]]) -> None:
        """Build the error from a message and the rows that were not stored."""
        self.failed = failed
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        """Keep the error picklable, e.g. across pytest-xdist workers."""
        return (PartialWriteError, (self.args[0], self.failed))


class WriteOutcomeUnknownError(BackendError):
    """A write's answer was lost, and whether the write was applied cannot be known.

    Raised instead of a wrong answer: the ORM recognises its own landed write after a lost
    answer where the row can carry its write id (creates, saves, updates, upserts), but a
    delete leaves no row to carry it, and a request whose every answer was lost left no
    trace it could read. Read the row to see where things stand.

    Attributes:
        model: Name of the model class (models joined by ``+`` for a transaction).
        key: The row's key, as a ``{field: value}`` mapping (empty for a transaction).
        operation: The ORM operation, e.g. ``"delete"``.
    """

    def __init__(self, model: str, key: dict[str, Any], operation: str, reason: str = "") -> None:
        """Build the error and its message from the model, key, operation and reason."""
        self.model, self.key, self.operation, self.reason = model, dict(key), operation, reason
        shown = ", ".join(f"{name}={value!r}" for name, value in self.key.items())
        where = f" of the row with {shown}" if shown else ""
        why = f": {reason}" if reason else ""
        super().__init__(
            f"{model}: the outcome of {operation}{where} is unknown: its answer was lost{why}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Keep the error picklable, e.g. across pytest-xdist workers."""
        return (WriteOutcomeUnknownError, (self.model, self.key, self.operation, self.reason))
