"""Each multi-backend test's isolation: its models emptied and bound before, restored after.

The work runs in the ``pytest_runtest_setup`` and ``pytest_runtest_teardown`` hooks rather
than in the body of the ``orm`` fixture, and the test's ``orm`` argument is filled in
directly. Executing a parametrized fixture costs pytest about 50 µs per test, several
times what isolating an in-memory test costs. Fixtures that take ``orm`` still get it from
the fixture, which hands over the same value: the argument of the test being run, kept
here, since a fixture asking pytest's ``request`` for its test would cost every test
another 12 µs or so (pytest resolves ``request`` even for a filled-in argument).

An ``async def`` test's ``aorm`` is not filled in: its fixture runs, on the test's event
loop, so that the driver's ``ateardown`` is awaited on that loop before it closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from restmachine_orm import Model

from ._async_surface import AsyncSurfaceDriver
from ._pytest_internals import fill_argument
from ._session import STATE
from .dsl import AsyncOrmClient, OrmClient
from .registry import BackendNotInstalledError

__all__ = ["AWAITED", "BACKEND", "guarded", "isolate", "restore", "running_argument"]

#: The backend a multi-backend test item runs on (set at collection).
BACKEND = pytest.StashKey[str]()
#: Set at collection on the tests that take ``aorm`` rather than ``orm``.
AWAITED = pytest.StashKey[bool]()
#: What a test receives as ``orm`` (``aorm``): ``(orm_client, backend_name)``.
_ARGUMENT = pytest.StashKey[tuple[Any, str]]()
#: The async surface a test of the suite's ``*Async`` classes runs on.
_SURFACE = pytest.StashKey[AsyncSurfaceDriver]()
#: Set on the tests that must not block an event loop on the network.
_GUARDED = pytest.StashKey[bool]()

_UNSET = object()


@dataclass(frozen=True)
class _Saved:
    """The models of one test and the ``model_backend`` each had set on itself before."""

    models: list[type[Model]]
    backends: list[Any]

    @classmethod
    def of(cls, models: list[type[Model]]) -> _Saved:
        return cls(models, [model.__dict__.get("model_backend", _UNSET) for model in models])

    def restore(self) -> None:
        for model, before in zip(self.models, self.backends, strict=True):
            if before is not _UNSET:
                model.model_backend = before
            elif "model_backend" in model.__dict__:
                delattr(model, "model_backend")


_SAVED = pytest.StashKey[_Saved]()

# The arguments of the tests being run, innermost last: one, unless a test runs pytest
# inside itself (pytester's in-process runs), which nests a session in the test.
_RUNNING: list[tuple[Any, str]] = []


def isolate(item: pytest.Item) -> None:
    """Empty and bind a test's models and fill in its ``orm``, if it runs on a backend.

    Called from a plain ``pytest_runtest_setup`` hook of this plugin, so after pytest's
    skipping plugin (``tryfirst``) has skipped what its marks skip, and before pytest's
    runner (registered earlier, so called later) sets up the fixtures.
    """
    name = item.stash.get(BACKEND, None)
    if name is not None and isinstance(item, pytest.Function):
        _isolate(item, name)


def _isolate(item: pytest.Function, name: str) -> None:
    test_class = type(item.instance)
    state = item.config.stash[STATE]
    driver = state.driver_or_error(test_class, name)
    if isinstance(driver, BackendNotInstalledError):
        pytest.skip(str(driver))
    if isinstance(driver, Exception):
        raise driver
    if test_class._orm_async_surface:
        driver = item.stash[_SURFACE] = state.async_surface(driver)
    if test_class._orm_forbid_blocking_io:
        item.stash[_GUARDED] = True
    saved = _Saved.of(list(item.instance.get_test_models()))
    item.stash[_SAVED] = saved
    driver.reset(saved.models)
    for model in saved.models:
        driver.setup_backend(model)
    awaited = item.stash.get(AWAITED, False)
    client = (AsyncOrmClient if awaited else OrmClient)(driver, saved.models)
    argument: tuple[Any, str] = (client, name)
    item.stash[_ARGUMENT] = argument
    _RUNNING.append(argument)
    if not awaited:
        # Filled in, the argument is not asked of the fixture, which pytest would execute.
        fill_argument(item, "orm", argument)


def restore(item: pytest.Item) -> None:
    """Give a test's models back the ``model_backend`` they had before it, if it had any.

    A test on the async surface first has its backend's loop-bound resources released.
    """
    surface = item.stash.get(_SURFACE, None)
    try:
        if surface is not None:
            del item.stash[_SURFACE]
            surface.end_test()
    finally:
        argument = item.stash.get(_ARGUMENT, None)
        if argument is not None:
            del item.stash[_ARGUMENT]
            _RUNNING.remove(argument)
        if _SAVED in item.stash:
            saved = item.stash[_SAVED]
            del item.stash[_SAVED]
            saved.restore()


def running_argument() -> tuple[Any, str] | None:
    """The ``orm`` (or ``aorm``) argument of the test being run, or ``None`` if it has none."""
    return _RUNNING[-1] if _RUNNING else None


def guarded(item: pytest.Item) -> bool:
    """Whether a test fails on a blocking network call made on an event loop's thread."""
    return item.stash.get(_GUARDED, False)
