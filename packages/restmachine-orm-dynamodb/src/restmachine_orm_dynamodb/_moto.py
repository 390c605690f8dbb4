"""An embedded moto server for tests: loopback, free port, quiet, one request at a time.

Everything this package knows of moto's insides is in this module: the werkzeug app the
server runs, and the in-memory tables it keeps (``dynamodb_backends``,
``get_account_id_from``), which the test driver empties without a request. moto does not
promise to keep them; when an upgrade moves them, ``MotoInternalsChanged`` names the moto
version and what moved, and this package's own tests fail with it.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["EmbeddedMoto", "MotoInternalsChanged", "moto_internal"]


class MotoInternalsChanged(RuntimeError):
    """The installed moto no longer has a private name this module relies on."""


def moto_internal(module: str, name: str) -> Any:
    """Return ``module.name`` from moto's private insides.

    Raises:
        MotoInternalsChanged: This moto does not have it (an upgrade moved it).
    """
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith("moto"):
            raise  # a package moto needs is missing: an install problem, not an upgrade
        raise MotoInternalsChanged(_moved(f"{module}.{name}", error)) from error
    except (ImportError, AttributeError) as error:
        raise MotoInternalsChanged(_moved(f"{module}.{name}", error)) from error


def _moved(what: str, error: BaseException) -> str:
    """The message telling which moto upgrade broke what, and what to do."""
    try:
        version = importlib.import_module("moto").__version__
    except (ImportError, AttributeError):
        version = "(unknown version)"
    return (
        f"moto {version} changed the private internals restmachine_orm_dynamodb._moto relies "
        f"on: {what} ({type(error).__name__}: {error}). This moto upgrade needs _moto.py "
        "updated; meanwhile the test driver empties tables by request, which is slower"
    )


class EmbeddedMoto:
    """moto's DynamoDB on ``127.0.0.1`` in a background thread of this process.

    The server is single-threaded on purpose: DynamoDB applies each request atomically,
    and moto's threaded server can interleave two writes to one item, which would make
    race tests pass or fail for the wrong reason.
    """

    def __init__(self) -> None:
        """Prepare the server; ``start`` runs it."""
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """The server's URL (after ``start``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        """Start serving on a free loopback port and return the endpoint URL.

        Raises:
            ModuleNotFoundError: moto (or werkzeug) is not installed.
            MotoInternalsChanged: moto is installed but its server app moved.
        """
        app_module = "moto.moto_server.werkzeug_app"
        try:
            importlib.import_module("moto")
            from werkzeug.serving import make_server

            dispatcher = moto_internal(app_module, "DomainDispatcherApplication")
            handler = moto_internal(app_module, "MotoRequestHandler")
            create_backend_app = moto_internal(app_module, "create_backend_app")
        except ModuleNotFoundError as missing:
            raise ModuleNotFoundError(
                f"the embedded DynamoDB server needs moto[server] ({missing}); install it with "
                'pip install "restmachine-orm[dynamodb,testing]", or point '
                "RESTMACHINE_ORM_DYNAMODB_ENDPOINT at a running server"
            ) from missing

        class QuietHandler(handler):  # type: ignore[misc,valid-type]
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                """Keep test output clean: one line per request is noise."""

        self._server = make_server(
            "127.0.0.1",
            0,
            dispatcher(create_backend_app),
            threaded=False,
            request_handler=QuietHandler,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="restmachine-orm-moto", daemon=True
        )
        self._thread.start()
        return self.endpoint

    def delete_items_in_memory(
        self, table: str, keys: Sequence[dict[str, Any]], access_key: str, region: str
    ) -> None:
        """Delete items straight from the server's memory, without a request.

        Emptying a test table this way takes microseconds where one request to moto takes
        milliseconds. It goes through moto's own backend (which the server runs in this
        process), for the account moto gives ``access_key``.

        Raises:
            MotoInternalsChanged: This moto keeps its tables elsewhere or otherwise.
        """
        backends = moto_internal("moto.dynamodb.models", "dynamodb_backends")
        account_of = moto_internal("moto.iam.models", "get_account_id_from")
        try:
            tables = backends[account_of(access_key)][region]
            for key in keys:
                tables.delete_item(table, key)
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            what = "dynamodb_backends[account][region].delete_item(table, key)"
            raise MotoInternalsChanged(_moved(what, error)) from error

    def delete_items(
        self, table: str, keys: Sequence[dict[str, Any]], access_key: str, region: str
    ) -> bool:
        """``delete_items_in_memory``, for the driver: ``False`` if moto's insides moved.

        Returns:
            ``False`` when this moto does not keep its tables as expected: then the keys
            are not all deleted, and a request must delete them.
        """
        try:
            self.delete_items_in_memory(table, keys, access_key, region)
        except MotoInternalsChanged:
            return False  # users keep working; this package's tests fail on it loudly
        return True

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
