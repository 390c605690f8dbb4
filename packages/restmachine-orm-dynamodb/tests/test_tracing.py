"""OpenTelemetry spans, recorded by the SDK's in-memory exporter: the operation above, each
DynamoDB request below it, counted against the request counter (an independent oracle)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from answers import Throttle, error
from conftest import Requests, make_client
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from restmachine_orm import Field, Model
from restmachine_orm_dynamodb import DynamoDBBackend, DynamoDBError


class Traced(Model):
    id: str = Field(primary_key=True)
    n: int = 0


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def traced(
    backend: DynamoDBBackend, endpoint: str, exporter: InMemorySpanExporter, bind: Any
) -> Iterator[DynamoDBBackend]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    made = DynamoDBBackend(
        backend.table_name, client=make_client(endpoint), tracing=provider, consumed_capacity=True
    )
    bind(Traced)
    Traced.model_backend = made
    yield made
    made.close()


def requests_below(spans: tuple[ReadableSpan, ...], operation: ReadableSpan) -> list[ReadableSpan]:
    assert operation.context is not None
    return [
        span
        for span in spans
        if span.parent is not None and span.parent.span_id == operation.context.span_id
    ]


def one(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    (found,) = [span for span in spans if span.name == name]
    return found


def test_an_operation_span_holds_one_client_span_per_request_with_the_semantic_conventions(
    traced: DynamoDBBackend, exporter: InMemorySpanExporter
) -> None:
    Traced.create(id="t1")
    spans = exporter.get_finished_spans()
    operation = one(spans, "Traced.create")
    assert operation.kind is SpanKind.INTERNAL
    assert dict(operation.attributes or {}) == {
        "db.system": "dynamodb",
        "restmachine_orm.backend": "dynamodb",
        "restmachine_orm.model": "Traced",
        "restmachine_orm.operation": "create",
        "restmachine_orm.requests": 1,
    }
    (request,) = requests_below(spans, operation)
    assert request.name == "DynamoDB.PutItem"
    assert request.kind is SpanKind.CLIENT
    attributes = dict(request.attributes or {})
    assert attributes["rpc.system"] == "aws-api"
    assert attributes["rpc.service"] == "DynamoDB"
    assert attributes["rpc.method"] == "PutItem"
    assert attributes["db.system"] == "dynamodb"
    assert tuple(attributes["aws.dynamodb.table_names"]) == (traced.table_name,)  # type: ignore[arg-type]
    assert attributes["restmachine_orm.attempts"] == 1
    assert attributes["http.response.status_code"] == 200
    assert attributes["server.address"] == "127.0.0.1"
    assert "aws.dynamodb.consumed_capacity" in attributes
    assert request.status.status_code is StatusCode.UNSET
    # The request lies within its operation.
    assert operation.start_time is not None and operation.end_time is not None
    assert request.start_time is not None and request.end_time is not None
    assert operation.start_time <= request.start_time <= request.end_time <= operation.end_time


def test_a_query_is_one_operation_span_with_a_request_span_per_request(
    traced: DynamoDBBackend, exporter: InMemorySpanExporter
) -> None:
    Traced.create_many([{"id": f"t{i}", "n": i} for i in range(30)])
    exporter.clear()
    counter = Requests(traced)
    rows = list(Traced.where(n__gte=0).order_by("n"))
    counter.stop()
    assert len(rows) == 30
    spans = exporter.get_finished_spans()
    operation = one(spans, "Traced.query")
    below = requests_below(spans, operation)
    assert [span.name for span in below] == [f"DynamoDB.{name}" for name in counter.operations]
    assert operation.attributes is not None
    assert operation.attributes["restmachine_orm.requests"] == len(counter.operations)


def test_batch_requests_sent_from_worker_threads_are_children_of_their_operation(
    traced: DynamoDBBackend, exporter: InMemorySpanExporter
) -> None:
    Traced.create_many([{"id": f"t{i}"} for i in range(250)])
    exporter.clear()
    Traced.get_many([{"id": f"t{i}"} for i in range(250)])
    spans = exporter.get_finished_spans()
    operation = one(spans, "Traced.get_many")
    below = requests_below(spans, operation)
    assert [span.name for span in below] == ["DynamoDB.BatchGetItem"] * 3
    assert len(spans) == 4


def test_async_operations_have_the_same_spans(
    traced: DynamoDBBackend, exporter: InMemorySpanExporter
) -> None:
    async def main() -> None:
        try:
            await Traced.acreate(id="t1")
            await asyncio.gather(Traced.aget(id="t1"), Traced.aget(id="t1"))
        finally:
            await traced.aclose()

    asyncio.run(main())
    spans = exporter.get_finished_spans()
    gets = [span for span in spans if span.name == "Traced.get"]
    assert len(gets) == 2
    for operation in (one(spans, "Traced.create"), *gets):
        (request,) = requests_below(spans, operation)
        assert request.name in ("DynamoDB.PutItem", "DynamoDB.GetItem")


def test_a_retried_request_is_one_span_with_its_attempts(
    traced: DynamoDBBackend, exporter: InMemorySpanExporter
) -> None:
    traced.interceptors.append(Throttle("GetItem", "ThrottlingException", times=1))
    assert Traced.get(id="absent") is None
    spans = exporter.get_finished_spans()
    (request,) = requests_below(spans, one(spans, "Traced.get"))
    assert request.attributes is not None
    assert request.attributes["restmachine_orm.attempts"] == 2
    assert "error.type" not in request.attributes


def test_a_failure_marks_both_spans_as_errors(
    traced: DynamoDBBackend, exporter: InMemorySpanExporter
) -> None:
    traced.interceptors.append(lambda operation, body: error("ValidationException"))
    with pytest.raises(DynamoDBError):
        Traced.get(id="t1")
    spans = exporter.get_finished_spans()
    operation = one(spans, "Traced.get")
    (request,) = requests_below(spans, operation)
    assert request.status.status_code is StatusCode.ERROR
    assert request.attributes is not None
    assert request.attributes["error.type"] == "ValidationException"
    assert operation.status.status_code is StatusCode.ERROR
    assert operation.attributes is not None
    assert operation.attributes["error.type"] == "DynamoDBError"
