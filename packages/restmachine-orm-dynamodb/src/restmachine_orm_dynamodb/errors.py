"""Errors of the DynamoDB backend, and how DynamoDB's failures map onto the core's.

Hierarchy (below the core's ``BackendError``)::

    restmachine_orm.BackendError
    ├── restmachine_orm.PartialWriteError  create_many stored some rows, not all (``.failed``)
    └── DynamoDBError                      a request failed (``__cause__``: the answer or its lack)
        ├── TransactionsUnsupportedError   the server has no TransactWriteItems (e.g. dynalite)
        └── IncompleteBatchError           a batch read or delete left keys undone (``.item_keys``)
"""

from __future__ import annotations

from typing import Any

from restmachine_orm import BackendError

__all__ = ["DynamoDBError", "IncompleteBatchError", "TransactionsUnsupportedError"]

_SHOWN = 3  # keys named in the message; ``.keys`` has them all


class DynamoDBError(BackendError):
    """A DynamoDB request failed; the message names the endpoint and the table."""


class TransactionsUnsupportedError(DynamoDBError):
    """``create_many`` and unique fields need ``TransactWriteItems``, which this server lacks."""


class IncompleteBatchError(DynamoDBError):
    """A batch read or delete could not confirm every key, even after retrying.

    Writes of new rows never raise it: ``create_many`` raises ``PartialWriteError``, whose
    ``failed`` lists the rows not stored.

    Attributes:
        operation: What was not done: ``"BatchGetItem"`` (reading) or ``"BatchWriteItem"``
            (deleting).
        table: The table's name.
        item_keys: The table keys (``{"pk": {"S": ...}, "sk": {"S": ...}}``) not read, or
            not confirmed deleted; every other key of the call was.
    """

    def __init__(
        self, operation: str, table: str, item_keys: list[dict[str, Any]], why: str
    ) -> None:
        """Build the message from what failed, on which table, for which keys, and why."""
        self.operation, self.table, self.item_keys, self.why = operation, table, item_keys, why
        verb = "read" if operation == "BatchGetItem" else "confirmed deleted"
        shown = ", ".join(_shown(item_key) for item_key in item_keys[:_SHOWN])
        more = f" and {len(item_keys) - _SHOWN} more" if len(item_keys) > _SHOWN else ""
        super().__init__(
            f"{operation} on table {table!r}: {len(item_keys)} keys were not {verb} ({why}): "
            f"{shown}{more}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Keep the error picklable, e.g. across pytest-xdist workers."""
        return (IncompleteBatchError, (self.operation, self.table, self.item_keys, self.why))


def _shown(item_key: dict[str, Any]) -> str:
    """A table key as its text values, e.g. ``User#u1/User``."""
    return "/".join(str(next(iter(value.values()), "")) for value in item_key.values())
