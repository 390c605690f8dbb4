"""RestMachine ORM on DynamoDB: the ``DynamoDBBackend`` for one table (single-table design)."""

from __future__ import annotations

from ._version import __version__
from .backend import DEFAULT_CONFIG, DynamoDBBackend
from .errors import DynamoDBError, TransactionsUnsupportedError

__all__ = [
    "DEFAULT_CONFIG",
    "DynamoDBBackend",
    "DynamoDBError",
    "TransactionsUnsupportedError",
    "__version__",
]
