"""``MultiBackendTestBase``: subclass it and every test taking ``orm`` runs on each backend."""

from __future__ import annotations

from typing import Any, ClassVar

from .driver import DriverInterface
from .registry import DriverRegistry

__all__ = ["MultiBackendTestBase"]


class MultiBackendTestBase:
    """Base of test classes whose tests run once per enabled backend.

    Each test method that takes the ``orm`` fixture receives ``(orm_client, backend_name)``
    and is collected once per backend in ``ENABLED_BACKENDS``, with ids such as
    ``test_create[dynamodb]``. Before each test, the storage of the models returned by
    ``get_test_models`` is emptied; after it, every model's ``model_backend`` is restored.

    Attributes:
        ENABLED_BACKENDS: Backends this class runs on; ``--orm-backend`` or the
            ``RESTMACHINE_ORM_BACKENDS`` environment variable narrow it for a run.
    """

    ENABLED_BACKENDS: ClassVar[list[str]] = ["inmemory"]

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
