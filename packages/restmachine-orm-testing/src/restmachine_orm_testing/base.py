"""``MultiBackendTestBase``: subclass it and every test taking ``orm`` runs on each backend."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Final, TypeVar

import pytest

from .driver import DriverInterface
from .registry import DriverRegistry

__all__ = ["SELECTED", "MultiBackendTestBase", "multi_backend_test_class", "runs_on_selection"]

C = TypeVar("C", bound=type)


class _Selection(list[str]):
    """The type of ``SELECTED``: an empty list standing for the backends a run selects."""

    def __repr__(self) -> str:
        return "SELECTED"


SELECTED: Final[list[str]] = _Selection()
"""``ENABLED_BACKENDS = SELECTED``: run on the backends the run selects.

That is the names given with ``--orm-backend`` or ``RESTMACHINE_ORM_BACKENDS``; with no
selection, every backend whose driver is installed. ``EXCLUDED_BACKENDS`` still applies.
The conformance suite's one-command module (``pytest --pyargs restmachine_orm_testing.suite``)
enables every suite class this way.
"""


class MultiBackendTestBase:
    """Base of test classes whose tests run once per enabled backend.

    Each test method that takes the ``orm`` fixture receives ``(orm_client, backend_name)``
    and is collected once per backend in ``ENABLED_BACKENDS``, with ids such as
    ``test_create[dynamodb]``. Before each test, the storage of the models returned by
    ``get_test_models`` is emptied; after it, every model's ``model_backend`` is restored.

    ``async def`` test methods run on an asyncio event loop of their own, with no marker
    or loop setup (anyio's pytest plugin runs them); taking ``aorm`` instead of ``orm``,
    they receive ``(async_orm_client, backend_name)``, whose DSL methods are awaited.

    Attributes:
        ENABLED_BACKENDS: Backends this class runs on; ``--orm-backend`` or the
            ``RESTMACHINE_ORM_BACKENDS`` environment variable narrow it for a run.
            ``SELECTED`` runs the class on the run's selection (with none, on every
            installed backend).
        EXCLUDED_BACKENDS: Backends taken out of ``ENABLED_BACKENDS`` for this class (a
            subclass excludes what it inherited); a name not enabled changes nothing.
    """

    ENABLED_BACKENDS: ClassVar[list[str]] = ["inmemory"]
    EXCLUDED_BACKENDS: ClassVar[list[str]] = []

    # Set by the conformance suite's classes (not a user setting): run the sync tests with
    # every backend call made through the backend's awaitable twins; fail a test that makes
    # a blocking network call on a running event loop's thread.
    _orm_async_surface: ClassVar[bool] = False
    _orm_forbid_blocking_io: ClassVar[bool] = False

    @pytest.fixture
    def anyio_backend(self) -> str:
        """The event loop of ``async def`` tests: asyncio's, the one the ORM's async API uses.

        This fixture tells anyio's pytest plugin to run the class's async tests; the
        plugin's own would run each on every async library installed, under a second id.
        """
        return "asyncio"

    def get_test_models(self) -> list[type[Any]]:
        """Return the model classes the tests use, so each test starts with them empty."""
        return []

    @classmethod
    def create_driver(cls, backend_name: str) -> DriverInterface:
        """Return a new driver for a backend, found among the installed plugins.

        Drivers register through the ``restmachine_orm_testing`` entry point. Replacing this
        classmethod (the old way, kept working) also registers drivers.

        Raises:
            BackendNotInstalledError: A first-party backend whose package is missing.
            UnknownBackendError: No plugin provides the name.
        """
        return DriverRegistry.load().create(backend_name)


def runs_on_selection(cls: type[MultiBackendTestBase]) -> bool:
    """Whether a class's ``ENABLED_BACKENDS`` is ``SELECTED`` (the run's selection)."""
    return isinstance(cls.ENABLED_BACKENDS, _Selection)


def multi_backend_test_class(
    enabled_backends: Sequence[str] | None = None,
    excluded_backends: Sequence[str] | None = None,
) -> Callable[[C], C]:
    """Set a test class's ``ENABLED_BACKENDS`` and ``EXCLUDED_BACKENDS`` from a decorator.

    ``@multi_backend_test_class(enabled_backends=["inmemory", "dynamodb"])`` is the same as
    assigning the attribute in the class body; an argument left ``None`` leaves the
    attribute as the class has it (its own or inherited). Each class gets its own copy of
    the lists (``SELECTED`` is kept as it is).

    Raises:
        TypeError: The decorator is used without its parentheses, a list of names is
            given as a single string, or the decorated class is not a
            ``MultiBackendTestBase`` subclass.
    """
    if isinstance(enabled_backends, type):
        raise TypeError(
            "multi_backend_test_class takes the backends and returns the decorator: "
            "write @multi_backend_test_class(...), with the parentheses"
        )
    _check_names("enabled_backends", enabled_backends)
    _check_names("excluded_backends", excluded_backends)

    def decorate(cls: C) -> C:
        if not (isinstance(cls, type) and issubclass(cls, MultiBackendTestBase)):
            name = getattr(cls, "__qualname__", repr(cls))
            raise TypeError(
                f"@multi_backend_test_class decorates MultiBackendTestBase subclasses; "
                f"{name} is not one"
            )
        if isinstance(enabled_backends, _Selection):
            cls.ENABLED_BACKENDS = enabled_backends
        elif enabled_backends is not None:
            cls.ENABLED_BACKENDS = list(enabled_backends)
        if excluded_backends is not None:
            cls.EXCLUDED_BACKENDS = list(excluded_backends)
        return cls

    return decorate


def _check_names(argument: str, names: Sequence[str] | None) -> None:
    # A string is a sequence too: list("dynamodb") would be eight one-letter backends.
    if isinstance(names, str):
        raise TypeError(f"{argument} takes a list of backend names, such as [{names!r}]")
