"""Real DynamoDB answers, handed back by botocore's ``before-send`` event instead of the server.

A handler registered on ``before-send.dynamodb`` that returns an ``AWSResponse`` stops the
request there: botocore parses the answer, and applies its retry rules, exactly as if the
server had sent it.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.awsrequest import AWSResponse

__all__ = ["answer", "cancelled", "error", "operation"]


class _Body:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.data = json.dumps(payload).encode()

    def stream(self, **_: Any) -> Any:
        yield self.data


def operation(request: Any) -> str:
    """The DynamoDB operation of a request, e.g. ``"PutItem"``."""
    target = request.headers["X-Amz-Target"]
    target = target.decode() if isinstance(target, bytes) else target
    return str(target).rsplit(".", 1)[-1]


def answer(request: Any, payload: dict[str, Any], status: int = 200) -> AWSResponse:
    """An answer with this JSON body."""
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(request.url, status, headers, _Body(payload))


def error(request: Any, code: str, message: str = "injected", status: int = 400) -> AWSResponse:
    """An error answer, as DynamoDB sends it (``__type`` names the error)."""
    return answer(
        request, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}, status
    )


def cancelled(request: Any, *codes: str) -> AWSResponse:
    """A cancelled transaction, with one reason code per action (``"None"``: that one was fine)."""
    return answer(
        request,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": f"Transaction cancelled [{', '.join(codes)}]",
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        400,
    )
