"""Errors of the DynamoDB backend, and how botocore's failures map onto the core's.

Hierarchy (below the core's ``BackendError``)::

    restmachine_orm.BackendError
    └── DynamoDBError                  a DynamoDB request failed; ``__cause__`` is botocore's error
        └── TransactionsUnsupportedError   the server has no TransactWriteItems (e.g. dynalite)
"""

from __future__ import annotations

from restmachine_orm import BackendError

__all__ = ["DynamoDBError", "TransactionsUnsupportedError"]


class DynamoDBError(BackendError):
    """A DynamoDB request failed; the message names the endpoint and the table."""


class TransactionsUnsupportedError(DynamoDBError):
    """Unique fields need ``TransactWriteItems``, which this server does not implement."""
