"""``MultiBackendTestBase``: subclass it and every test taking ``orm`` runs on each backend."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from .driver import DriverInterface
from .registry import DriverRegistry

__all__ = ["MultiBackendTestBase"]


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
    """

    ENABLED_BACKENDS: ClassVar[list[str]] = ["inmemory"]

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
