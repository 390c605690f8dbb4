"""The DynamoDB driver of restmachine-orm-testing, loaded only through its entry point.

The endpoint comes from ``RESTMACHINE_ORM_DYNAMODB_ENDPOINT``; when it is unset, an embedded
moto server starts on first use and stops at the end of the session. Each pytest-xdist
worker uses its own table, emptied before every test that follows a write.

A test leaves the table as it found it unless something wrote to it, and the driver sees
every write its backend's client sends: it empties the table (one Scan, then deletes) only
after one, and a test that only reads costs no request to reset. A test that writes to the
driver's table through a client of its own must empty it itself.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from restmachine_orm import Backend, Model
from restmachine_orm_testing import DriverInterface, hookimpl
from restmachine_orm_testing.hooks import DriverFactory

from ._features import FEATURES
from ._moto import EmbeddedMoto

if TYPE_CHECKING:
    from .backend import DynamoDBBackend

__all__ = ["ENV_ENDPOINT", "DynamoDBDriver", "restmachine_orm_testing_drivers"]

#: Environment variable naming the DynamoDB endpoint tests use (unset: embedded moto).
ENV_ENDPOINT = "RESTMACHINE_ORM_DYNAMODB_ENDPOINT"
_REGION = "us-east-1"
_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


class DynamoDBDriver(DriverInterface):
    """Drives a ``DynamoDBBackend`` on a per-worker table of a local or given endpoint."""

    def __init__(self, endpoint: str | None = None) -> None:
        """Remember where to connect; nothing starts until the backend is first used."""
        self._endpoint = endpoint or os.environ.get(ENV_ENDPOINT) or None
        self._server: EmbeddedMoto | None = None
        self._backend: DynamoDBBackend | None = None
        self._indexed: set[type[Model]] = set()
        # The table may hold what an earlier session left: the first reset empties it.
        self._written = True

    @property
    def backend(self) -> DynamoDBBackend:
        """The backend, connected (and the server and table made) on first use."""
        if self._backend is None:
            self._backend = self._connect()
        return self._backend

    @backend.setter
    def backend(self, value: Backend) -> None:
        from .backend import DynamoDBBackend

        if not isinstance(value, DynamoDBBackend):
            raise TypeError(f"DynamoDBDriver needs a DynamoDBBackend, not {value!r}")
        self._watch(value)
        self._backend = value
        self._written = True

    @property
    def capabilities(self) -> frozenset[str]:
        """The DynamoDB backend's capabilities, known without connecting."""
        return FEATURES

    def get_backend_name(self) -> str:
        """Return ``"dynamodb"``."""
        return "dynamodb"

    def _connect(self) -> DynamoDBBackend:
        # Imported here: pytest loads this module in every run, most never reach DynamoDB.
        import boto3

        from .backend import DEFAULT_CONFIG, DynamoDBBackend

        endpoint = self._endpoint
        if endpoint is None:
            self._server = EmbeddedMoto()
            endpoint = self._server.start()
            atexit.register(self._server.stop)
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name=_REGION,
            # Local servers take any alphanumeric credentials; these live on this client only.
            aws_access_key_id="restmachineormtest",
            aws_secret_access_key="restmachineormtest",
            config=DEFAULT_CONFIG,
        )
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        backend = DynamoDBBackend(f"restmachine-orm-test-{worker}", client=client)
        backend.create_table()
        self._watch(backend)
        return backend

    def _watch(self, backend: DynamoDBBackend) -> None:
        """Note every write the backend's client sends (botocore's before-send event)."""
        backend.client.meta.events.register("before-send.dynamodb", self._note)

    def _note(self, request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else str(target)).split(".")[-1]
        if operation in _WRITES:
            self._written = True

    def reset(self, models: Sequence[type[Model]]) -> None:
        """Empty this worker's table if anything wrote to it since it was last emptied.

        The models' secondary indexes are added the first time a model is seen.
        """
        fresh = [model for model in models if model not in self._indexed]
        if fresh:
            self.backend.ensure_indexes(fresh)
            self._indexed.update(fresh)
        if self._written:
            self.backend.clear()
            # After, not before: clearing writes too (its deletes), and a clear that fails
            # half-way leaves the table marked.
            self._written = False

    def close(self) -> None:
        """Stop the embedded server, if one was started."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._backend = None


@hookimpl
def restmachine_orm_testing_drivers() -> Mapping[str, DriverFactory]:
    """Register the DynamoDB driver."""
    return {"dynamodb": DynamoDBDriver}
