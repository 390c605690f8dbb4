"""Acting out a test's ``FaultPlan`` in the transport, below the retries.

``Faults.act`` is asked before each attempt of each request (``Protocol._attempts``) and
says what to do to it: wait first (latency), answer it without sending (throttled: a
``ProvisionedThroughputExceededException``; failed: an ``InternalServerError``), send it
and drop the answer (a lost response, seen as a ``TransportError``), or send part of a
batch and hand the rest back as DynamoDB's ``UnprocessedItems``/``UnprocessedKeys``.
Everything above (standard-mode retries, batch leftovers, the recognition of a landed
write) runs as it would against a real service. The ORM operation and model a fault is
aimed at come from the scope the backend marks each operation with (``_observe``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from restmachine_orm.faults import FaultPlan, operation_of

from ._flow import HttpResponse
from ._observe import current_scope

__all__ = ["Act", "Faults"]

_BATCHES = frozenset({"BatchGetItem", "BatchWriteItem"})
_ANSWERS = {
    "throttle": (400, "ProvisionedThroughputExceededException", "throttled (injected)"),
    "fail": (500, "InternalServerError", "internal server error (injected)"),
}


@dataclass(frozen=True, slots=True)
class Act:
    """What to do to one attempt of a request.

    Attributes:
        delay: Seconds to wait before it.
        answer: The answer to read instead of sending it (throttled, failed), if any.
        lose: Send it, then drop its answer.
        body: The body to send instead (a batch with part of its items left out).
        leftovers: Adds the items left out to the answer's unprocessed ones.
    """

    delay: float = 0.0
    answer: HttpResponse | None = None
    lose: bool = False
    body: dict[str, Any] | None = None
    leftovers: Callable[[dict[str, Any]], dict[str, Any]] | None = None


class Faults:
    """The acts of one ``FaultPlan``, for one backend's protocol."""

    def __init__(self, plan: FaultPlan) -> None:
        """Act out ``plan``."""
        self.plan = plan

    def act(self, operation: str, body: dict[str, Any], attempt: int = 1) -> Act | None:
        """What to do to try number ``attempt`` of ``operation``; counts it in the plan."""
        scope = current_scope()
        if scope is None:  # not an ORM operation (table administration): left alone
            return None
        # The scope names the operation as the backend does (``exists``, ``collect``...).
        aimed = operation_of(scope.operation)
        batch, retry = operation in _BATCHES, attempt > 1
        fault = self.plan.next(aimed, scope.model, batch=batch, retry=retry)
        delay = self.plan.delay
        if fault is None:
            return Act(delay) if delay else None
        if fault.kind == "lose_response":
            return Act(delay, lose=True)
        if fault.kind == "unprocessed":
            return _unprocessed(operation, body, fault.fraction, delay)
        status, code, message = _ANSWERS[fault.kind]
        document = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
        answer = HttpResponse(status, {}, json.dumps(document).encode())
        return Act(delay, answer=answer)


def _unprocessed(operation: str, body: dict[str, Any], fraction: float, delay: float) -> Act:
    """Send the first part of each table's batch; the rest comes back as unprocessed."""
    requests = body["RequestItems"]
    sent: dict[str, Any] = {}
    held: dict[str, Any] = {}
    for table, part in requests.items():
        items = part["Keys"] if operation == "BatchGetItem" else part
        kept = max(1, len(items) - math.ceil(len(items) * fraction))
        if operation == "BatchGetItem":
            sent[table] = {**part, "Keys": items[:kept]}
            if items[kept:]:
                held[table] = {**part, "Keys": items[kept:]}
        else:
            sent[table] = items[:kept]
            if items[kept:]:
                held[table] = items[kept:]
    field = "UnprocessedKeys" if operation == "BatchGetItem" else "UnprocessedItems"

    def leftovers(answer: dict[str, Any]) -> dict[str, Any]:
        left = dict(answer.get(field) or {})
        for table, part in held.items():
            if operation == "BatchGetItem":
                keys = left.get(table, {}).get("Keys", [])
                left[table] = {**part, "Keys": [*keys, *part["Keys"]]}
            else:
                left[table] = [*left.get(table, []), *part]
        return {**answer, field: left}

    return Act(delay, body={**body, "RequestItems": sent}, leftovers=leftovers)
