"""A detector of blocking network calls made on a running event loop's thread.

A call blocks the loop when it waits on the network in the thread the loop runs in: name
resolution (asyncio resolves in a worker thread), or a connect, send or receive on a socket
in blocking mode (asyncio's transports put theirs in non-blocking mode). So the detector
asks, at each such call: does this thread have a running event loop, and would the call
wait? Calls in worker threads (a sync-only backend served by ``asyncio.to_thread``) and on
non-blocking sockets pass.

Two sources report the calls, because neither sees them all: Python's audit hooks
(``socket.getaddrinfo``, ``socket.connect`` and the like, wherever they come from) and the
``send``/``recv`` family of ``socket.socket`` and ``ssl.SSLSocket``, wrapped while a guard
is active, which catch a request on a pooled connection that was opened earlier, off the
loop (no audit event covers sending or receiving).
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["BlockingCallError", "forbid_blocking_io"]

# Audit events that wait on the network whatever the socket: name lookups.
_LOOKUPS = frozenset(
    {
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
    }
)
# Audit events whose first argument is the socket: they wait only if it is blocking.
_SOCKET_EVENTS = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})
# Methods that wait on a blocking socket and raise no audit event of their own.
_WRAPPED: dict[type[Any], tuple[str, ...]] = {
    socket.socket: ("send", "sendall", "recv", "recv_into", "recvfrom", "recvfrom_into"),
    ssl.SSLSocket: ("send", "sendall", "recv", "recv_into", "read", "write"),
}
# Frames of this module, the socket machinery and the event loop, left out of a report's
# stack: what is left is the code that made the call.
_OWN_FILES = (__file__, socket.__file__, ssl.__file__, threading.__file__)
_LOOP_FILES = os.path.dirname(asyncio.__file__) + os.sep


class BlockingCallError(AssertionError):
    """Code on the async path waited on the network in the event loop's own thread."""


class _Guards:
    """The active guards, and the hooks that report to them (installed on first use)."""

    def __init__(self) -> None:
        self.active: list[list[str]] = []
        self.lock = threading.Lock()
        self.audit_hook_installed = False
        self.originals: dict[tuple[type[Any], str], Any] = {}

    def report(self, call: str) -> None:
        """Record a call on the loop's thread with every active guard, with its stack."""
        stack = [
            frame
            for frame in traceback.extract_stack()[:-2]
            if frame.filename not in _OWN_FILES and not frame.filename.startswith(_LOOP_FILES)
        ][-8:]
        where = "".join(traceback.format_list(stack)).rstrip()
        thread = threading.current_thread().name
        message = f"{call} on thread {thread!r}, whose event loop was running; called from:\n"
        for records in list(self.active):
            records.append(message + where)

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active:
            return
        if event in _LOOKUPS:
            if _loop_running():
                self.report(f"{event}{args[:2]!r}")
        elif event in _SOCKET_EVENTS and _loop_running() and _blocking(args[0]):
            self.report(f"{event}({args[1]!r}) on a blocking socket")

    def enter(self, records: list[str]) -> None:
        with self.lock:
            if not self.audit_hook_installed:
                sys.addaudithook(self.audit)  # for good: audit hooks cannot be removed
                self.audit_hook_installed = True
            if not self.active:
                self._wrap_methods()
            self.active.append(records)

    def leave(self, records: list[str]) -> None:
        with self.lock:
            self.active.remove(records)
            if not self.active:
                self._unwrap_methods()

    def _wrap_methods(self) -> None:
        for cls, names in _WRAPPED.items():
            for name in names:
                self.originals[cls, name] = cls.__dict__.get(name)
                setattr(cls, name, _watched(getattr(cls, name), f"{cls.__name__}.{name}", self))

    def _unwrap_methods(self) -> None:
        for (cls, name), original in self.originals.items():
            if original is None:
                delattr(cls, name)  # it was inherited: uncover the base class's again
            else:
                setattr(cls, name, original)
        self.originals.clear()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _blocking(sock: Any) -> bool:
    """Whether a socket waits (blocking mode, or a timeout) rather than failing at once."""
    try:
        return bool(sock.gettimeout() != 0.0)
    except (AttributeError, OSError):
        return False


def _watched(method: Callable[..., Any], name: str, guards: _Guards) -> Callable[..., Any]:
    def watched(sock: Any, *args: Any, **kwargs: Any) -> Any:
        if guards.active and _loop_running() and _blocking(sock):
            guards.report(f"{name}() on a blocking socket")
        return method(sock, *args, **kwargs)

    watched.__name__ = method.__name__
    watched.__doc__ = method.__doc__
    return watched


_GUARDS = _Guards()


@contextmanager
def forbid_blocking_io() -> Iterator[None]:
    """Fail if, inside the block, a blocking network call is made on an event loop's thread.

    Every thread is watched, the block's own and any other (an event loop in a thread of
    its own, the workers of ``asyncio.to_thread``), but only calls made in a thread whose
    event loop is running count: name lookups, and connects, sends and receives on
    blocking sockets. The calls go ahead; at the end of the block the first few are
    reported with where they came from.

    Raises:
        BlockingCallError: At the end of the block, if any such call was made.
    """
    records: list[str] = []
    _GUARDS.enter(records)
    try:
        yield
    finally:
        _GUARDS.leave(records)
        if records:
            shown = "\n\n".join(records[:3])
            more = f"\n\n(and {len(records) - 3} more)" if len(records) > 3 else ""
            raise BlockingCallError(
                f"{len(records)} blocking network call(s) on a running event loop's thread: "
                f"the async path must never wait on I/O there.\n\n{shown}{more}"
            )
