"""The DynamoDB driver of restmachine-orm-testing, loaded only through its entry point.

The endpoint comes from ``RESTMACHINE_ORM_DYNAMODB_ENDPOINT``; when it is unset, an embedded
moto server starts on first use and stops at the end of the session. Each pytest-xdist
worker uses its own table, emptied before every test that follows a write.

The driver reads every write its backend sends (``_written``, an interceptor), so emptying
the table means deleting the items those writes created: one request per 25 of them, none after
a test that only reads. The embedded server's items are deleted in its memory, without a
request. A test that writes to the driver's table through a client of its own must empty
it itself.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from restmachine_orm import Backend, Model
from restmachine_orm_testing import DriverInterface, hookimpl
from restmachine_orm_testing.hooks import DriverFactory

from ._features import FEATURES
from ._moto import EmbeddedMoto
from ._written import WrittenItems

if TYPE_CHECKING:
    from ._keys import Address
    from .backend import DynamoDBBackend

__all__ = ["ENV_ENDPOINT", "DynamoDBDriver", "restmachine_orm_testing_drivers"]

#: Environment variable naming the DynamoDB endpoint tests use (unset: embedded moto).
ENV_ENDPOINT = "RESTMACHINE_ORM_DYNAMODB_ENDPOINT"
_REGION = "us-east-1"
# Local servers take any alphanumeric credentials; these live on the driver's client only.
_ACCESS_KEY = "restmachineormtest"


class DynamoDBDriver(DriverInterface):
    """Drives a ``DynamoDBBackend`` on a per-worker table of a local or given endpoint."""

    def __init__(self, endpoint: str | None = None) -> None:
        """Remember where to connect; nothing starts until the backend is first used."""
        self._endpoint = endpoint or os.environ.get(ENV_ENDPOINT) or None
        self._server: EmbeddedMoto | None = None
        self._backend: DynamoDBBackend | None = None
        self._connected: DynamoDBBackend | None = None  # the backend made on the endpoint
        self._indexed: set[type[Model]] = set()
        self._written: WrittenItems | None = None

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
            aws_access_key_id=_ACCESS_KEY,
            aws_secret_access_key=_ACCESS_KEY,
            config=DEFAULT_CONFIG,
        )
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        backend = DynamoDBBackend(f"restmachine-orm-test-{worker}", client=client)
        backend.create_table()
        self._watch(backend)
        self._connected = backend
        return backend

    def _watch(self, backend: DynamoDBBackend) -> None:
        """Read every write the backend sends (one of its interceptors)."""
        # What the table held before is not known: the first reset scans it.
        self._written = WrittenItems(backend.table_name, backend.keys)
        backend.interceptors.append(self._written.note)

    def reset(self, models: Sequence[type[Model]]) -> None:
        """Empty this worker's table: delete what was written since, scan only if unsure.

        The models' secondary indexes are added the first time a model is seen.
        """
        fresh = [model for model in models if model not in self._indexed]
        if fresh:
            self.backend.ensure_indexes(fresh)
            self._indexed.update(fresh)
        backend = self.backend
        assert self._written is not None  # set up with the backend
        addresses, unknown = self._written.take()
        if unknown:
            backend.clear()
        elif addresses and not self._delete_in_server(backend, addresses):
            from ._batch import delete_items  # here: it brings botocore, most runs never do
            from ._flow import run

            # The backend's own table and sender: this driver is part of the package.
            run(delete_items(backend._table, addresses), backend._sender)

    def _delete_in_server(self, backend: DynamoDBBackend, addresses: set[Address]) -> bool:
        """Delete from the embedded server's memory, if this driver runs one for its table."""
        if self._server is None or backend is not self._connected:
            return False
        item_keys = [backend.keys.key_at(address) for address in addresses]
        return self._server.delete_items(backend.table_name, item_keys, _ACCESS_KEY, _REGION)

    def close(self) -> None:
        """Close the backend this driver made, and stop the embedded server, if any."""
        if self._connected is not None:
            self._connected.close()
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._backend = self._connected = None


@hookimpl
def restmachine_orm_testing_drivers() -> Mapping[str, DriverFactory]:
    """Register the DynamoDB driver."""
    return {"dynamodb": DynamoDBDriver}
