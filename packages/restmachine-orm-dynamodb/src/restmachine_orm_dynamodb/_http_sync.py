"""``UrllibSender``: the blocking transport, on urllib3 (which botocore itself runs on).

It keeps its own small pool of urllib3 connections to the one endpoint rather than going
through ``HTTPConnectionPool.urlopen``: with one host, no redirects and no retries (trying
again is the protocol's job), what ``urlopen`` adds around a connection's ``request`` and
``getresponse`` cost 37 µs of CPU a request when measured, a fifth of the whole send.
urllib3 still does the HTTP and TLS work. Through a proxy, urllib3's ``ProxyManager``
carries the request whole.
"""

from __future__ import annotations

import http.client
import socket
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util import Timeout
from urllib3.util.connection import is_connection_dropped

from ._flow import HttpRequest, HttpResponse, TransportError
from ._http_settings import HttpSettings

__all__ = ["UrllibSender"]

_FAILURES = (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)


class UrllibSender:
    """Sends requests to one endpoint over kept-alive urllib3 connections; thread-safe."""

    def __init__(self, settings: HttpSettings) -> None:
        """Prepare; connections open on first use."""
        self.settings = settings
        parts = urlsplit(settings.endpoint)
        https = parts.scheme.lower() == "https"
        self._connection_class = HTTPSConnection if https else HTTPConnection
        self._address = (parts.hostname or "", parts.port or (443 if https else 80))
        socket_options = list(HTTPConnection.default_socket_options)
        if settings.tcp_keepalive:
            socket_options.append((socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1))
        self._options: dict[str, Any] = {"socket_options": socket_options}
        if https:
            self._options["ssl_context"] = settings.ssl_context()
        # Idle connections, last used first; list.append and list.pop are atomic.
        self._idle: list[HTTPConnection] = []
        self._paths: dict[str, str] = {}
        self._proxy: urllib3.ProxyManager | None = None
        if settings.proxy:
            self._proxy = urllib3.ProxyManager(
                settings.proxy,
                proxy_headers=dict(settings.proxy_headers),
                timeout=Timeout(connect=settings.connect_timeout, read=settings.read_timeout),
                maxsize=settings.max_pool_connections,
                retries=False,
                **self._options,
            )

    def __repr__(self) -> str:
        return f"UrllibSender(endpoint={self.settings.endpoint!r})"

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` and return the answer, read whole.

        Raises:
            TransportError: No whole answer came (refused, reset, timed out, cut short).
        """
        if self._proxy is not None:
            return self._through_proxy(request)
        path = self._paths.get(request.url)
        if path is None:
            path = self._paths[request.url] = urlsplit(request.url).path or "/"
        connection = self._connection()
        try:
            if connection.sock is None:
                self._connect(connection)
            connection.request(request.method, path, body=request.body, headers=request.headers)
            answer = connection.getresponse()
            body = answer.data
        except _FAILURES as error:
            connection.close()
            raise self._lost(request, error) from error
        headers = {name.lower(): value for name, value in answer.headers.items()}
        if (
            answer.version < 11
            or headers.get("connection", "").lower() == "close"
            or len(self._idle) >= self.settings.max_pool_connections
        ):
            connection.close()
        else:
            self._idle.append(connection)
        return HttpResponse(answer.status, headers, body)

    def _connection(self) -> HTTPConnection:
        """An idle connection still open, else a new one (not connected yet)."""
        while True:
            try:
                connection = self._idle.pop()
            except IndexError:
                return self._connection_class(*self._address, **self._options)
            if not is_connection_dropped(connection):
                return connection
            connection.close()  # the server closed it while it was idle

    def _connect(self, connection: HTTPConnection) -> None:
        """Connect within the connect timeout; every later wait gets the read timeout."""
        connection.timeout = self.settings.connect_timeout
        connection.connect()
        connection.timeout = self.settings.read_timeout
        if connection.sock is not None:
            connection.sock.settimeout(connection.timeout)

    def _through_proxy(self, request: HttpRequest) -> HttpResponse:
        assert self._proxy is not None
        try:
            answer = self._proxy.urlopen(
                request.method,
                request.url,
                body=request.body,
                headers=request.headers,
                redirect=False,
                preload_content=True,
            )
        except _FAILURES as error:
            raise self._lost(request, error) from error
        headers = {name.lower(): value for name, value in answer.headers.items()}
        return HttpResponse(answer.status, headers, answer.data)

    def _lost(self, request: HttpRequest, error: BaseException) -> TransportError:
        return TransportError(
            f"no answer from {self.settings.endpoint} to {request.operation}: "
            f"{type(error).__name__}: {error}"
        )

    def close(self) -> None:
        """Close the idle connections; a later request opens new ones."""
        while self._idle:
            try:
                self._idle.pop().close()
            except IndexError:  # another thread took the last one
                break
        if self._proxy is not None:
            self._proxy.clear()
