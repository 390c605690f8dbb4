"""Failure as a test input: a ``FaultPlan`` says which requests fail, and how.

A test writes the plan (``plan.throttle(operation="get", times=2)``) and hands it to a
backend with ``backend.inject_faults(plan)``; the backend asks ``plan.next(...)`` before
each request it would send, below its retries, and acts the fault out:

- ``throttle``: the request is answered "throttled" (DynamoDB's
  ``ProvisionedThroughputExceededException``) and nothing is applied;
- ``fail``: it is answered with an internal server error, nothing applied;
- ``lose_response``: it is applied, then its answer is lost (a connection error);
- ``unprocessed``: a batch request leaves part of its items for the next one;
- ``latency``: every request waits first.

The retries then run as they would against a real service: a throttled request is sent
again, up to ``ATTEMPTS`` tries in all; a write whose answer was lost is sent again and
recognised as already applied (see ``WriteOutcomeUnknownError`` for where it cannot be).
The DynamoDB backend acts faults out in its transport, the in-memory one in
``call_with_faults`` here; a third-party backend implements ``Backend.inject_faults`` and
lists the ``faults`` capability. The testing package's ``orm_faults`` fixture is a plan.

Operations are named as the ORM names them (``OPERATIONS``): a backend's ``update`` is
``save`` when it is given the row as last read (``instance.save()``) and ``update``
otherwise (``instance.update(...)``, ``update_by_key``), which ``operation_of`` decides.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from .errors import BackendError, WriteOutcomeUnknownError

__all__ = [
    "ATTEMPTS",
    "OPERATIONS",
    "Fault",
    "FaultPlan",
    "call_with_faults",
    "operation_of",
]

#: The ORM operations a fault can be aimed at.
OPERATIONS = (
    "create",
    "get",
    "save",
    "update",
    "upsert",
    "delete",
    "query",
    "count",
    "create_many",
    "get_many",
    "transaction",
)

#: Tries of one request in all, the first included: what the DynamoDB backend's
#: ``DEFAULT_CONFIG`` gives botocore's standard retry mode (5 retries), and what the
#: in-memory backend acts out, so that a fault test sees the same retries on both.
ATTEMPTS = 6

Kind = Literal["throttle", "fail", "lose_response", "unprocessed"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do to one request.

    Attributes:
        kind: ``"throttle"``, ``"fail"``, ``"lose_response"`` or ``"unprocessed"``.
        fraction: For ``unprocessed``: the share of the batch's items left for later.
    """

    kind: Kind
    fraction: float = 0.0


@dataclass(slots=True)
class _Rule:
    """One call of a ``FaultPlan`` method: which requests it hits, and how often still."""

    fault: Fault
    operation: str | None
    model: str | None
    times: int
    every: int
    first_tries: bool
    seen: int = 0

    def matches(self, operation: str, models: tuple[str, ...], *, batch: bool, retry: bool) -> bool:
        if self.times <= 0 or (self.fault.kind == "unprocessed") is not batch:
            return False
        if retry and self.first_tries:
            return False
        if self.operation is not None and self.operation != operation:
            return False
        return self.model is None or self.model in models


def _model_name(model: Any) -> str | None:
    if model is None or isinstance(model, str):
        return model
    return str(getattr(model, "__name__", model))


def operation_of(method: str, *, previous: Any = None) -> str:
    """The ORM operation a backend method serves, e.g. ``insert`` → ``create``.

    ``update`` is ``save`` when given the row as last read (``previous``), else ``update``.
    A name that is an ORM operation already (``save``, ``get``...) stays as it is.
    """
    if method == "update":
        return "update" if previous is None else "save"
    return _OPERATION_OF.get(method, method)


_OPERATION_OF = {
    "insert": "create",
    "insert_many": "create_many",
    "exists": "query",
    "collect": "query",
    "transact": "transaction",
}


class FaultPlan:
    """Which requests fail, and how; and how many each operation sent. Thread-safe.

    Every method aiming a fault takes ``operation`` (one of ``OPERATIONS``; ``None``: any)
    and ``model`` (a model class or its name; ``None``: any), and ``times``: how many
    requests it hits. ``every=n`` hits one matching request in ``n`` (the n-th, the 2n-th...)
    instead of each, e.g. ``lose_response(times=80, every=5)`` loses a fifth of the answers.
    ``first_tries=True`` hits first tries only, never a retry: with ``every``, a share of the
    calls meets the fault once, and none meets it on every try (which concurrent calls,
    taking turns, otherwise can).
    Faults are used in the order they were aimed.
    """

    def __init__(self) -> None:
        """Start with no faults and nothing counted."""
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._calls: Counter[str] = Counter()
        self.delay = 0.0

    def __repr__(self) -> str:
        return f"FaultPlan(faults={len(self._rules)}, calls={dict(self._calls)})"

    def throttle(
        self,
        operation: str | None = None,
        model: Any = None,
        times: int = 1,
        *,
        every: int = 1,
        first_tries: bool = False,
    ) -> None:
        """The backend answers "throttled" (nothing applied); the ORM's retries try again."""
        self._aim(Fault("throttle"), operation, model, times, every, first_tries=first_tries)

    def fail(
        self,
        operation: str | None = None,
        model: Any = None,
        times: int = 1,
        *,
        every: int = 1,
        first_tries: bool = False,
    ) -> None:
        """The backend answers with an internal server error (nothing applied)."""
        self._aim(Fault("fail"), operation, model, times, every, first_tries=first_tries)

    def lose_response(
        self,
        operation: str | None = None,
        model: Any = None,
        times: int = 1,
        *,
        every: int = 1,
        first_tries: bool = False,
    ) -> None:
        """The request is applied, then its answer is lost: the client sees a connection error."""
        self._aim(Fault("lose_response"), operation, model, times, every, first_tries=first_tries)

    def unprocessed(
        self,
        operation: str = "create_many",
        fraction: float = 0.5,
        times: int = 1,
        *,
        model: Any = None,
        every: int = 1,
    ) -> None:
        """A batch request (``create_many``, ``get_many``) leaves ``fraction`` of it undone.

        The backend then sends the leftovers again, as it does for DynamoDB's
        ``UnprocessedItems``/``UnprocessedKeys``.
        """
        if operation not in ("create_many", "get_many"):
            raise ValueError(
                f"unprocessed(operation={operation!r}): only batch operations leave items "
                "unprocessed: 'create_many' or 'get_many'"
            )
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"unprocessed(fraction={fraction!r}): a share between 0 and 1")
        self._aim(Fault("unprocessed", fraction), operation, model, times, every)

    def latency(self, seconds: float) -> None:
        """Every request waits ``seconds`` first (``0`` for none again)."""
        if seconds < 0:
            raise ValueError(f"latency({seconds!r}): a wait cannot be negative")
        self.delay = float(seconds)

    def calls(self, operation: str | None = None) -> int:
        """How many requests the backend received for ``operation`` (``None``: for all).

        Each try counts: a request throttled once and then served counts 2.
        """
        _check_operation(operation)
        with self._lock:
            return sum(self._calls.values()) if operation is None else self._calls[operation]

    def clear(self) -> None:
        """Forget every fault, the latency and the counts."""
        with self._lock:
            self._rules.clear()
            self._calls.clear()
            self.delay = 0.0

    def pending(self) -> int:
        """How many faults are aimed and not used yet."""
        with self._lock:
            return sum(rule.times for rule in self._rules)

    def next(
        self, operation: str, model: str = "-", *, batch: bool = False, retry: bool = False
    ) -> Fault | None:
        """Count one request of ``operation`` on ``model``; the fault it meets, if any.

        Backends call it before each request (each try), below their retries. ``model``
        names the model, or several joined by ``+`` (a transaction); ``batch``: the request
        is a batch one, which only ``unprocessed`` faults hit (and only those hit it);
        ``retry``: it is a retry, not a first try.
        """
        models = tuple(model.split("+"))
        with self._lock:
            self._calls[operation] += 1
            for rule in self._rules:
                if rule.matches(operation, models, batch=batch, retry=retry):
                    rule.seen += 1
                    if rule.seen % rule.every:
                        continue
                    rule.times -= 1
                    return rule.fault
        return None

    def _aim(
        self,
        fault: Fault,
        operation: str | None,
        model: Any,
        times: int,
        every: int,
        *,
        first_tries: bool = False,
    ) -> None:
        _check_operation(operation)
        if times < 1 or every < 1:
            raise ValueError(
                f"{fault.kind}(times={times!r}, every={every!r}): both must be at least 1"
            )
        rule = _Rule(fault, operation, _model_name(model), times, every, first_tries)
        with self._lock:
            self._rules.append(rule)


def _check_operation(operation: str | None) -> None:
    if operation is not None and operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}: one of {', '.join(OPERATIONS)}")


def call_with_faults(
    plan: FaultPlan,
    operation: str,
    model: str,
    apply: Callable[[], _T],
    *,
    key: dict[str, Any] | None = None,
    batch: bool = False,
) -> _T:
    """``apply()`` as a backend without a transport serves a request under ``plan``.

    Each try asks the plan for its fault: a throttled or failed try applies nothing and
    is tried again, up to ``ATTEMPTS`` tries; a lost answer is applied and then tried
    again, and the retry recognises the landed write (it returns what that write stored),
    except for a delete, whose retry cannot tell its own landed delete from another one's
    (``WriteOutcomeUnknownError``, as on DynamoDB); an unprocessed batch counts one more
    request for its leftovers. The in-memory backend serves its methods through this.

    Raises:
        BackendError: Every try was throttled or failed; it names the operation.
        WriteOutcomeUnknownError: A lost answer's outcome cannot be told (see above).
    """
    landed: list[_T] = []
    failure = ""
    for attempt in range(ATTEMPTS):
        fault = plan.next(operation, model, batch=batch, retry=attempt > 0)
        if plan.delay:
            time.sleep(plan.delay)
        kind = None if fault is None else fault.kind
        if kind == "throttle" or kind == "fail":
            failure = "throttled" if kind == "throttle" else "an internal server error"
            continue
        if landed:  # the retry meets the write that landed: its own mark, or no row
            if operation == "delete":
                raise WriteOutcomeUnknownError(model, key or {}, operation, "the row is gone")
            result = landed[0]
        else:
            result = apply()
        if kind == "lose_response":
            landed[:] = [result]
            failure = "its answer was lost"
            continue
        if kind == "unprocessed":
            plan.next(operation, model, batch=batch, retry=True)  # the leftovers' request
        return result
    if landed:
        raise WriteOutcomeUnknownError(model, key or {}, operation, f"{ATTEMPTS} answers lost")
    raise BackendError(
        f"{operation} of {model} failed: {failure} (gave up after {ATTEMPTS} attempts)"
    )
