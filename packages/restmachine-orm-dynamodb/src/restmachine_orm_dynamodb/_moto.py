"""An embedded moto server for tests: loopback, free port, quiet, one request at a time."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["EmbeddedMoto"]


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
        """Start serving on a free loopback port and return the endpoint URL."""
        try:
            from moto.moto_server.werkzeug_app import (
                DomainDispatcherApplication,
                MotoRequestHandler,
                create_backend_app,
            )
            from werkzeug.serving import make_server
        except ImportError as missing:
            raise ModuleNotFoundError(
                f"the embedded DynamoDB server needs moto ({missing}); install it with "
                'pip install "restmachine-orm[dynamodb,testing]", or point '
                "RESTMACHINE_ORM_DYNAMODB_ENDPOINT at a running server"
            ) from missing

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                """Keep test output clean: one line per request is noise."""

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            "127.0.0.1", 0, app, threaded=False, request_handler=QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="restmachine-orm-moto", daemon=True
        )
        self._thread.start()
        return self.endpoint

    def delete_items(
        self, table: str, keys: Sequence[dict[str, Any]], access_key: str, region: str
    ) -> bool:
        """Delete items straight from the server's memory, without a request.

        Emptying a test table this way takes microseconds where one request to moto takes
        milliseconds. It goes through moto's own backend (which the server runs in this
        process), for the account moto gives ``access_key``.

        Returns:
            ``False`` when this moto does not keep its tables as expected: then the keys
            are not all deleted, and a request must delete them.
        """
        try:
            from moto.dynamodb.models import dynamodb_backends
            from moto.iam.models import get_account_id_from

            tables = dynamodb_backends[get_account_id_from(access_key)][region]
            for key in keys:
                tables.delete_item(table, key)
        except (ImportError, AttributeError, KeyError, TypeError, ValueError):
            return False
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
