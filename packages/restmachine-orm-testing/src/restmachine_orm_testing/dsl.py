"""``OrmClient`` and ``AsyncOrmClient``: the backend-agnostic language tests are written in.

Every ``*_and_verify`` method reads the row back through the driver and fails, naming the
backend, the model and each differing field, when storage does not hold what was written.
Every ``expect_*_failure`` method fails when the operation succeeds or raises another error.
The unverified ``create_model``, ``get_model``, ``update_model``, ``delete_model`` and
``upsert_model`` check nothing and raise nothing the ORM raises: they return the driver's
``OperationResult``, whose ``error`` holds it. ``AsyncOrmClient`` has the same 21 storage
methods, awaited, performed through the driver's ``aexecute_*`` methods (the model's async
API); both run the same steps and checks. ``is_backend`` reads no storage: it is a plain
call on both clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from restmachine_orm import Model, TransactionAction, TransactionError

from . import _steps
from ._steps import Build, Ordering, Steps, VerificationError, adrive, drive
from .driver import DriverInterface
from .operations import OperationResult

__all__ = ["AsyncOrmClient", "OrmClient", "VerificationError"]

M = TypeVar("M", bound=Model)
T = TypeVar("T")


class _Client:
    def __init__(self, driver: DriverInterface, models: Sequence[type[Model]] = ()) -> None:
        """Wrap a driver; the backend name comes from ``driver.get_backend_name()``.

        ``models`` are the test class's ``get_test_models()``: what ``clear_storage()``
        clears when it is given no model (the plugin passes them).
        """
        self.driver = driver
        self.backend_name = driver.get_backend_name()
        self.models = tuple(models)

    def is_backend(self, name: str) -> bool:
        """Tell whether the client runs on the backend called ``name`` (``"dynamodb"``).

        A plain call on ``AsyncOrmClient`` too: it reads no storage, and an awaitable
        left un-awaited would always be true.
        """
        return self.backend_name == name


class OrmClient(_Client):
    """Runs operations through a driver and checks their outcome against storage.

    The ``*_model`` methods are the exception: they return the driver's result unchecked.
    """

    def _run(self, steps: Steps[T]) -> T:
        return drive(steps, self.driver.execute)

    def create_and_verify(self, model_class: type[M], **data: Any) -> M:
        """Create a row, read it back and check that storage holds exactly that row."""
        return self._run(_steps.create_and_verify(self.backend_name, model_class, data))

    def expect_create_failure(
        self, model_class: type[Model], error_type: type[BaseException], **data: Any
    ) -> BaseException:
        """Create a row expecting ``error_type``; return the error raised."""
        steps = _steps.expect_create_failure(self.backend_name, model_class, error_type, data)
        return self._run(steps)

    def get_and_verify_exists(self, model_class: type[M], **key: Any) -> M:
        """Read a row by key and fail if there is none."""
        return self._run(_steps.get_and_verify_exists(self.backend_name, model_class, key))

    def get_and_verify_not_exists(self, model_class: type[Model], **key: Any) -> None:
        """Read a row by key and fail if there is one."""
        self._run(_steps.get_and_verify_not_exists(self.backend_name, model_class, key))

    def update_and_verify(
        self, instance: M, *, condition: dict[str, Any] | None = None, **changes: Any
    ) -> M:
        """Assign the changes, save, and check storage holds the updated row.

        ``condition`` makes it a conditional save (``instance.save(condition=...)``).
        """
        steps = _steps.update_and_verify(self.backend_name, instance, changes, condition)
        return self._run(steps)

    def expect_update_failure(
        self,
        instance: Model,
        error_type: type[BaseException],
        *,
        condition: dict[str, Any] | None = None,
        **changes: Any,
    ) -> BaseException:
        """Assign the changes and save, expecting ``error_type``; return the error."""
        steps = _steps.expect_update_failure(
            self.backend_name, instance, error_type, changes, condition
        )
        return self._run(steps)

    def delete_and_verify(
        self, instance: Model, *, condition: dict[str, Any] | None = None
    ) -> None:
        """Delete a row and check it can no longer be read (``condition``: as for saves)."""
        self._run(_steps.delete_and_verify(self.backend_name, instance, condition))

    def upsert_and_verify(self, model_class: type[M], **data: Any) -> M:
        """Insert or replace a row and check storage holds exactly that row."""
        return self._run(_steps.upsert_and_verify(self.backend_name, model_class, data))

    def create_model(self, model_class: type[Model], **data: Any) -> OperationResult:
        """Create a row, unverified: the result's ``instance``, or its ``error``."""
        return self._run(_steps.create_model(model_class, data))

    def get_model(self, model_class: type[Model], **key: Any) -> OperationResult:
        """Read a row by key, unverified; ``instance`` is ``None`` when there is none."""
        return self._run(_steps.get_model(model_class, key))

    def update_model(self, instance: Model, **changes: Any) -> OperationResult:
        """Assign the changes and save, unverified (``update_and_verify`` without the check)."""
        return self._run(_steps.update_model(instance, changes))

    def delete_model(self, instance: Model) -> OperationResult:
        """Delete a row, unverified: the result's ``error`` holds what the ORM raised."""
        return self._run(_steps.delete_model(instance))

    def upsert_model(self, model_class: type[Model], **data: Any) -> OperationResult:
        """Insert or replace a row, unverified: the result's ``instance``, or its ``error``."""
        return self._run(_steps.upsert_model(model_class, data))

    def clear_storage(self, model: type[Model] | None = None) -> None:
        """Delete every row of ``model``; without one, of each of the test's models.

        The test's models are those of the test class's ``get_test_models()``, which the
        plugin empties before each test anyway; clear them again mid-test with this. Only
        the named models lose rows, on any backend.

        Raises:
            ValueError: No model is given and the test class declares none.
            VerificationError: The backend failed to clear a model.
        """
        self._run(_steps.clear_storage(self.backend_name, model, self.models))

    def query_models(
        self,
        model_class: type[Model],
        filters: dict[str, Any] | None = None,
        order_by: Ordering = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> OperationResult:
        """Run a query; the result's ``data`` is the list of instances (errors are kept)."""
        return self._run(_steps.query_models(model_class, filters, order_by, limit, offset))

    def query_and_verify_count(
        self,
        model_class: type[M],
        expected_count: int,
        filters: dict[str, Any] | None = None,
        order_by: Ordering = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[M]:
        """Run a query, fail unless it returns ``expected_count`` rows; return them."""
        return self._run(
            _steps.query_and_verify_count(
                self.backend_name, model_class, expected_count, filters, order_by, limit, offset
            )
        )

    def count_models(self, model_class: type[Model], **filters: Any) -> int:
        """Count the rows matching the filters."""
        return self._run(_steps.count_models(self.backend_name, model_class, filters))

    def model_exists(self, model_class: type[Model], **filters: Any) -> bool:
        """Tell whether any row matches the filters."""
        return self._run(_steps.model_exists(self.backend_name, model_class, filters))

    def all_models(self, model_class: type[M]) -> list[M]:
        """Return every row of the model."""
        return self._run(_steps.all_models(self.backend_name, model_class))

    def transaction_and_verify(self, build: Build) -> tuple[TransactionAction, ...]:
        """Commit the writes ``build(tx)`` collects, and check each against storage.

        ``client.transaction_and_verify(lambda tx: (tx.create(User, id="u1"), tx.delete(old)))``
        commits as ``with transaction() as tx:`` would; every written row must then be
        stored as its instance holds it, every deleted one gone. Returns the actions.
        """
        return self._run(_steps.transaction_and_verify(self.backend_name, build))

    def expect_transaction_failure(
        self, build: Build, *, reasons: list[type[BaseException] | None]
    ) -> TransactionError:
        """Commit the writes ``build(tx)`` collects, expecting ``TransactionError``.

        ``reasons`` lists, per action, ``None`` or the error type that action met
        (``[None, ConditionFailedError]``); every row the actions touch must be unchanged.
        """
        steps = _steps.expect_transaction_failure(self.backend_name, build, reasons)
        return self._run(steps)


class AsyncOrmClient(_Client):
    """``OrmClient``'s 21 storage methods, awaited: ``await orm_client.create_and_verify(...)``.

    Each step runs through the driver's ``aexecute_*`` methods, on the model's async API,
    and checks storage exactly as ``OrmClient`` does, failing with the same messages.
    ``is_backend`` is the one plain call.
    """

    async def _run(self, steps: Steps[T]) -> T:
        return await adrive(steps, self.driver.aexecute)

    async def create_and_verify(self, model_class: type[M], **data: Any) -> M:
        """Awaitable ``OrmClient.create_and_verify``."""
        return await self._run(_steps.create_and_verify(self.backend_name, model_class, data))

    async def expect_create_failure(
        self, model_class: type[Model], error_type: type[BaseException], **data: Any
    ) -> BaseException:
        """Awaitable ``OrmClient.expect_create_failure``."""
        steps = _steps.expect_create_failure(self.backend_name, model_class, error_type, data)
        return await self._run(steps)

    async def get_and_verify_exists(self, model_class: type[M], **key: Any) -> M:
        """Awaitable ``OrmClient.get_and_verify_exists``."""
        return await self._run(_steps.get_and_verify_exists(self.backend_name, model_class, key))

    async def get_and_verify_not_exists(self, model_class: type[Model], **key: Any) -> None:
        """Awaitable ``OrmClient.get_and_verify_not_exists``."""
        await self._run(_steps.get_and_verify_not_exists(self.backend_name, model_class, key))

    async def update_and_verify(
        self, instance: M, *, condition: dict[str, Any] | None = None, **changes: Any
    ) -> M:
        """Awaitable ``OrmClient.update_and_verify``."""
        steps = _steps.update_and_verify(self.backend_name, instance, changes, condition)
        return await self._run(steps)

    async def expect_update_failure(
        self,
        instance: Model,
        error_type: type[BaseException],
        *,
        condition: dict[str, Any] | None = None,
        **changes: Any,
    ) -> BaseException:
        """Awaitable ``OrmClient.expect_update_failure``."""
        steps = _steps.expect_update_failure(
            self.backend_name, instance, error_type, changes, condition
        )
        return await self._run(steps)

    async def delete_and_verify(
        self, instance: Model, *, condition: dict[str, Any] | None = None
    ) -> None:
        """Awaitable ``OrmClient.delete_and_verify``."""
        await self._run(_steps.delete_and_verify(self.backend_name, instance, condition))

    async def upsert_and_verify(self, model_class: type[M], **data: Any) -> M:
        """Awaitable ``OrmClient.upsert_and_verify``."""
        return await self._run(_steps.upsert_and_verify(self.backend_name, model_class, data))

    async def create_model(self, model_class: type[Model], **data: Any) -> OperationResult:
        """Awaitable ``OrmClient.create_model``."""
        return await self._run(_steps.create_model(model_class, data))

    async def get_model(self, model_class: type[Model], **key: Any) -> OperationResult:
        """Awaitable ``OrmClient.get_model``."""
        return await self._run(_steps.get_model(model_class, key))

    async def update_model(self, instance: Model, **changes: Any) -> OperationResult:
        """Awaitable ``OrmClient.update_model``."""
        return await self._run(_steps.update_model(instance, changes))

    async def delete_model(self, instance: Model) -> OperationResult:
        """Awaitable ``OrmClient.delete_model``."""
        return await self._run(_steps.delete_model(instance))

    async def upsert_model(self, model_class: type[Model], **data: Any) -> OperationResult:
        """Awaitable ``OrmClient.upsert_model``."""
        return await self._run(_steps.upsert_model(model_class, data))

    async def clear_storage(self, model: type[Model] | None = None) -> None:
        """Awaitable ``OrmClient.clear_storage`` (the backend's ``aclear``)."""
        await self._run(_steps.clear_storage(self.backend_name, model, self.models))

    async def query_models(
        self,
        model_class: type[Model],
        filters: dict[str, Any] | None = None,
        order_by: Ordering = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> OperationResult:
        """Awaitable ``OrmClient.query_models``."""
        return await self._run(_steps.query_models(model_class, filters, order_by, limit, offset))

    async def query_and_verify_count(
        self,
        model_class: type[M],
        expected_count: int,
        filters: dict[str, Any] | None = None,
        order_by: Ordering = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[M]:
        """Awaitable ``OrmClient.query_and_verify_count``."""
        return await self._run(
            _steps.query_and_verify_count(
                self.backend_name, model_class, expected_count, filters, order_by, limit, offset
            )
        )

    async def count_models(self, model_class: type[Model], **filters: Any) -> int:
        """Awaitable ``OrmClient.count_models``."""
        return await self._run(_steps.count_models(self.backend_name, model_class, filters))

    async def model_exists(self, model_class: type[Model], **filters: Any) -> bool:
        """Awaitable ``OrmClient.model_exists``."""
        return await self._run(_steps.model_exists(self.backend_name, model_class, filters))

    async def all_models(self, model_class: type[M]) -> list[M]:
        """Awaitable ``OrmClient.all_models``."""
        return await self._run(_steps.all_models(self.backend_name, model_class))

    async def transaction_and_verify(self, build: Build) -> tuple[TransactionAction, ...]:
        """Awaitable ``OrmClient.transaction_and_verify`` (``async with transaction()``)."""
        return await self._run(_steps.transaction_and_verify(self.backend_name, build))

    async def expect_transaction_failure(
        self, build: Build, *, reasons: list[type[BaseException] | None]
    ) -> TransactionError:
        """Awaitable ``OrmClient.expect_transaction_failure``."""
        steps = _steps.expect_transaction_failure(self.backend_name, build, reasons)
        return await self._run(steps)
