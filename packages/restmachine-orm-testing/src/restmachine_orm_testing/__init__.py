"""RestMachine ORM testing: write a test once, run it against every backend.

Subclass ``MultiBackendTestBase``, take the ``orm`` fixture (``aorm`` in an ``async def``
test), and each test runs on every backend in ``ENABLED_BACKENDS`` but those in
``EXCLUDED_BACKENDS`` (``ENABLED_BACKENDS = SELECTED``: the backends the run selects).
Backends register their drivers through the ``restmachine_orm_testing`` entry point (see
``hookimpl``); ``pytest --pyargs restmachine_orm_testing.suite --orm-backend NAME`` runs
the whole conformance suite on one, and ``python -m restmachine_orm_testing`` lists them.
"""

from __future__ import annotations

from ._blocking import BlockingCallError, forbid_blocking_io
from ._version import __version__
from .base import SELECTED, MultiBackendTestBase, multi_backend_test_class
from .clock import OrmClock
from .driver import DriverInterface
from .dsl import AsyncOrmClient, OrmClient, VerificationError
from .faults import FaultsUnsupportedError, OrmFaults
from .hooks import DriverFactory, hookimpl
from .inmemory import InMemoryDriver
from .markers import only_backends, requires, skip_backend, xfail_backend
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
from .registry import (
    BackendNotInstalledError,
    DriverLoadError,
    DriverRegistry,
    UnknownBackendError,
)

__all__ = [
    "SELECTED",
    "AllOperation",
    "AsyncOrmClient",
    "BackendNotInstalledError",
    "BlockingCallError",
    "CountOperation",
    "CreateOperation",
    "DeleteOperation",
    "DriverFactory",
    "DriverInterface",
    "DriverLoadError",
    "DriverRegistry",
    "ExistsOperation",
    "FaultsUnsupportedError",
    "GetOperation",
    "InMemoryDriver",
    "MultiBackendTestBase",
    "OperationResult",
    "OrmClient",
    "OrmClock",
    "OrmFaults",
    "QueryOperation",
    "UnknownBackendError",
    "UpdateOperation",
    "UpsertOperation",
    "VerificationError",
    "__version__",
    "forbid_blocking_io",
    "hookimpl",
    "multi_backend_test_class",
    "only_backends",
    "requires",
    "skip_backend",
    "xfail_backend",
]
