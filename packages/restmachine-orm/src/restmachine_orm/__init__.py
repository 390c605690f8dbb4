"""RestMachine ORM: define data models once with pydantic, trust them on every backend."""

from __future__ import annotations

from ._version import __version__
from .backends.base import CAPABILITIES, Backend
from .backends.inmemory import InMemoryBackend
from .collection import Collection, CollectionRows
from .errors import (
    AsyncOnlyBackendError,
    BackendError,
    ConcurrentModificationError,
    ConditionFailedError,
    DuplicateKeyError,
    ModelDefinitionError,
    NotFoundError,
    OrmError,
    PartialWriteError,
    QueryError,
    TransactionError,
    WriteOutcomeUnknownError,
)
from .fields import Field, FieldOptions
from .hooks import after_load, after_save, before_save
from .keys import IndexKeys, Keys
from .mixins import ExpirationMixin, TimestampMixin
from .model import Model
from .query.builder import Page, Query
from .query.changes import F
from .query.plan import Plan
from .query.q import Q
from .schema import ModelSchema
from .transaction import Transaction, TransactionAction, transaction

__all__ = [
    "CAPABILITIES",
    "AsyncOnlyBackendError",
    "Backend",
    "BackendError",
    "Collection",
    "CollectionRows",
    "ConcurrentModificationError",
    "ConditionFailedError",
    "DuplicateKeyError",
    "ExpirationMixin",
    "F",
    "Field",
    "FieldOptions",
    "InMemoryBackend",
    "IndexKeys",
    "Keys",
    "Model",
    "ModelDefinitionError",
    "ModelSchema",
    "NotFoundError",
    "OrmError",
    "Page",
    "PartialWriteError",
    "Plan",
    "Q",
    "Query",
    "QueryError",
    "TimestampMixin",
    "Transaction",
    "TransactionAction",
    "TransactionError",
    "WriteOutcomeUnknownError",
    "__version__",
    "after_load",
    "after_save",
    "before_save",
    "transaction",
]
