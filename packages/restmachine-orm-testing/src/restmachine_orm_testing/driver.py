"""``DriverInterface``: how the DSL reaches one backend, with defaults on the public ORM API."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any

from restmachine_orm import Backend, Model

from .operations import (
    AllOperation,
    CountOperation,
    CreateOperation,
    DeleteOperation,
    ExistsOperation,
    GetOperation,
    OperationResult,
    QueryOperation,
    UpdateOperation,
    UpsertOperation,
)

__all__ = ["DriverInterface"]


def _attempt(action: Callable[[], OperationResult]) -> OperationResult:
    """Run an operation, turning any error the ORM raises into a failed result."""
    try:
        return action()
    except Exception as error:
        return OperationResult(success=False, error=error)


class DriverInterface(abc.ABC):
    """One backend as the DSL sees it.

    A driver names its backend (``get_backend_name``) and holds it in ``self.backend``;
    everything else has a default built on the public ORM API, so a driver only overrides
    what its backend does differently or faster. Drivers are created once per test session
    (and per xdist worker) and must be cheap to construct: start servers lazily.

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

        The default binds each model and deletes its rows one by one through the ORM, which
        works on any backend; drivers override it with something cheaper.
        """
        for model in models:
            self.setup_backend(model)
            for instance in model.all():
                instance.delete()

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release what the driver holds (servers, connections) at the end of the session."""

    def execute_create(self, operation: CreateOperation) -> OperationResult:
        """Create a row with ``Model.create``."""
        model = operation.model_class
        return self._produce(model, lambda: model.create(**operation.data))

    def execute_get(self, operation: GetOperation) -> OperationResult:
        """Read a row with ``Model.get``; ``instance`` is ``None`` when there is none."""
        model = operation.model_class
        return self._produce(model, lambda: model.get(**operation.key))

    def execute_update(self, operation: UpdateOperation) -> OperationResult:
        """Assign the changes and ``save()``."""
        instance = operation.instance

        def update() -> Model:
            for name, value in operation.changes.items():
                setattr(instance, name, value)
            return instance.save()

        return self._produce(type(instance), update)

    def execute_delete(self, operation: DeleteOperation) -> OperationResult:
        """Delete the row with ``instance.delete()``."""
        instance = operation.instance

        def delete() -> Model:
            instance.delete()
            return instance

        result = self._produce(type(instance), delete)
        result.data = None
        return result

    def execute_upsert(self, operation: UpsertOperation) -> OperationResult:
        """Insert or replace a row with ``Model.upsert``."""
        model = operation.model_class
        return self._produce(model, lambda: model.upsert(**operation.data))

    def execute_query(self, operation: QueryOperation) -> OperationResult:
        """Select rows with ``Model.where(...)``; ``data`` is the list of instances."""

        def query() -> list[Model]:
            built = operation.model_class.where(**operation.filters)
            if operation.order_by:
                built = built.order_by(*operation.order_by)
            if operation.offset is not None:
                built = built.offset(operation.offset)
            if operation.limit is not None:
                built = built.limit(operation.limit)
            return built.all()

        return self._read(operation.model_class, query)

    def execute_count(self, operation: CountOperation) -> OperationResult:
        """Count rows with ``Model.where(...).count()``."""
        model = operation.model_class
        return self._read(model, lambda: model.where(**operation.filters).count())

    def execute_exists(self, operation: ExistsOperation) -> OperationResult:
        """Check for rows with ``Model.where(...).exists()``."""
        model = operation.model_class
        return self._read(model, lambda: model.where(**operation.filters).exists())

    def execute_all(self, operation: AllOperation) -> OperationResult:
        """Read every row with ``Model.all()``."""
        return self._read(operation.model_class, operation.model_class.all)

    def _produce(self, model: type[Model], action: Callable[[], Model | None]) -> OperationResult:
        """Run an action returning one instance (or ``None``); ``data`` is its dump."""

        def run() -> OperationResult:
            self.setup_backend(model)
            instance = action()
            data = None if instance is None else instance.model_dump()
            return OperationResult(success=True, instance=instance, data=data)

        return _attempt(run)

    def _read(self, model: type[Model], read: Callable[[], Any]) -> OperationResult:
        """Run a read whose value is the result's ``data``."""

        def run() -> OperationResult:
            self.setup_backend(model)
            return OperationResult(success=True, data=read())

        return _attempt(run)
