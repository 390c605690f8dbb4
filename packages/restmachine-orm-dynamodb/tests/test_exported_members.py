from __future__ import annotations

import types

import restmachine_orm_dynamodb
from restmachine_orm import BackendError
from restmachine_orm_dynamodb import errors


def isort_order(name):
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_is_sorted_and_lists_exactly_the_public_names():
    exported = restmachine_orm_dynamodb.__all__
    assert exported == sorted(exported, key=isort_order)
    public = {
        name
        for name, value in vars(restmachine_orm_dynamodb).items()
        if not name.startswith(("_", "@")) and not isinstance(value, types.ModuleType)
    } - {"annotations"}
    assert set(exported) == public | {"__version__"}


def test_backend_errors_subclass_the_core_error_and_are_drawn_in_the_docstring():
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), BackendError)
        assert name in (errors.__doc__ or "")
