"""The DSL's steps and their checks, written once for the sync and the async client.

A step is a generator: it yields each operation it needs performed, receives the driver's
``OperationResult`` for it, checks it, and returns the step's value; a check that fails
raises ``VerificationError`` naming the backend, the model and what differed. ``drive``
performs the operations with the driver's sync methods (``OrmClient``), ``adrive`` awaits
its async ones (``AsyncOrmClient``): the two clients differ only in how they obtain results,
so their checks and messages cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Any, TypeVar

from restmachine_orm import Model, Transaction, TransactionAction, TransactionError, transaction

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

__all__ = ["Steps", "VerificationError", "adrive", "drive"]

M = TypeVar("M", bound=Model)
T = TypeVar("T")

Steps = Generator[Operation, OperationResult, T]
"""A DSL step: yields operations, is sent their results, returns its value."""

Ordering = list[str] | tuple[str, ...] | None
Build = Callable[[Transaction], object]
"""Collects a transaction's writes: ``lambda tx: (tx.create(...), tx.update(...))``."""


class VerificationError(AssertionError):
    """Storage did not do what a DSL step expected; the message says what it saw."""


def drive(steps: Steps[T], perform: Callable[[Operation], OperationResult]) -> T:
    """Run a step, performing each operation it asks for with ``perform``."""
    result: Any = None
    try:
        while True:
            result = perform(steps.send(result))
    except StopIteration as done:
        value: T = done.value
        return value


async def adrive(steps: Steps[T], perform: Callable[[Operation], Awaitable[OperationResult]]) -> T:
    """Run a step, awaiting ``perform`` for each operation it asks for."""
    result: Any = None
    try:
        while True:
            result = await perform(steps.send(result))
    except StopIteration as done:
        value: T = done.value
        return value


# -- the steps, one per DSL method ---------------------------------------------------------


def create_and_verify(backend: str, model_class: type[M], data: dict[str, Any]) -> Steps[M]:
    """Create a row, read it back and check that storage holds exactly that row."""
    result = yield CreateOperation(model_class, data)
    return (yield from _verify_written(backend, "create", model_class, result))


def expect_create_failure(
    backend: str, model_class: type[Model], error_type: type[BaseException], data: dict[str, Any]
) -> Steps[BaseException]:
    """Create a row expecting ``error_type``; return the error raised."""
    result = yield CreateOperation(model_class, data)
    return _expect_error(backend, "create", model_class, result, error_type)


def get_and_verify_exists(backend: str, model_class: type[M], key: dict[str, Any]) -> Steps[M]:
    """Read a row by key and fail if there is none."""
    result = yield from _get(backend, model_class, key)
    if result.instance is None:
        _fail(backend, model_class, f"expected a row with {_shown(key)}, found none")
    instance: M = result.instance
    return instance


def get_and_verify_not_exists(
    backend: str, model_class: type[Model], key: dict[str, Any]
) -> Steps[None]:
    """Read a row by key and fail if there is one."""
    result = yield from _get(backend, model_class, key)
    if result.instance is not None:
        _fail(backend, model_class, f"expected no row with {_shown(key)}, found {result.data}")


def update_and_verify(
    backend: str, instance: M, changes: dict[str, Any], condition: dict[str, Any] | None = None
) -> Steps[M]:
    """Assign the changes, save, and check storage holds the updated row."""
    result = yield UpdateOperation(instance, changes, condition)
    return (yield from _verify_written(backend, "update", type(instance), result))


def expect_update_failure(
    backend: str,
    instance: Model,
    error_type: type[BaseException],
    changes: dict[str, Any],
    condition: dict[str, Any] | None = None,
) -> Steps[BaseException]:
    """Assign the changes and save, expecting ``error_type``; return the error."""
    result = yield UpdateOperation(instance, changes, condition)
    return _expect_error(backend, "update", type(instance), result, error_type)


def delete_and_verify(
    backend: str, instance: Model, condition: dict[str, Any] | None = None
) -> Steps[None]:
    """Delete a row and check it can no longer be read."""
    model_class = type(instance)
    _succeed(backend, "delete", model_class, (yield DeleteOperation(instance, condition)))
    key = _key_of(instance)
    if (yield from _get(backend, model_class, key)).instance is not None:
        _fail(backend, model_class, f"row with {_shown(key)} is still stored after delete")


def upsert_and_verify(backend: str, model_class: type[M], data: dict[str, Any]) -> Steps[M]:
    """Insert or replace a row and check storage holds exactly that row."""
    result = yield UpsertOperation(model_class, data)
    return (yield from _verify_written(backend, "upsert", model_class, result))


def query_models(
    model_class: type[Model],
    filters: dict[str, Any] | None,
    order_by: Ordering,
    limit: int | None,
    offset: int | None,
) -> Steps[OperationResult]:
    """Run a query; the result's ``data`` is the list of instances (errors are kept)."""
    return (
        yield QueryOperation(model_class, dict(filters or {}), tuple(order_by or ()), limit, offset)
    )


def query_and_verify_count(
    backend: str,
    model_class: type[M],
    expected_count: int,
    filters: dict[str, Any] | None,
    order_by: Ordering,
    limit: int | None,
    offset: int | None,
) -> Steps[list[M]]:
    """Run a query, fail unless it returns ``expected_count`` rows; return them."""
    result = yield from query_models(model_class, filters, order_by, limit, offset)
    found: list[M] = _succeed(backend, "query", model_class, result).data
    if len(found) != expected_count:
        keys = [_shown(_key_of(instance)) for instance in found]
        _fail(
            backend,
            model_class,
            f"query {filters or {}} returned {len(found)} rows, expected {expected_count}: {keys}",
        )
    return found


def count_models(backend: str, model_class: type[Model], filters: dict[str, Any]) -> Steps[int]:
    """Count the rows matching the filters."""
    result = yield CountOperation(model_class, filters)
    count: int = _succeed(backend, "count", model_class, result).data
    return count


def model_exists(backend: str, model_class: type[Model], filters: dict[str, Any]) -> Steps[bool]:
    """Tell whether any row matches the filters."""
    result = yield ExistsOperation(model_class, filters)
    return bool(_succeed(backend, "exists", model_class, result).data)


def all_models(backend: str, model_class: type[M]) -> Steps[list[M]]:
    """Return every row of the model."""
    result = yield AllOperation(model_class)
    found: list[M] = _succeed(backend, "all", model_class, result).data
    return found


def create_model(model_class: type[Model], data: dict[str, Any]) -> Steps[OperationResult]:
    """Create a row; the result holds the instance, or the error raised."""
    return (yield CreateOperation(model_class, data))


def get_model(model_class: type[Model], key: dict[str, Any]) -> Steps[OperationResult]:
    """Read a row by key; the result's ``instance`` is ``None`` when there is none."""
    return (yield GetOperation(model_class, key))


def update_model(instance: Model, changes: dict[str, Any]) -> Steps[OperationResult]:
    """Assign the changes and save; the result holds the saved instance, or the error."""
    return (yield UpdateOperation(instance, changes))


def delete_model(instance: Model) -> Steps[OperationResult]:
    """Delete a row; the result holds the instance, or the error raised."""
    return (yield DeleteOperation(instance))


def upsert_model(model_class: type[Model], data: dict[str, Any]) -> Steps[OperationResult]:
    """Insert or replace a row; the result holds the instance, or the error raised."""
    return (yield UpsertOperation(model_class, data))


def clear_storage(
    backend: str, model_class: type[Model] | None, declared: Sequence[type[Model]]
) -> Steps[None]:
    """Delete every row of ``model_class``, or of each ``declared`` model when it is ``None``.

    Raises:
        ValueError: No model is given and none is declared: there is nothing to clear.
        VerificationError: The backend failed to clear a model.
    """
    if model_class is not None:
        models: Sequence[type[Model]] = [model_class]
    elif declared:
        models = declared
    else:
        raise ValueError(
            "clear_storage() without a model clears the models of the test class's "
            "get_test_models(), and there are none: name the model, clear_storage(User)"
        )
    for model in models:
        _succeed(backend, "clear", model, (yield ClearOperation(model)))


def transaction_and_verify(backend: str, build: Build) -> Steps[tuple[TransactionAction, ...]]:
    """Commit the writes ``build`` collects, then check each against storage.

    A created, saved, upserted or updated row must be stored as its instance holds it, a
    deleted one must be gone, a checked one still there.
    """
    tx = transaction()
    build(tx)
    operation = TransactionOperation(tx)
    model_class = operation.model_class
    result = yield operation
    _succeed(backend, "transaction", model_class, result)
    for number, action in enumerate(tx.actions, 1):
        read = yield from _get(backend, action.model, action.key)
        where = f"after the transaction, action {number} ({action.verb} {_shown(action.key)})"
        if action.verb == "delete":
            if read.instance is not None:
                _fail(backend, action.model, f"{where}: the row is still stored")
        elif read.instance is None:
            _fail(backend, action.model, f"{where}: no row is stored")
        elif action.instance is not None:
            _compare(backend, action.model, where, action.instance, read.instance)
    return tx.actions


def expect_transaction_failure(
    backend: str, build: Build, reasons: list[type[BaseException] | None]
) -> Steps[TransactionError]:
    """Commit the writes ``build`` collects expecting ``TransactionError`` with ``reasons``.

    ``reasons`` holds, per action, ``None`` (the action was fine) or the error type it met.
    Every row the actions touch must be stored afterwards exactly as before.
    """
    tx = transaction()
    build(tx)
    operation = TransactionOperation(tx)
    model_class = operation.model_class
    before = yield from _snapshot(backend, tx)
    result = yield operation
    error = _expect_error(backend, "transaction", model_class, result, TransactionError)
    assert isinstance(error, TransactionError)
    got = [None if reason is None else type(reason) for reason in error.reasons]
    matches = len(got) == len(reasons) and all(
        (actual is None) if wanted is None else (actual is not None and issubclass(actual, wanted))
        for wanted, actual in zip(reasons, got, strict=False)
    )
    if not matches:
        _fail(
            backend,
            model_class,
            f"expected the reasons {_names(reasons)}, got {_names(got)}: {error}",
        )
    after = yield from _snapshot(backend, tx)
    for number, (old, new) in enumerate(zip(before, after, strict=True), 1):
        if old != new:
            action = tx.actions[number - 1]
            _fail(
                backend,
                action.model,
                f"the cancelled transaction changed action {number}'s row "
                f"({action.verb} {_shown(action.key)}): {old} became {new}",
            )
    return error


# -- the checks ----------------------------------------------------------------------------


def _snapshot(backend: str, tx: Transaction) -> Steps[list[dict[str, Any] | None]]:
    """The stored row of each action (``None`` where there is none), as dumped data."""
    rows = []
    for action in tx.actions:
        rows.append((yield from _get(backend, action.model, action.key)).data)
    return rows


def _names(reasons: Sequence[type[BaseException] | None]) -> str:
    return "[" + ", ".join("None" if r is None else r.__name__ for r in reasons) + "]"


def _fail(backend: str, model_class: type[Model], message: str) -> None:
    raise VerificationError(f"[{backend}] {model_class.__name__}: {message}")


def _describe(error: BaseException | None) -> str:
    return "no error" if error is None else f"{type(error).__name__}: {error}"


def _succeed(
    backend: str, action: str, model_class: type[Model], result: OperationResult
) -> OperationResult:
    if not result.success:
        _fail(backend, model_class, f"{action} failed with {_describe(result.error)}")
    return result


def _expect_error(
    backend: str,
    action: str,
    model_class: type[Model],
    result: OperationResult,
    error_type: type[BaseException],
) -> BaseException:
    if result.success:
        _fail(
            backend,
            model_class,
            f"expected {action} to raise {error_type.__name__}, but it succeeded"
            + (f" and stored {result.data}" if result.data is not None else ""),
        )
    if not isinstance(result.error, error_type):
        _fail(
            backend,
            model_class,
            f"expected {action} to raise {error_type.__name__}, got {_describe(result.error)}",
        )
    assert result.error is not None
    return result.error


def _get(backend: str, model_class: type[Model], key: dict[str, Any]) -> Steps[OperationResult]:
    """Read a row by key; failing to read at all fails the step."""
    return _succeed(backend, "get", model_class, (yield GetOperation(model_class, key)))


def _verify_written(
    backend: str, action: str, model_class: type[M], result: OperationResult
) -> Steps[M]:
    """The instance a successful write returned, once storage is checked to hold it."""
    instance: M = _succeed(backend, action, model_class, result).instance
    key = _key_of(instance)
    read = yield from _get(backend, model_class, key)
    if read.instance is None:
        _fail(backend, model_class, f"after {action}, no row with {_shown(key)} is stored")
    _compare(backend, model_class, f"after {action}", instance, read.instance)
    return instance


def _compare(
    backend: str, model_class: type[Model], where: str, instance: Model, stored: Model
) -> None:
    """Fail unless the stored row holds what the instance holds, naming each difference."""
    expected, found = instance.model_dump(), stored.model_dump()
    differences = [
        f"{name}: expected {expected.get(name)!r}, stored {found.get(name)!r}"
        for name in expected.keys() | found.keys()
        if expected.get(name) != found.get(name)
    ]
    if differences:
        _fail(
            backend,
            model_class,
            f"{where}, the stored row differs: " + "; ".join(sorted(differences)),
        )


def _key_of(instance: Model) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in instance.orm_schema().require_key()}


def _shown(key: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in key.items())
