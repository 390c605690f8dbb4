"""``BlockingSender``: the sync transport, on the standard library's ``http.client``.

Why ``http.client`` and not urllib3, which botocore runs on and this sender first used:
measured on dynalite, a whole ORM ``get`` cost 0.23 ms of client CPU through urllib3's
connection classes and 0.16 ms through ``http.client``'s, a GetItem-and-DeleteItem pair
0.46 ms and 0.34 ms. urllib3 (2.x) sends the headers and the body in two writes (two
system calls, and a second segment that Nagle's algorithm may hold back) and wraps every
answer in its own response object; ``http.client`` writes a request whose body is bytes in
one call and reads the answer as it comes. With one host, no redirects and no retries
(trying again is the protocol's job) nothing of urllib3's pool is needed on the direct
path. Through a proxy (CONNECT tunnels, proxy authentication) urllib3's ``ProxyManager``
carries the request whole: that path is rare and urllib3 does it right.
"""

from __future__ import annotations

import http.client
import select
import socket
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3.util import Timeout

from ._flow import HttpRequest, HttpResponse, TransportError
from ._http_settings import HttpSettings

__all__ = ["BlockingSender"]

_FAILURES = (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)


class BlockingSender:
    """Sends requests to one endpoint over kept-alive connections; thread-safe."""

    def __init__(self, settings: HttpSettings) -> None:
        """Prepare; connections open on first use."""
        self.settings = settings
        parts = urlsplit(settings.endpoint)
        self._https = parts.scheme.lower() == "https"
        self._address = (parts.hostname or "", parts.port or (443 if self._https else 80))
        self._tls = settings.ssl_context() if self._https else None
        # Idle connections, last used first; list.append and list.pop are atomic.
        self._idle: list[http.client.HTTPConnection] = []
        self._paths: dict[str, str] = {}
        self._proxy: urllib3.ProxyManager | None = None
        if settings.proxy:
            self._proxy = urllib3.ProxyManager(
                settings.proxy,
                proxy_headers=dict(settings.proxy_headers),
                timeout=Timeout(connect=settings.connect_timeout, read=settings.read_timeout),
                maxsize=settings.max_pool_connections,
                retries=False,
                ssl_context=self._tls,
                socket_options=self._socket_options(),
            )

    def __repr__(self) -> str:
        return f"BlockingSender(endpoint={self.settings.endpoint!r})"

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
        if connection.sock is None:
            try:
                self._connect(connection)
            except _FAILURES as error:
                connection.close()
                raise self._lost(request, error, unsent=True) from error
        try:
            # A ``bytes`` body goes out with the headers, in one write.
            connection.request(request.method, path, body=request.body, headers=request.headers)
            answer = connection.getresponse()
            body = answer.read()
        except _FAILURES as error:
            connection.close()
            raise self._lost(request, error) from error
        headers = {name.lower(): value for name, value in answer.getheaders()}
        if (
            answer.version < 11
            or headers.get("connection", "").lower() == "close"
            or len(self._idle) >= self.settings.max_pool_connections
        ):
            connection.close()
        else:
            self._idle.append(connection)
        return HttpResponse(answer.status, headers, body)

    def _connection(self) -> http.client.HTTPConnection:
        """An idle connection still open, else a new one (not connected yet)."""
        while True:
            try:
                connection = self._idle.pop()
            except IndexError:
                host, port = self._address
                if self._https:
                    return http.client.HTTPSConnection(host, port, context=self._tls)
                return http.client.HTTPConnection(host, port)
            if not _dropped(connection):
                return connection
            connection.close()  # the server closed it while it was idle

    def _connect(self, connection: http.client.HTTPConnection) -> None:
        """Connect within the connect timeout; every later wait gets the read timeout."""
        connection.timeout = self.settings.connect_timeout
        connection.connect()
        sock: socket.socket = connection.sock
        for level, option, value in self._socket_options():
            sock.setsockopt(level, option, value)
        sock.settimeout(self.settings.read_timeout)

    def _socket_options(self) -> list[tuple[int, int, int]]:
        # No Nagle delay: a body larger than one segment must not wait for an ACK.
        options = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        if self.settings.tcp_keepalive:
            options.append((socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1))
        return options

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
            unsent = isinstance(error, urllib3.exceptions.NewConnectionError)
            raise self._lost(request, error, unsent=unsent) from error
        headers = {name.lower(): value for name, value in answer.headers.items()}
        return HttpResponse(answer.status, headers, answer.data)

    def _lost(
        self, request: HttpRequest, error: BaseException, *, unsent: bool = False
    ) -> TransportError:
        return TransportError(
            f"no answer from {self.settings.endpoint} to {request.operation}: "
            f"{type(error).__name__}: {error}",
            unsent=unsent,
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


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle kept-alive connection was closed by the server (or never opened).

    An idle connection has nothing to read: if it is readable, the server hung up (or sent
    something unasked), and it cannot carry a request.
    """
    sock: Any = connection.sock
    if sock is None:
        return False  # not connected yet: ``send`` connects it
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))
