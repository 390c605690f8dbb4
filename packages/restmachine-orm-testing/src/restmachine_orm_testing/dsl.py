"""``OrmClient``: the backend-agnostic language tests are written in.

Every ``*_and_verify`` method reads the row back through the driver and fails, naming the
backend, the model and each differing field, when storage does not hold what was written.
Every ``expect_*_failure`` method fails when the operation succeeds or raises another error.
"""

from __future__ import annotations

from typing import Any, TypeVar

from restmachine_orm import Model

from .driver import DriverInterface
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

__all__ = ["OrmClient", "VerificationError"]

M = TypeVar("M", bound=Model)


class VerificationError(AssertionError):
    """Storage did not do what a DSL step expected; the message says what it saw."""


def _describe(error: BaseException | None) -> str:
    return "no error" if error is None else f"{type(error).__name__}: {error}"


class OrmClient:
    """Runs operations through a driver and checks their outcome against storage."""

    def __init__(self, driver: DriverInterface) -> None:
        """Wrap a driver; the backend name comes from ``driver.get_backend_name()``."""
        self.driver = driver
        self.backend_name = driver.get_backend_name()

    # -- create -------------------------------------------------------------------------

    def create_and_verify(self, model_class: type[M], **data: Any) -> M:
        """Create a row, read it back and check that storage holds exactly that row."""
        return self._write_and_verify(
            "create", model_class, self.driver.execute_create(CreateOperation(model_class, data))
        )

    def expect_create_failure(
        self, model_class: type[Model], error_type: type[BaseException], **data: Any
    ) -> BaseException:
        """Create a row expecting ``error_type``; return the error raised."""
        result = self.driver.execute_create(CreateOperation(model_class, data))
        return self._expect_error("create", model_class, result, error_type)

    # -- read ---------------------------------------------------------------------------

    def get_and_verify_exists(self, model_class: type[M], **key: Any) -> M:
        """Read a row by key and fail if there is none."""
        result = self._get(model_class, key)
        if result.instance is None:
            self._fail(model_class, f"expected a row with {_shown(key)}, found none")
        instance: M = result.instance
        return instance

    def get_and_verify_not_exists(self, model_class: type[Model], **key: Any) -> None:
        """Read a row by key and fail if there is one."""
        result = self._get(model_class, key)
        if result.instance is not None:
            self._fail(model_class, f"expected no row with {_shown(key)}, found {result.data}")

    # -- update -------------------------------------------------------------------------

    def update_and_verify(self, instance: M, **changes: Any) -> M:
        """Assign the changes, save, and check storage holds the updated row."""
        return self._write_and_verify(
            "update", type(instance), self.driver.execute_update(UpdateOperation(instance, changes))
        )

    def expect_update_failure(
        self, instance: Model, error_type: type[BaseException], **changes: Any
    ) -> BaseException:
        """Assign the changes and save, expecting ``error_type``; return the error."""
        result = self.driver.execute_update(UpdateOperation(instance, changes))
        return self._expect_error("update", type(instance), result, error_type)

    # -- delete / upsert ----------------------------------------------------------------

    def delete_and_verify(self, instance: Model) -> None:
        """Delete a row and check it can no longer be read."""
        model_class = type(instance)
        self._succeed("delete", model_class, self.driver.execute_delete(DeleteOperation(instance)))
        key = _key_of(instance)
        if self._get(model_class, key).instance is not None:
            self._fail(model_class, f"row with {_shown(key)} is still stored after delete")

    def upsert_and_verify(self, model_class: type[M], **data: Any) -> M:
        """Insert or replace a row and check storage holds exactly that row."""
        return self._write_and_verify(
            "upsert", model_class, self.driver.execute_upsert(UpsertOperation(model_class, data))
        )

    # -- queries ------------------------------------------------------------------------

    def query_models(
        self,
        model_class: type[Model],
        filters: dict[str, Any] | None = None,
        order_by: list[str] | tuple[str, ...] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> OperationResult:
        """Run a query; the result's ``data`` is the list of instances (errors are kept)."""
        return self.driver.execute_query(
            QueryOperation(model_class, dict(filters or {}), tuple(order_by or ()), limit, offset)
        )

    def query_and_verify_count(
        self,
        model_class: type[M],
        expected_count: int,
        filters: dict[str, Any] | None = None,
        order_by: list[str] | tuple[str, ...] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[M]:
        """Run a query, fail unless it returns ``expected_count`` rows; return them."""
        result = self._succeed(
            "query", model_class, self.query_models(model_class, filters, order_by, limit, offset)
        )
        found: list[M] = result.data
        if len(found) != expected_count:
            keys = [_shown(_key_of(instance)) for instance in found]
            self._fail(
                model_class,
                f"query {filters or {}} returned {len(found)} rows, expected {expected_count}: "
                f"{keys}",
            )
        return found

    def count_models(self, model_class: type[Model], **filters: Any) -> int:
        """Count the rows matching the filters."""
        result = self._succeed(
            "count", model_class, self.driver.execute_count(CountOperation(model_class, filters))
        )
        count: int = result.data
        return count

    def model_exists(self, model_class: type[Model], **filters: Any) -> bool:
        """Tell whether any row matches the filters."""
        result = self._succeed(
            "exists", model_class, self.driver.execute_exists(ExistsOperation(model_class, filters))
        )
        return bool(result.data)

    def all_models(self, model_class: type[M]) -> list[M]:
        """Return every row of the model."""
        result = self._succeed(
            "all", model_class, self.driver.execute_all(AllOperation(model_class))
        )
        found: list[M] = result.data
        return found

    # -- checks -------------------------------------------------------------------------

    def _fail(self, model_class: type[Model], message: str) -> None:
        raise VerificationError(f"[{self.backend_name}] {model_class.__name__}: {message}")

    def _succeed(
        self, action: str, model_class: type[Model], result: OperationResult
    ) -> OperationResult:
        if not result.success:
            self._fail(model_class, f"{action} failed with {_describe(result.error)}")
        return result

    def _expect_error(
        self,
        action: str,
        model_class: type[Model],
        result: OperationResult,
        error_type: type[BaseException],
    ) -> BaseException:
        if result.success:
            self._fail(
                model_class,
                f"expected {action} to raise {error_type.__name__}, but it succeeded"
                + (f" and stored {result.data}" if result.data is not None else ""),
            )
        if not isinstance(result.error, error_type):
            self._fail(
                model_class,
                f"expected {action} to raise {error_type.__name__}, got {_describe(result.error)}",
            )
        assert result.error is not None
        return result.error

    def _get(self, model_class: type[Model], key: dict[str, Any]) -> OperationResult:
        """Read a row by key through the driver; failing to read at all fails the step."""
        return self._succeed(
            "get", model_class, self.driver.execute_get(GetOperation(model_class, key))
        )

    def _write_and_verify(self, action: str, model_class: type[M], result: OperationResult) -> M:
        """The instance a successful write returned, once storage is checked to hold it."""
        instance: M = self._succeed(action, model_class, result).instance
        self._verify_stored(instance, action)
        return instance

    def _verify_stored(self, instance: Model, action: str) -> None:
        model_class = type(instance)
        key = _key_of(instance)
        read = self._get(model_class, key)
        if read.instance is None:
            self._fail(model_class, f"after {action}, no row with {_shown(key)} is stored")
        expected, stored = instance.model_dump(), read.instance.model_dump()
        differences = [
            f"{name}: expected {expected.get(name)!r}, stored {stored.get(name)!r}"
            for name in expected.keys() | stored.keys()
            if expected.get(name) != stored.get(name)
        ]
        if differences:
            self._fail(
                model_class,
                f"after {action}, the stored row differs: " + "; ".join(sorted(differences)),
            )


def _key_of(instance: Model) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in instance.orm_schema().require_key()}


def _shown(key: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in key.items())
