from __future__ import annotations

import restmachine_orm
from restmachine_orm import errors
from restmachine_orm.backends import base


def isort_order(name):
    # Constants, then classes, then functions: the order ruff keeps __all__ in.
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def public_names(module):
    return {name for name in vars(module) if not name.startswith("_") or name == "__version__"}


def test_all_lists_exactly_the_public_names_sorted():
    exported = set(restmachine_orm.__all__)
    modules = {"backends", "errors", "fields", "model", "query", "schema"}
    assert exported == public_names(restmachine_orm) - modules - {"annotations"}
    assert restmachine_orm.__all__ == sorted(exported, key=isort_order)


def test_errors_are_reexported_by_the_backend_contract_module():
    for name in errors.__all__:
        assert getattr(base, name) is getattr(errors, name) is getattr(restmachine_orm, name)


def test_the_error_hierarchy_is_drawn_in_its_docstring():
    for name in errors.__all__:
        assert name in (errors.__doc__ or "")
