"""Flows: the backend's logic as generators that say what I/O they need, and two runners.

Every operation of the backend (a create with its claims, a paged query, a batch with its
leftovers, a retried request) is written once, as a generator function. It never touches
the network or the clock itself: it *yields* a step saying what it needs and is sent back
the outcome (sans-IO):

- ``HttpRequest`` → the ``HttpResponse`` (or ``TransportError`` thrown in, when none came);
- ``Pause`` → ``None`` once the time has passed;
- ``Blocking`` → the return value of a function that may block (e.g. refreshing
  credentials through botocore), run in a worker thread by the async runner.

``run`` drives a flow with a blocking sender and ``time.sleep``; ``arun`` with an async
sender and ``asyncio.sleep``. They are the only two places where sync and async differ,
which is why there is one copy of the logic (see the design notes, "one codebase").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

__all__ = [
    "AsyncSender",
    "Blocking",
    "Flow",
    "HttpRequest",
    "HttpResponse",
    "Pause",
    "Step",
    "SyncSender",
    "TransportError",
    "arun",
    "run",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One signed HTTP request, ready to send.

    Attributes:
        operation: The DynamoDB operation it carries (for messages and observers).
        url: Where to send it.
        headers: Its headers, signature included (never logged or shown: see ``__repr__``).
        body: Its body, the JSON document.
    """

    operation: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    method: str = "POST"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """The answer to one ``HttpRequest``.

    Attributes:
        status: The HTTP status code.
        headers: The response headers (names lower-cased).
        body: The response body.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Pause:
    """Wait this many seconds before going on (a backoff)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Blocking:
    """Call ``function`` and send back what it returns; it may block (never on the loop)."""

    function: Callable[[], Any]


class TransportError(Exception):
    """No HTTP answer came back (connection refused or reset, timeout); cause kept.

    Thrown into a flow at the ``HttpRequest`` step that failed, so the protocol can decide
    whether to try again.
    """


Step = HttpRequest | Pause | Blocking
#: A generator yielding steps and returning a ``T`` (``Flow[T]``).
Flow = Generator[Step, Any, T]


class SyncSender(Protocol):
    """Sends one request and waits for its answer (the sync transport)."""

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request``; raise ``TransportError`` when no answer came."""
        ...


class AsyncSender(Protocol):
    """Sends one request and awaits its answer (the async transport)."""

    def send(self, request: HttpRequest) -> Awaitable[HttpResponse]:
        """Send ``request``; raise ``TransportError`` when no answer came."""
        ...


def run(flow: Flow[T], sender: SyncSender) -> T:
    """Drive ``flow`` to its end, blocking: requests through ``sender``, pauses by sleeping."""
    step = _resume(flow, None, None)
    while type(step) is not _Done:
        try:
            outcome, failure = _do(step, sender), None
        except TransportError as error:
            outcome, failure = None, error
        step = _resume(flow, outcome, failure)
    return step.value  # type: ignore[no-any-return]


async def arun(flow: Flow[T], sender: AsyncSender) -> T:
    """Drive ``flow`` to its end on the running event loop; blocking steps go to a thread."""
    step = _resume(flow, None, None)
    while type(step) is not _Done:
        try:
            outcome, failure = await _ado(step, sender), None
        except TransportError as error:
            outcome, failure = None, error
        step = _resume(flow, outcome, failure)
    return step.value  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class _Done:
    """What a flow returned."""

    value: Any


def _resume(flow: Flow[Any], outcome: Any, failure: TransportError | None) -> Step | _Done:
    """Give the flow the outcome of its last step; its next step, or what it returned."""
    try:
        return flow.send(outcome) if failure is None else flow.throw(failure)
    except StopIteration as end:
        return _Done(end.value)


def _do(step: Step | _Done, sender: SyncSender) -> Any:
    # The hot path first, tested by exact type.
    if type(step) is HttpRequest:
        return sender.send(step)
    if type(step) is Pause:
        if step.seconds > 0:
            time.sleep(step.seconds)
        return None
    if type(step) is Blocking:
        return step.function()
    raise TypeError(f"a flow yielded {step!r}, which is not a step")


async def _ado(step: Step | _Done, sender: AsyncSender) -> Any:
    if type(step) is HttpRequest:
        return await sender.send(step)
    if type(step) is Pause:
        await asyncio.sleep(step.seconds)
        return None
    if type(step) is Blocking:
        return await asyncio.to_thread(step.function)
    raise TypeError(f"a flow yielded {step!r}, which is not a step")
