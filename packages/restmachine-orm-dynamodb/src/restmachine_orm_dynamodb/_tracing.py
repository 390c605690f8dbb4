"""OpenTelemetry spans: one per ORM operation, one per DynamoDB request below it.

The lean transport sends its own requests, so botocore's instrumentation never sees them:
this module gives each request the span it would have had, with OpenTelemetry's semantic
conventions for AWS SDK calls and DynamoDB (``rpc.system=aws-api``, ``rpc.service``,
``rpc.method``, ``aws.dynamodb.*``), plus the attempts it took. Imported only when a
backend is made with ``tracing=``; needs the ``otel`` extra.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from ._observe import Exchange, Scope
from ._version import __version__

try:
    from opentelemetry import context, trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError as missing:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "DynamoDBBackend(tracing=...) needs OpenTelemetry: "
        'pip install "restmachine-orm-dynamodb[otel]"'
    ) from missing

__all__ = ["Tracing"]

#: Where the spans come from (the instrumentation scope).
SCOPE_NAME = "restmachine_orm_dynamodb"


class Tracing:
    """Makes the spans, with the tracer of ``provider`` (the global provider if ``None``)."""

    def __init__(self, provider: Any = None) -> None:
        """Take the tracer of ``provider``."""
        self._tracer = trace.get_tracer(SCOPE_NAME, __version__, tracer_provider=provider)

    def start_operation(self, scope: Scope) -> Any:
        """Start ``<Model>.<operation>``, a child of the span current in the caller."""
        return self._tracer.start_span(
            f"{scope.model}.{scope.operation}",
            kind=SpanKind.INTERNAL,
            attributes={
                "db.system": "dynamodb",
                "restmachine_orm.backend": "dynamodb",
                "restmachine_orm.model": scope.model,
                "restmachine_orm.operation": scope.operation,
            },
        )

    def enter(self, span: Any) -> Any:
        """Make ``span`` current, so that the requests sent now are its children."""
        return context.attach(trace.set_span_in_context(span))

    def leave(self, token: Any) -> None:
        """Restore the context ``enter`` replaced."""
        context.detach(token)

    def end_operation(self, scope: Scope, error: BaseException | None) -> None:
        """End the operation's span with its request count, and its error if it failed."""
        span = scope.span
        span.set_attribute("restmachine_orm.requests", scope.requests)
        if error is not None:
            span.set_attribute("error.type", type(error).__name__)
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        span.end()

    def request(self, exchange: Exchange) -> None:
        """Record a finished request as ``DynamoDB.<Operation>``, timed as it ran."""
        attributes: dict[str, Any] = {
            "rpc.system": "aws-api",
            "rpc.service": "DynamoDB",
            "rpc.method": exchange.operation,
            "db.system": "dynamodb",
            "server.address": urlsplit(exchange.endpoint).hostname or "",
            "restmachine_orm.attempts": exchange.attempts,
        }
        if exchange.table is not None:
            attributes["aws.dynamodb.table_names"] = [exchange.table]
        if exchange.index is not None:
            attributes["aws.dynamodb.index_name"] = exchange.index
        if exchange.status:
            attributes["http.response.status_code"] = exchange.status
        if exchange.error:
            attributes["error.type"] = exchange.error
        if exchange.consumed is not None:
            entries = exchange.consumed
            entries = entries if isinstance(entries, list) else [entries]
            attributes["aws.dynamodb.consumed_capacity"] = [
                json.dumps(entry, sort_keys=True) for entry in entries
            ]
        span = self._tracer.start_span(
            f"DynamoDB.{exchange.operation}",
            kind=SpanKind.CLIENT,
            start_time=exchange.started_ns,
            attributes=attributes,
        )
        if exchange.failed:
            span.set_status(Status(StatusCode.ERROR, exchange.error))
        span.end(end_time=exchange.started_ns + int(exchange.seconds * 1e9))
