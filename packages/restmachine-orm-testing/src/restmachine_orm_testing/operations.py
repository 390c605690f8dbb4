"""The operations the DSL asks a driver to perform, and the result it gets back.

Each operation's ``verb`` names the driver method that performs it: ``execute_<verb>``, or
``aexecute_<verb>`` awaited (``DriverInterface.execute`` and ``aexecute`` dispatch on it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from restmachine_orm import Model, Transaction

__all__ = [
    "AllOperation",
    "ClearOperation",
    "CountOperation",
    "CreateOperation",
    "DeleteOperation",
    "ExistsOperation",
    "GetOperation",
    "Operation",
    "OperationResult",
    "QueryOperation",
    "TransactionOperation",
    "UpdateOperation",
    "UpsertOperation",
]


@dataclass(frozen=True)
class CreateOperation:
    """Create a row of ``model_class`` from ``data``."""

    verb: ClassVar[str] = "create"
    model_class: type[Model]
    data: dict[str, Any]


@dataclass(frozen=True)
class GetOperation:
    """Read the row of ``model_class`` with this ``key``."""

    verb: ClassVar[str] = "get"
    model_class: type[Model]
    key: dict[str, Any]


@dataclass(frozen=True)
class UpdateOperation:
    """Assign ``changes`` to ``instance`` and save it (only if ``condition`` holds, if any)."""

    verb: ClassVar[str] = "update"
    instance: Model
    changes: dict[str, Any]
    condition: dict[str, Any] | None = None


@dataclass(frozen=True)
class DeleteOperation:
    """Delete the row of ``instance`` (only if ``condition`` holds, if any)."""

    verb: ClassVar[str] = "delete"
    instance: Model
    condition: dict[str, Any] | None = None


@dataclass(frozen=True)
class UpsertOperation:
    """Insert or replace the row of ``model_class`` built from ``data``."""

    verb: ClassVar[str] = "upsert"
    model_class: type[Model]
    data: dict[str, Any]


@dataclass(frozen=True)
class QueryOperation:
    """Select rows of ``model_class`` matching ``filters``, ordered and sliced."""

    verb: ClassVar[str] = "query"
    model_class: type[Model]
    filters: dict[str, Any] = field(default_factory=dict)
    order_by: tuple[str, ...] = ()
    limit: int | None = None
    offset: int | None = None


@dataclass(frozen=True)
class CountOperation:
    """Count rows of ``model_class`` matching ``filters``."""

    verb: ClassVar[str] = "count"
    model_class: type[Model]
    filters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExistsOperation:
    """Tell whether any row of ``model_class`` matches ``filters``."""

    verb: ClassVar[str] = "exists"
    model_class: type[Model]
    filters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AllOperation:
    """Read every row of ``model_class``."""

    verb: ClassVar[str] = "all"
    model_class: type[Model]


@dataclass(frozen=True)
class ClearOperation:
    """Delete every row of ``model_class``, and no other model's."""

    verb: ClassVar[str] = "clear"
    model_class: type[Model]


@dataclass(frozen=True)
class TransactionOperation:
    """Commit ``transaction``, whose writes were collected already (``data``: its actions)."""

    verb: ClassVar[str] = "transaction"
    transaction: Transaction

    @property
    def model_class(self) -> type[Model]:
        """The model its result is reported under: its first action's."""
        actions = self.transaction.actions
        return actions[0].model if actions else Model


Operation = (
    CreateOperation
    | GetOperation
    | UpdateOperation
    | DeleteOperation
    | UpsertOperation
    | QueryOperation
    | CountOperation
    | ExistsOperation
    | AllOperation
    | ClearOperation
    | TransactionOperation
)
"""Any operation the DSL asks a driver to perform."""


@dataclass
class OperationResult:
    """What a driver reports back: success with a value, or the error it caught.

    Attributes:
        success: Whether the operation completed.
        instance: The model instance it produced, if any.
        data: Its plain value: a dumped row, a list of instances, a count or a bool.
        error: The exception the ORM raised, when ``success`` is false.
    """

    success: bool
    instance: Any = None
    data: Any = None
    error: BaseException | None = None
