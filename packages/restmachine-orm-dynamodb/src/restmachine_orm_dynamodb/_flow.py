"""Flows: the backend's logic as generators that say what I/O they need, and two runners.

Every operation of the backend (a create with its claims, a paged query, a batch with its
leftovers, a retried request) is written once, as a generator function. It never touches
the network or the clock itself: it *yields* a step saying what it needs and is sent back
the outcome (sans-IO):

- ``HttpRequest`` → the ``HttpResponse`` (or ``TransportError`` thrown in, when none came);
- ``Pause`` → ``None`` once the time has passed;
- ``Blocking`` → the return value of a function that may block (e.g. refreshing
  credentials through botocore), run in a worker thread by the async runner;
- ``Together`` → what each of several flows returned (or raised), run at the same time:
  the sync runner on a few threads, the async one as tasks on the loop.

``run`` drives a flow with a blocking sender and ``time.sleep``; ``arun`` with an async
sender and ``asyncio.sleep``. They are the only two places where sync and async differ,
which is why there is one copy of the logic (see the design notes, "one codebase").
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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
    "Together",
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

    Attributes:
        unsent: The request surely never reached the server (no connection was made);
            otherwise it may have been applied, its answer lost.
    """

    def __init__(self, message: str, *, unsent: bool = False) -> None:
        """Say what happened; ``unsent`` when no connection was made."""
        super().__init__(message)
        self.unsent = unsent


#: A generator yielding steps and returning a ``T`` (``Flow[T]``).
Flow = Generator["Step", Any, T]


@dataclass(frozen=True, slots=True)
class Together:
    """Run ``flows`` at the same time, at most ``limit`` at once.

    Sends back a list, in the order of ``flows``, of what each returned or the ``Exception``
    it raised: one failing flow stops no other, and the caller decides what a failure means.
    """

    flows: Sequence[Flow[Any]]
    limit: int


Step = HttpRequest | Pause | Blocking | Together


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
    if type(step) is Together:
        return _together(step, sender)
    raise TypeError(f"a flow yielded {step!r}, which is not a step")


async def _ado(step: Step | _Done, sender: AsyncSender) -> Any:
    if type(step) is HttpRequest:
        return await sender.send(step)
    if type(step) is Pause:
        await asyncio.sleep(step.seconds)
        return None
    if type(step) is Blocking:
        return await asyncio.to_thread(step.function)
    if type(step) is Together:
        return await _atogether(step, sender)
    raise TypeError(f"a flow yielded {step!r}, which is not a step")


def _outcome(flow: Flow[T], sender: SyncSender) -> T | Exception:
    try:
        return run(flow, sender)
    except Exception as error:  # sent back to the flow that asked: it decides
        return error


def _together(step: Together, sender: SyncSender) -> list[Any]:
    """The sync ``Together``: the flows on up to ``limit`` threads (the sender is thread-safe)."""
    if len(step.flows) <= 1 or step.limit <= 1:
        return [_outcome(flow, sender) for flow in step.flows]
    # Each thread runs in a copy of the caller's context, as a task would: what marks the
    # caller's operation (request logs, capacity meters, spans) reaches the batch's requests.
    contexts = [contextvars.copy_context() for _ in step.flows]
    with ThreadPoolExecutor(min(step.limit, len(step.flows))) as pool:
        return list(
            pool.map(
                lambda context, flow: context.run(_outcome, flow, sender), contexts, step.flows
            )
        )


async def _atogether(step: Together, sender: AsyncSender) -> list[Any]:
    """The async ``Together``: the flows as tasks, at most ``limit`` sending at once.

    If the caller is cancelled, so are the flows still running (``gather``); a write that
    must not stop half-way is run to its end by ``_to_the_end`` around the whole flow.
    """
    gate = asyncio.Semaphore(max(step.limit, 1))

    async def outcome(flow: Flow[Any]) -> Any:
        async with gate:
            try:
                return await arun(flow, sender)
            except Exception as error:  # sent back to the flow that asked: it decides
                return error

    return list(await asyncio.gather(*(outcome(flow) for flow in step.flows)))
