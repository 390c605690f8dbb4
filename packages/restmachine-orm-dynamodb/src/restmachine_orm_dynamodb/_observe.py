"""What the backend tells about its requests: DEBUG logs, consumed capacity, and tracing.

Two levels are watched. An *operation* is one call of the backend (a ``create``, a
``query``...) on one model; ``Watch.operation`` marks it for the code inside, through a
context variable, so that it reaches the requests however they are run (a thread of a
batch, a task on the loop). A *request* is one DynamoDB operation sent by the protocol
layer, retries included; the protocol reports each one to its ``Watch`` as an ``Exchange``.

The protocol asks ``Watch.watching()`` before each request and skips all of this when
nothing listens (no DEBUG log, no capacity wanted, no tracing): the request path pays one
check.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "CAPACITY_OPERATIONS",
    "LOGGER",
    "CapacityUnits",
    "ConsumedCapacity",
    "Exchange",
    "Scope",
    "Tracer",
    "Watch",
    "current_scope",
    "table_of",
]

#: Where every request is logged, at DEBUG.
LOGGER = logging.getLogger("restmachine_orm.dynamodb")

#: The operations that accept ``ReturnConsumedCapacity`` (others would refuse the parameter).
CAPACITY_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
#: Operations whose units are read units when DynamoDB gives only ``CapacityUnits``.
_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
_COUNTING = threading.Lock()
_NONE = "-"  # shown for the model or operation of a request made outside any operation


@dataclass(slots=True)
class CapacityUnits:
    """Capacity units, as AWS bills them.

    Attributes:
        read: Read capacity units.
        write: Write capacity units.
    """

    read: float = 0.0
    write: float = 0.0

    def __add__(self, other: CapacityUnits) -> CapacityUnits:
        return CapacityUnits(self.read + other.read, self.write + other.write)


class ConsumedCapacity:
    """Capacity units consumed, in total and per ``(model, operation)``.

    ``by_operation[("User", "create")]`` is what the creates of ``User`` consumed; a request
    made outside any ORM operation (``create_table``...) counts under ``("-", "-")``.
    Operations are named as the ORM names them: ``create``, ``create_many``, ``get``,
    ``get_many``, ``update``, ``upsert``, ``delete``, ``query``, ``count``, ``exists``,
    ``transaction``, ``clear`` (a ``save`` is an ``update``, or an ``upsert`` for a row not
    stored yet). Safe to fill from several threads.
    """

    def __init__(self) -> None:
        """Start at zero."""
        self._lock = threading.Lock()
        self._by_operation: dict[tuple[str, str], CapacityUnits] = {}

    def add(self, model: str, operation: str, units: CapacityUnits) -> None:
        """Count ``units`` consumed by ``operation`` on ``model``."""
        with self._lock:
            key = (model, operation)
            self._by_operation[key] = self._by_operation.get(key, CapacityUnits()) + units

    def reset(self) -> None:
        """Back to zero."""
        with self._lock:
            self._by_operation.clear()

    @property
    def by_operation(self) -> dict[tuple[str, str], CapacityUnits]:
        """The units per ``(model, operation)`` (a copy)."""
        with self._lock:
            return {
                key: CapacityUnits(units.read, units.write)
                for key, units in self._by_operation.items()
            }

    @property
    def read(self) -> float:
        """Read capacity units, in total."""
        return sum(units.read for units in self.by_operation.values())

    @property
    def write(self) -> float:
        """Write capacity units, in total."""
        return sum(units.write for units in self.by_operation.values())

    def __repr__(self) -> str:
        return f"ConsumedCapacity(read={self.read:g}, write={self.write:g})"


class Tracer(Protocol):
    """What the watch needs of a tracing integration (``_tracing.Tracing``)."""

    def start_operation(self, scope: Scope) -> Any:
        """Start the span of an ORM operation; return what ``enter`` and ``end`` take."""
        ...

    def enter(self, span: Any) -> Any:
        """Make the span current for the code that runs now; return a token for ``leave``."""
        ...

    def leave(self, token: Any) -> None:
        """Undo ``enter``."""
        ...

    def end_operation(self, scope: Scope, error: BaseException | None) -> None:
        """End the span of an operation (its request count and outcome known)."""
        ...

    def request(self, exchange: Exchange) -> None:
        """Record one finished DynamoDB request as a span below the current operation."""
        ...


@dataclass(slots=True)
class Scope:
    """One ORM operation of the backend, for the requests it sends.

    Attributes:
        model: The model's name (``"-"`` for none, models joined by ``+`` for several).
        operation: The operation, as the ORM names it (``create``, ``get``...).
        requests: How many DynamoDB requests it has sent so far.
        span: Its tracing span, when traced.
    """

    model: str
    operation: str
    requests: int = 0
    span: Any = None


#: The operation the running code belongs to, and the capacity meters open around it.
_SCOPE: ContextVar[Scope | None] = ContextVar("restmachine_orm_dynamodb_scope", default=None)
_METERS: ContextVar[tuple[tuple[Watch, ConsumedCapacity], ...]] = ContextVar(
    "restmachine_orm_dynamodb_meters", default=()
)


@dataclass(slots=True)
class Exchange:
    """One DynamoDB request (all its attempts), as the protocol reports it to the watch.

    Attributes:
        operation: The DynamoDB operation, e.g. ``"GetItem"``.
        table: The table it is about (``None`` when it names none).
        index: The index it reads (``IndexName``), if any.
        scope: The ORM operation that sent it (``None`` outside any).
        started_ns: When it started, in ``time.time_ns()`` (for spans).
        seconds: How long it took, every attempt and wait included.
        attempts: How many times it was sent.
        status: The last answer's HTTP status (0 when none came).
        error: DynamoDB's error code of the last answer, or the failure's class name.
        capacity: The units DynamoDB said it consumed (``None`` when it said nothing).
        consumed: The answer's ``ConsumedCapacity`` as DynamoDB sent it (``None`` if none).
        failed: Whether it raised (a refusal its caller expects is no failure).
        endpoint: Where it was sent.
        asked: Whether it asked for its consumed capacity: only then is it counted (some
            servers, moto, report capacity unasked).
    """

    operation: str
    table: str | None
    index: str | None
    scope: Scope | None
    started_ns: int
    endpoint: str
    seconds: float = 0.0
    attempts: int = 0
    status: int = 0
    error: str = ""
    capacity: CapacityUnits | None = None
    consumed: Any = None
    failed: bool = False
    asked: bool = False
    _start: float = field(default=0.0, repr=False)


class Watch:
    """Everything observing one backend's requests: logs, capacity totals and meters, spans.

    Attributes:
        consumed_capacity: Whether every request asks DynamoDB for its consumed capacity.
        totals: What the backend's requests consumed since it was made or last reset.
        tracer: The tracing integration, or ``None``.
        scoped: Mark every operation's scope even with nothing else watching (injected
            faults are aimed at operations by it).
    """

    def __init__(self, *, consumed_capacity: bool = False, tracer: Tracer | None = None) -> None:
        """Watch requests: capacity asked for every request or not; traced or not."""
        self.consumed_capacity = consumed_capacity
        self.totals = ConsumedCapacity()
        self.tracer = tracer
        self.scoped = False

    # -- what the protocol asks ------------------------------------------------------------

    def watching(self) -> bool:
        """Whether anything listens to the next request (else the protocol skips the watch)."""
        return (
            self.consumed_capacity
            or self.scoped
            or self.tracer is not None
            or bool(_METERS.get())
            or LOGGER.isEnabledFor(logging.DEBUG)
        )

    def asks_capacity(self) -> bool:
        """Whether requests sent now ask for their consumed capacity."""
        return self.consumed_capacity or any(owner is self for owner, _ in _METERS.get())

    def start(self, operation: str, body: Mapping[str, Any], endpoint: str) -> Exchange:
        """The record of a request about to be sent."""
        scope = _SCOPE.get()
        if scope is not None:
            with _COUNTING:  # a batch's requests start on several threads at once
                scope.requests += 1
        index = body.get("IndexName")
        exchange = Exchange(operation, table_of(body), index, scope, time.time_ns(), endpoint)
        exchange._start = time.perf_counter()
        return exchange

    def finish(self, exchange: Exchange, answer: Any, failure: BaseException | None) -> None:
        """Account for a finished request: capacity, log line, span."""
        exchange.seconds = time.perf_counter() - exchange._start
        if failure is not None:
            exchange.failed = True
            if not exchange.error:
                cause = failure.__cause__
                exchange.error = getattr(cause, "code", "") or type(cause or failure).__name__
        if exchange.asked and isinstance(answer, Mapping) and "ConsumedCapacity" in answer:
            exchange.consumed = answer["ConsumedCapacity"]
            exchange.capacity = _units(exchange.operation, exchange.consumed)
            self._count(exchange)
        if LOGGER.isEnabledFor(logging.DEBUG):
            _log(exchange)
        if self.tracer is not None:
            self.tracer.request(exchange)

    def _count(self, exchange: Exchange) -> None:
        units = exchange.capacity
        assert units is not None
        scope = exchange.scope
        model, operation = (scope.model, scope.operation) if scope else (_NONE, _NONE)
        self.totals.add(model, operation, units)
        for owner, meter in _METERS.get():
            if owner is self:
                meter.add(model, operation, units)

    # -- what the backend marks ----------------------------------------------------------

    @contextmanager
    def operation(self, of: Scope | str, operation: str = "") -> Iterator[Scope]:
        """Mark the code inside as one ORM operation's: its requests are counted there.

        ``of`` is the model's name, with ``operation``: a whole operation, whose span ends
        with the block. Or it is a ``Scope`` already made, entered once per part of a
        longer operation (a query's pages): its span starts on the first entry and ends
        with ``close``, or when the code inside fails.
        """
        ends = isinstance(of, str)
        scope = Scope(of, operation) if isinstance(of, str) else of
        tracer = self.tracer
        token = _SCOPE.set(scope)
        entered = None
        if tracer is not None:
            if scope.span is None:
                scope.span = tracer.start_operation(scope)
            entered = tracer.enter(scope.span)
        try:
            yield scope
        except BaseException as error:
            self.close(scope, error)
            raise
        else:
            if ends:
                self.close(scope)
        finally:
            if tracer is not None:
                tracer.leave(entered)
            _SCOPE.reset(token)

    def close(self, scope: Scope, error: BaseException | None = None) -> None:
        """End the scope's span (once), with its outcome."""
        if self.tracer is not None and scope.span is not None:
            self.tracer.end_operation(scope, error)
            scope.span = None

    @contextmanager
    def meter(self) -> Iterator[ConsumedCapacity]:
        """Count what the requests of this watch's backend sent inside consume."""
        meter = ConsumedCapacity()
        token = _METERS.set((*_METERS.get(), (self, meter)))
        try:
            yield meter
        finally:
            _METERS.reset(token)


def current_scope() -> Scope | None:
    """The ORM operation the running code belongs to, when the backend marked it."""
    return _SCOPE.get()


def table_of(body: Mapping[str, Any]) -> str | None:
    """The table a request is about: its ``TableName``, or the first it reads or writes."""
    name = body.get("TableName")
    if name is None and body.get("RequestItems"):
        name = next(iter(body["RequestItems"]))
    if name is None and body.get("TransactItems"):
        action: Any = next(iter(body["TransactItems"][0].values()), {})
        name = action.get("TableName") if isinstance(action, Mapping) else None
    return None if name is None else str(name)


def _units(operation: str, consumed: Any) -> CapacityUnits:
    """The read and write units of an answer's ``ConsumedCapacity`` (one entry or a list)."""
    total = CapacityUnits()
    for entry in consumed if isinstance(consumed, list) else [consumed]:
        if not isinstance(entry, Mapping):
            continue
        if "ReadCapacityUnits" in entry or "WriteCapacityUnits" in entry:
            read = entry.get("ReadCapacityUnits", 0.0)
            write = entry.get("WriteCapacityUnits", 0.0)
        elif operation in _READS:
            read, write = entry.get("CapacityUnits", 0.0), 0.0
        else:
            read, write = 0.0, entry.get("CapacityUnits", 0.0)
        total = total + CapacityUnits(float(read), float(write))
    return total


def _log(exchange: Exchange) -> None:
    """One DEBUG line per request; its fields also on the record (``record.dynamodb``).

    Only names, numbers and codes: never a key, a value of an item, or a header.
    """
    scope = exchange.scope
    fields = {
        "operation": exchange.operation,
        "table": exchange.table,
        "index": exchange.index,
        "model": scope.model if scope else None,
        "orm_operation": scope.operation if scope else None,
        "duration_ms": round(exchange.seconds * 1000, 3),
        "attempts": exchange.attempts,
        "status": exchange.status,
        "error": exchange.error or None,
        "read_units": exchange.capacity.read if exchange.capacity else None,
        "write_units": exchange.capacity.write if exchange.capacity else None,
    }
    parts = [
        f"{exchange.operation} table={exchange.table or _NONE}",
        f"index={exchange.index or _NONE}",
        f"model={fields['model'] or _NONE} op={fields['orm_operation'] or _NONE}",
        f"{fields['duration_ms']:.1f}ms attempts={exchange.attempts}",
        f"status={exchange.status}" + (f" error={exchange.error}" if exchange.error else ""),
    ]
    if exchange.capacity is not None:
        parts.append(f"rcu={exchange.capacity.read:g} wcu={exchange.capacity.write:g}")
    LOGGER.debug(" ".join(parts), extra={"dynamodb": fields})
