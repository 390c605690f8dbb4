"""The public API is exactly what ``__all__`` says, so an API change is never accidental."""

from __future__ import annotations
import __future__

import importlib
import types

import pytest

import restmachine_orm
from restmachine_orm import errors
from restmachine_orm.backends import base

# Dunder names that are part of the API although they start with an underscore.
PUBLIC_DUNDERS = {"__version__"}


def isort_order(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps ``__all__`` in: CONSTANTS, then Classes, then the rest."""
    if len(name) > 1 and name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def exported(module: types.ModuleType) -> list[str]:
    """Public names bound in a module, other than submodules and ``__future__`` features."""
    return [
        name
        for name, value in vars(module).items()
        if (not name.startswith("_") or name in PUBLIC_DUNDERS)
        and not isinstance(value, types.ModuleType)
        and not isinstance(value, __future__._Feature)
    ]


def test_package_all_is_every_exported_name_sorted() -> None:
    names = exported(restmachine_orm)
    assert restmachine_orm.__all__ == sorted(set(names), key=isort_order)


def test_package_all_is_sorted_without_duplicates() -> None:
    assert restmachine_orm.__all__ == sorted(restmachine_orm.__all__, key=isort_order)
    assert len(set(restmachine_orm.__all__)) == len(restmachine_orm.__all__)


def test_package_exports_the_documented_api() -> None:
    assert set(restmachine_orm.__all__) == {
        "AsyncOnlyBackendError",
        "CAPABILITIES",
        "Backend",
        "BackendError",
        "Collection",
        "CollectionRows",
        "ConcurrentModificationError",
        "ConditionFailedError",
        "DuplicateKeyError",
        "F",
        "Field",
        "FieldOptions",
        "IndexKeys",
        "Keys",
        "Plan",
        "Q",
        "ExpirationMixin",
        "TimestampMixin",
        "after_load",
        "after_save",
        "before_save",
        "InMemoryBackend",
        "Model",
        "ModelDefinitionError",
        "ModelSchema",
        "NotFoundError",
        "OrmError",
        "Page",
        "PartialWriteError",
        "Query",
        "QueryError",
        "Transaction",
        "TransactionAction",
        "TransactionError",
        "WriteOutcomeUnknownError",
        "__version__",
        "transaction",
    }


def test_every_exported_name_has_a_docstring() -> None:
    for name in restmachine_orm.__all__:
        value = getattr(restmachine_orm, name)
        if isinstance(value, type) or callable(value):
            assert value.__doc__, name


def test_version_is_a_string() -> None:
    assert isinstance(restmachine_orm.__version__, str)
    assert restmachine_orm.__version__.count(".") >= 2


@pytest.mark.parametrize(
    "module_name",
    [
        "restmachine_orm.errors",
        "restmachine_orm.faults",
        "restmachine_orm.fields",
        "restmachine_orm.schema",
        "restmachine_orm.model",
        "restmachine_orm.query",
        "restmachine_orm.query.builder",
        "restmachine_orm.query.filters",
        "restmachine_orm.query.spec",
        "restmachine_orm.backends",
        "restmachine_orm.backends.base",
        "restmachine_orm.backends.inmemory",
    ],
)
def test_module_all_is_sorted_and_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert module.__all__ == sorted(set(module.__all__), key=isort_order)
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name}"


def test_backends_base_reexports_every_error_as_the_same_object() -> None:
    for name in errors.__all__:
        assert name in base.__all__
        assert getattr(base, name) is getattr(errors, name)
        assert getattr(base, name) is getattr(restmachine_orm, name)


def test_errors_import_from_backends_base() -> None:
    from restmachine_orm.backends.base import (
        BackendError,
        DuplicateKeyError,
        ModelDefinitionError,
        NotFoundError,
        OrmError,
        PartialWriteError,
        QueryError,
    )

    assert DuplicateKeyError is restmachine_orm.DuplicateKeyError
    assert NotFoundError is restmachine_orm.NotFoundError
    assert QueryError is restmachine_orm.QueryError
    assert OrmError is restmachine_orm.OrmError
    assert BackendError is restmachine_orm.BackendError
    assert PartialWriteError is restmachine_orm.PartialWriteError
    assert ModelDefinitionError is restmachine_orm.ModelDefinitionError


def test_backends_base_exports_the_contract() -> None:
    assert set(base.__all__) == {
        "CAPABILITIES",
        "Backend",
        "Key",
        "Row",
        "given",
        *errors.__all__,
    }
    assert base.Backend is restmachine_orm.Backend
    assert base.CAPABILITIES is restmachine_orm.CAPABILITIES


def test_backends_package_reexports_the_same_objects() -> None:
    from restmachine_orm import backends

    assert backends.Backend is restmachine_orm.Backend
    assert backends.InMemoryBackend is restmachine_orm.InMemoryBackend
    assert backends.CAPABILITIES is restmachine_orm.CAPABILITIES
