"""``DriverInterface``: how the DSL reaches a backend; sync and async defaults on the ORM API."""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from restmachine_orm import Backend, Model, Transaction, TransactionAction
from restmachine_orm.backends.base import given
from restmachine_orm.query import Query, QuerySpec
from restmachine_orm.query.changes import Expression

from .operations import (
    AllOperation,
    ClearOperation,
    CountOperation,
    CreateOperation,
    DeleteOperation,
    ExistsOperation,
    GetOperation,
    Operation,
    OperationResult,
    QueryOperation,
    TransactionOperation,
    UpdateOperation,
    UpsertOperation,
)

__all__ = ["DriverInterface"]


R = TypeVar("R")


def _produced(instance: Model | None) -> OperationResult:
    """A write's or a read's result: the instance, ``data`` its dump (``None`` for none)."""
    data = None if instance is None else instance.model_dump()
    return OperationResult(success=True, instance=instance, data=data)


def _value(value: Any) -> OperationResult:
    """A query's result: ``data`` is what it read (instances, a count, a bool)."""
    return OperationResult(success=True, data=value)


def _deleted(instance: Model) -> OperationResult:
    return OperationResult(success=True, instance=instance)


def _atomic(operation: UpdateOperation) -> bool:
    """Whether the update's changes hold an ``F`` expression (an atomic update)."""
    return any(isinstance(change, Expression) for change in operation.changes.values())


def _assigned(operation: UpdateOperation) -> Model:
    """The instance with the update's changes assigned, ready to save."""
    for name, value in operation.changes.items():
        setattr(operation.instance, name, value)
    return operation.instance


def _committed(tx: Transaction) -> tuple[TransactionAction, ...]:
    with tx:
        pass  # the writes were collected when the transaction was built
    return tx.actions


async def _acommitted(tx: Transaction) -> tuple[TransactionAction, ...]:
    async with tx:
        pass
    return tx.actions


def _built(operation: QueryOperation) -> Query[Model]:
    """The query an operation describes, not yet run."""
    built = operation.model_class.where(**operation.filters)
    if operation.order_by:
        built = built.order_by(*operation.order_by)
    if operation.offset is not None:
        built = built.offset(operation.offset)
    if operation.limit is not None:
        built = built.limit(operation.limit)
    return built


class DriverInterface(abc.ABC):
    """One backend as the DSL sees it.

    A driver names its backend (``get_backend_name``) and holds it in ``self.backend``;
    everything else has a default built on the public ORM API, so a driver only overrides
    what its backend does differently or faster. Drivers are created once per test session
    (and per xdist worker) and must be cheap to construct: start servers lazily.

    Each ``execute_<verb>`` (the sync DSL's, on the model's sync API) has an awaitable twin
    ``aexecute_<verb>`` (the async DSL's, on the model's async API: ``await
    Model.acreate(...)``), so a driver written for sync tests serves async tests unchanged;
    a sync-only backend then serves them from a worker thread, as the ORM does for it.

    Attributes:
        backend: The ``Backend`` the models are bound to during a test.
    """

    backend: Backend

    @abc.abstractmethod
    def get_backend_name(self) -> str:
        """Return the backend's name, as used in ``ENABLED_BACKENDS`` and test ids."""

    @property
    def capabilities(self) -> frozenset[str]:
        """The optional features the backend has (names from ``restmachine_orm.CAPABILITIES``)."""
        return frozenset(self.backend.capabilities)

    def setup_backend(self, model_class: type[Model]) -> None:
        """Bind a model class to this driver's backend."""
        model_class.model_backend = self.backend

    def reset(self, models: Sequence[type[Model]]) -> None:
        """Empty the storage of these models before a test.

        The default binds each model and deletes its rows one by one through the backend's
        own ``query`` and ``delete``, which works on any backend, for models declared
        ``allow_scan=False`` too (their ``all()`` is refused); drivers override it with
        something cheaper.
        """
        for model in models:
            self.setup_backend(model)
            schema = model.orm_schema()
            for row in list(self.backend.query(QuerySpec(schema))):
                self.backend.delete(schema, schema.key_of(row), row)

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release what the driver holds (servers, connections) at the end of the session."""

    async def ateardown(self) -> None:  # noqa: B027 - optional hook, nothing to release
        """Release what the backend holds on the running event loop, at the end of a test.

        Awaited on the test's own event loop after every ``async def`` test, before that
        loop closes (each async test runs on a loop of its own). A backend whose async side
        keeps loop-bound resources (an HTTP session) releases them here, and opens new ones
        on the next test's loop. The default has nothing to release.
        """

    # -- performing operations: sync, on the model's sync API ------------------------------

    def execute(self, operation: Operation) -> OperationResult:
        """Perform any operation with its ``execute_<verb>`` method (the sync DSL's way in)."""
        method: Callable[[Operation], OperationResult] = getattr(self, "execute_" + operation.verb)
        return method(operation)

    def execute_create(self, operation: CreateOperation) -> OperationResult:
        """Create a row with ``Model.create``."""
        model = operation.model_class
        return self._attempt(model, lambda: model.create(**operation.data), _produced)

    def execute_get(self, operation: GetOperation) -> OperationResult:
        """Read a row with ``Model.get``; ``instance`` is ``None`` when there is none."""
        model = operation.model_class
        return self._attempt(model, lambda: model.get(**operation.key), _produced)

    def execute_update(self, operation: UpdateOperation) -> OperationResult:
        """Assign the changes and ``save()`` (with the operation's ``condition``, if any).

        Changes holding an ``F`` expression go through ``instance.update(...)`` instead:
        an expression is applied to the stored value, it cannot be assigned.
        """
        model, options = type(operation.instance), given(condition=operation.condition)
        if _atomic(operation):
            update = operation.instance.update
            return self._attempt(model, lambda: update(**operation.changes, **options), _produced)
        return self._attempt(model, lambda: _assigned(operation).save(**options), _produced)

    def execute_delete(self, operation: DeleteOperation) -> OperationResult:
        """Delete the row with ``instance.delete()`` (with its ``condition``, if any)."""
        instance, options = operation.instance, given(condition=operation.condition)
        return self._attempt(
            type(instance), lambda: instance.delete(**options), lambda _: _deleted(instance)
        )

    def execute_upsert(self, operation: UpsertOperation) -> OperationResult:
        """Insert or replace a row with ``Model.upsert``."""
        model = operation.model_class
        return self._attempt(model, lambda: model.upsert(**operation.data), _produced)

    def execute_query(self, operation: QueryOperation) -> OperationResult:
        """Select rows with ``Model.where(...)``; ``data`` is the list of instances."""
        return self._attempt(operation.model_class, lambda: _built(operation).all(), _value)

    def execute_count(self, operation: CountOperation) -> OperationResult:
        """Count rows with ``Model.where(...).count()``."""
        model = operation.model_class
        return self._attempt(model, lambda: model.where(**operation.filters).count(), _value)

    def execute_exists(self, operation: ExistsOperation) -> OperationResult:
        """Check for rows with ``Model.where(...).exists()``."""
        model = operation.model_class
        return self._attempt(model, lambda: model.where(**operation.filters).exists(), _value)

    def execute_all(self, operation: AllOperation) -> OperationResult:
        """Read every row with ``Model.all()``."""
        return self._attempt(operation.model_class, operation.model_class.all, _value)

    def execute_clear(self, operation: ClearOperation) -> OperationResult:
        """Delete the model's rows with its backend's ``clear(schema)``.

        Unlike ``reset``, which may empty more than it is given (a driver may empty its
        whole table), only this model's rows go.
        """
        model = operation.model_class
        return self._attempt(model, lambda: model.model_backend.clear(model.orm_schema()), _value)

    def execute_transaction(self, operation: TransactionOperation) -> OperationResult:
        """Commit the transaction with ``with transaction() as tx:`` (its writes collected)."""
        tx = operation.transaction
        return self._attempt(operation.model_class, lambda: _committed(tx), _value)

    # -- performing operations: awaited, on the model's async API --------------------------
    # Overriding a sync ``execute_*`` does not change its awaitable twin: async tests test
    # the async API, so a driver whose backend needs more than the defaults overrides both.

    async def aexecute(self, operation: Operation) -> OperationResult:
        """Perform any operation with its ``aexecute_<verb>`` method (the async DSL's way in)."""
        method: Callable[[Operation], Awaitable[OperationResult]] = getattr(
            self, "aexecute_" + operation.verb
        )
        return await method(operation)

    async def aexecute_create(self, operation: CreateOperation) -> OperationResult:
        """Create a row with ``await Model.acreate``."""
        model = operation.model_class
        return await self._aattempt(model, lambda: model.acreate(**operation.data), _produced)

    async def aexecute_get(self, operation: GetOperation) -> OperationResult:
        """Read a row with ``await Model.aget``; ``instance`` is ``None`` when there is none."""
        model = operation.model_class
        return await self._aattempt(model, lambda: model.aget(**operation.key), _produced)

    async def aexecute_update(self, operation: UpdateOperation) -> OperationResult:
        """Assign the changes and ``await asave()`` (``await aupdate(...)`` for ``F``)."""
        model, options = type(operation.instance), given(condition=operation.condition)
        if _atomic(operation):
            aupdate = operation.instance.aupdate
            return await self._aattempt(
                model, lambda: aupdate(**operation.changes, **options), _produced
            )
        return await self._aattempt(model, lambda: _assigned(operation).asave(**options), _produced)

    async def aexecute_delete(self, operation: DeleteOperation) -> OperationResult:
        """Delete the row with ``await instance.adelete()`` (with its ``condition``, if any)."""
        instance, options = operation.instance, given(condition=operation.condition)
        return await self._aattempt(
            type(instance), lambda: instance.adelete(**options), lambda _: _deleted(instance)
        )

    async def aexecute_upsert(self, operation: UpsertOperation) -> OperationResult:
        """Insert or replace a row with ``await Model.aupsert``."""
        model = operation.model_class
        return await self._aattempt(model, lambda: model.aupsert(**operation.data), _produced)

    async def aexecute_query(self, operation: QueryOperation) -> OperationResult:
        """Select rows with ``await Model.where(...).aall()``."""
        return await self._aattempt(operation.model_class, lambda: _built(operation).aall(), _value)

    async def aexecute_count(self, operation: CountOperation) -> OperationResult:
        """Count rows with ``await Model.where(...).acount()``."""
        model = operation.model_class
        return await self._aattempt(
            model, lambda: model.where(**operation.filters).acount(), _value
        )

    async def aexecute_exists(self, operation: ExistsOperation) -> OperationResult:
        """Check for rows with ``await Model.where(...).aexists()``."""
        model = operation.model_class
        return await self._aattempt(
            model, lambda: model.where(**operation.filters).aexists(), _value
        )

    async def aexecute_all(self, operation: AllOperation) -> OperationResult:
        """Read every row with ``await Model.aall()``."""
        return await self._aattempt(operation.model_class, operation.model_class.aall, _value)

    async def aexecute_clear(self, operation: ClearOperation) -> OperationResult:
        """Delete the model's rows with ``await`` its backend's ``aclear(schema)``."""
        model = operation.model_class
        return await self._aattempt(
            model, lambda: model.model_backend.aclear(model.orm_schema()), _value
        )

    async def aexecute_transaction(self, operation: TransactionOperation) -> OperationResult:
        """Commit the transaction with ``async with transaction() as tx:``."""
        tx = operation.transaction
        return await self._aattempt(operation.model_class, lambda: _acommitted(tx), _value)

    # -- the one place each side turns what the ORM raises into a failed result ------------

    def _attempt(
        self, model: type[Model], action: Callable[[], R], done: Callable[[R], OperationResult]
    ) -> OperationResult:
        try:
            self.setup_backend(model)
            return done(action())
        except Exception as error:
            return OperationResult(success=False, error=error)

    async def _aattempt(
        self,
        model: type[Model],
        action: Callable[[], Awaitable[R]],
        done: Callable[[R], OperationResult],
    ) -> OperationResult:
        try:
            self.setup_backend(model)
            return done(await action())
        except Exception as error:
            return OperationResult(success=False, error=error)
