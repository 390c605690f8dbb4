"""RestMachine ORM on DynamoDB: the ``DynamoDBBackend`` for one table (single-table design).

The backend (and boto3 with it) is imported on first use of ``DynamoDBBackend`` or
``DEFAULT_CONFIG``: pytest loads this package's test driver in every run of a project that
has it installed, and most of those runs never touch DynamoDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._observe import CapacityUnits, ConsumedCapacity
from ._retries import Backoff, RetryConfig
from ._version import __version__
from .errors import DynamoDBError, IncompleteBatchError, TransactionsUnsupportedError

if TYPE_CHECKING:
    from .backend import DEFAULT_CONFIG, DynamoDBBackend

__all__ = [
    "DEFAULT_CONFIG",
    "Backoff",
    "CapacityUnits",
    "ConsumedCapacity",
    "DynamoDBBackend",
    "DynamoDBError",
    "IncompleteBatchError",
    "RetryConfig",
    "TransactionsUnsupportedError",
    "__version__",
]

_LAZY = frozenset({"DEFAULT_CONFIG", "DynamoDBBackend"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import backend

        value = getattr(backend, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY)
