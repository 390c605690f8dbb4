"""``AiohttpSender``: the async transport, on aiohttp (the ``async`` extra of this package).

Why aiohttp: measured against httpx on a local keep-alive server, sending the same signed
GetItem one request at a time, aiohttp cost 0.13 ms of CPU per request and httpx 0.85 ms
(urllib3, for the sync path: 0.19 ms); the whole async GetItem costs a third of boto3's.
aiohttp is imported on first use: installs without the extra never load it, and an async
call without it raises ``ImportError`` naming the pip command.

Lifecycle. An aiohttp session belongs to the event loop it was opened on, so the sender
keeps one session per loop, opened on first use in that loop. It is closed by
``aclose()`` (``async with backend`` or ``await backend.aclose()``), or else when the
loop's owner shuts it down as ``asyncio.run`` and ``asyncio.Runner`` do
(``loop.shutdown_asyncgens()``): a small async generator started on that loop beside the
session closes it then. A loop closed without that shutdown strands its connections
(asyncio itself then warns of unclosed transports); the sender forgets that session and
opens a new one on the next loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import ssl
from collections.abc import AsyncGenerator, Callable
from typing import Any

from ._flow import HttpRequest, HttpResponse, TransportError
from ._http_settings import HttpSettings

__all__ = ["INSTALL", "AiohttpSender"]

#: The line that installs what the async API of this package needs.
INSTALL = 'pip install "restmachine-orm-dynamodb[async]"'
#: Connections the async sender may open at once: enough that 32 requests in flight on one
#: loop never wait for a connection.
MIN_CONNECTIONS = 64


def _aiohttp() -> Any:
    """The ``aiohttp`` module, or an ``ImportError`` saying how to install it."""
    try:
        # Imported by name: type checkers of installs without the extra need not find it.
        return importlib.import_module("aiohttp")
    except ModuleNotFoundError as missing:
        raise ImportError(
            "the async API of restmachine-orm-dynamodb (acreate, aget, ...) sends its requests "
            f"with aiohttp, which is not installed ({missing}); install it with:\n{INSTALL}",
            name="aiohttp",
        ) from missing


class _Opened:
    """A session on one loop, and the async generator that closes it at the loop's shutdown."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        session: Any,  # an aiohttp.ClientSession (aiohttp is imported on first use only)
        forget: Callable[[_Opened], None],
    ) -> None:
        self.loop, self.session, self.abandoned = loop, session, False
        self._forget = forget
        self.keeper = self._keep()

    async def _keep(self) -> AsyncGenerator[None, None]:
        """Suspended until the loop shuts its async generators down, then closes the session."""
        try:
            yield
        finally:
            self._forget(self)
            if not self.abandoned:  # an abandoned one's loop is closed: nothing can run on it
                await self.session.close()

    def abandon(self) -> None:
        """Forget a session whose loop closed without shutting down: end its keeper, no I/O."""
        self.abandoned = True
        closing = self.keeper.aclose()
        with contextlib.suppress(StopIteration):
            closing.send(None)  # runs the keeper's ``finally``, which awaits nothing now


class AiohttpSender:
    """Sends requests with aiohttp, one session per event loop; closed by ``aclose()``."""

    def __init__(self, settings: HttpSettings) -> None:
        """Prepare; sessions open on first use in each loop.

        Raises:
            ImportError: aiohttp is not installed (the message names the pip command).
        """
        self._aiohttp = _aiohttp()
        self.settings = settings
        self._opened: dict[asyncio.AbstractEventLoop, _Opened] = {}
        # (loop, session) of the last use, read in one step: the hot path's only lookup.
        self._last: tuple[asyncio.AbstractEventLoop | None, Any] = (None, None)
        self._errors = (self._aiohttp.ClientError, asyncio.TimeoutError, OSError)
        self._proxy = settings.proxy
        self._proxy_headers = dict(settings.proxy_headers) or None
        self._ssl: ssl.SSLContext | bool | None = None

    def __repr__(self) -> str:
        return f"AiohttpSender(endpoint={self.settings.endpoint!r}, sessions={self.sessions})"

    @property
    def sessions(self) -> int:
        """How many event loops have a session of this sender open."""
        return len(self._opened)

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` and return the answer, read whole.

        Raises:
            TransportError: No whole answer came (refused, reset, timed out, cut short).
        """
        loop = asyncio.get_running_loop()
        last_loop, session = self._last
        if last_loop is not loop:
            session = await self._session(loop)
        try:
            async with session.request(
                request.method,
                request.url,
                data=request.body,
                headers=request.headers,
                proxy=self._proxy,
                proxy_headers=self._proxy_headers,
            ) as answer:
                body = await answer.read()
                headers = {name.lower(): value for name, value in answer.headers.items()}
                return HttpResponse(answer.status, headers, body)
        except self._errors as error:
            raise TransportError(
                f"no answer from {self.settings.endpoint} to {request.operation}: "
                f"{type(error).__name__}: {error}",
                unsent=isinstance(error, self._aiohttp.ClientConnectorError),
            ) from error

    async def _session(self, loop: asyncio.AbstractEventLoop) -> Any:
        """The session of ``loop``, opened now if it has none."""
        self._forget_closed_loops()
        opened = self._opened.get(loop)
        if opened is None:
            opened = self._opened[loop] = _Opened(loop, self._new_session(), self._forget)
            await opened.keeper.__anext__()  # started here, so this loop shuts it down
        self._last = (loop, opened.session)
        return opened.session

    def _new_session(self) -> Any:
        aiohttp, settings = self._aiohttp, self.settings
        if self._ssl is None:
            self._ssl = settings.ssl_context() or False
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=max(MIN_CONNECTIONS, settings.max_pool_connections),
                ssl=self._ssl,
                keepalive_timeout=60.0,
            ),
            timeout=aiohttp.ClientTimeout(
                total=None,
                sock_connect=settings.connect_timeout,
                sock_read=settings.read_timeout,
            ),
            cookie_jar=aiohttp.DummyCookieJar(),  # DynamoDB sets no cookies: skip the work
            auto_decompress=False,
            trust_env=False,  # the proxy was resolved from the environment already
        )

    def _forget(self, opened: _Opened) -> None:
        if self._opened.get(opened.loop) is opened:
            del self._opened[opened.loop]
        if self._last[1] is opened.session:
            self._last = (None, None)

    def _forget_closed_loops(self) -> None:
        """Forget the sessions of loops closed without shutting down (nothing can close them)."""
        # list() copies at once: loops in other threads may add or drop theirs meanwhile.
        for opened in [o for o in list(self._opened.values()) if o.loop.is_closed()]:
            opened.abandon()

    async def aclose(self) -> None:
        """Close the session of the running loop (if it has one); a later request opens another."""
        self._forget_closed_loops()
        opened = self._opened.get(asyncio.get_running_loop())
        if opened is not None:
            await opened.keeper.aclose()  # forgets and closes the session
