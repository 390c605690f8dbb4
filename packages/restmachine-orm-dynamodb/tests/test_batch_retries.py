"""Batch paths retry what DynamoDB leaves unprocessed, until every item is written or read.

The partial answers are injected at the HTTP layer (botocore's ``before-send``): the first
batch request is split, half of it really sent to the server by a second client, and the
other half handed back as unprocessed, exactly as DynamoDB does under load.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from answers import answer, error, operation
from botocore.awsrequest import AWSResponse

from restmachine_orm import Field, Model, PartialWriteError
from restmachine_orm_dynamodb import DynamoDBBackend, DynamoDBError


class Item(Model):
    id: str = Field(primary_key=True)
    n: int


class HalfProcessed:
    """Answers the first ``times`` batch requests of one kind with half of them unprocessed."""

    def __init__(self, backend: DynamoDBBackend, other: Any, operation: str, times: int) -> None:
        self.backend, self.other, self.operation, self.left = backend, other, operation, times
        self.sent = 0
        self._lock = threading.Lock()  # the backend sends a call's batches from several threads

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        if operation(request) != self.operation:
            return None
        with self._lock:
            self.sent += 1
            if self.left == 0:
                return None
            self.left -= 1
        body = json.loads(request.body)
        table = self.backend.table_name
        if self.operation == "BatchWriteItem":
            entries = body["RequestItems"][table]
            half = len(entries) // 2
            self.other.batch_write_item(RequestItems={table: entries[:half]})
            return answer(request, {"UnprocessedItems": {table: entries[half:]}})
        keys = body["RequestItems"][table]["Keys"]
        half = len(keys) // 2
        got = self.other.batch_get_item(
            RequestItems={table: {"Keys": keys[:half], "ConsistentRead": True}}
        )
        unprocessed = {table: {"Keys": keys[half:], "ConsistentRead": True}}
        return answer(request, {"Responses": got["Responses"], "UnprocessedKeys": unprocessed})


@pytest.fixture
def injected(backend: DynamoDBBackend, bind, second_client):
    bind(Item)
    installed: list[HalfProcessed] = []

    def inject(operation: str, times: int) -> HalfProcessed:
        fault = HalfProcessed(backend, second_client, operation, times)
        backend.client.meta.events.register_first("before-send.dynamodb", fault)
        installed.append(fault)
        return fault

    yield inject
    for fault in installed:
        backend.client.meta.events.unregister("before-send.dynamodb", fault)


def test_unprocessed_writes_are_retried_to_completion_without_loss_or_duplicates(injected):
    fault = injected("BatchWriteItem", times=3)
    Item.create_many([{"id": f"i{k:03}", "n": k} for k in range(60)])
    assert fault.sent > 3  # 3 chunks of at most 25, plus the retries of the halves
    stored = Item.where().order_by("id").all()
    assert [i.n for i in stored] == list(range(60))


def test_unprocessed_keys_are_retried_and_results_keep_their_order(injected):
    Item.create_many([{"id": f"i{k:03}", "n": k} for k in range(150)])
    fault = injected("BatchGetItem", times=2)
    wanted = [{"id": f"i{k:03}"} for k in (149, 0, 75, 3)] + [{"id": "missing"}]
    found = Item.get_many(wanted * 30)
    assert [None if i is None else i.n for i in found[:5]] == [149, 0, 75, 3, None]
    assert fault.sent >= 3


def test_a_batch_request_that_fails_outright_names_its_rows_and_spares_the_others(
    backend, bind, inject
):
    bind(Item)

    def refuse_chunk_with_i030(request: Any, **_: Any) -> AWSResponse | None:
        if operation(request) != "BatchWriteItem" or b'"i030"' not in request.body:
            return None
        return error(request, "ValidationException", "One or more parameter values were invalid")

    inject(refuse_chunk_with_i030)
    rows = [{"id": f"i{k:03}", "n": k} for k in range(60)]
    with pytest.raises(PartialWriteError) as caught:
        Item.create_many(rows)
    assert isinstance(caught.value.__cause__, DynamoDBError)
    failed = {row["id"] for row in caught.value.failed}
    assert failed == {f"i{k:03}" for k in range(25, 50)}  # the second chunk of 25
    assert {i.id for i in Item.all()} == {r["id"] for r in rows} - failed
