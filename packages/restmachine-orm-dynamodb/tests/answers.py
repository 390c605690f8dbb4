"""Real DynamoDB answers, handed back by an interceptor instead of the server.

An interceptor (``backend.interceptors``) is called with ``(operation, body)`` before each
attempt of a request; one that returns an ``HttpResponse`` stops the request there: the
protocol layer reads the answer, and applies its retry rules, exactly as if the server had
sent it.
"""

from __future__ import annotations

import json
from typing import Any

from restmachine_orm_dynamodb._flow import HttpResponse

__all__ = ["Throttle", "answer", "cancelled", "error"]


def answer(payload: dict[str, Any], status: int = 200) -> HttpResponse:
    """An answer with this JSON body."""
    headers = {"content-type": "application/x-amz-json-1.0"}
    return HttpResponse(status, headers, json.dumps(payload).encode())


def error(code: str, message: str = "injected", status: int = 400) -> HttpResponse:
    """An error answer, as DynamoDB sends it (``__type`` names the error)."""
    return answer(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}, status
    )


def cancelled(*codes: str) -> HttpResponse:
    """A cancelled transaction, with one reason code per action (``"None"``: that one was fine)."""
    return answer(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": f"Transaction cancelled [{', '.join(codes)}]",
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        400,
    )


class Throttle:
    """Answers the first ``times`` requests of an operation with a throttling error."""

    def __init__(self, operation: str, code: str, times: int, **extra: Any) -> None:
        self.operation, self.code, self.left, self.extra = operation, code, times, extra
        self.seen = 0

    def __call__(self, operation: str, _: dict[str, Any]) -> Any:
        if operation != self.operation:
            return None
        self.seen += 1
        if self.left == 0:
            return None
        self.left -= 1
        return error(self.code, "Rate of requests exceeds the allowed throughput.")
