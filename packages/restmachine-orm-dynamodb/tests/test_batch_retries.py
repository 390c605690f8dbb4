"""Batch paths retry what DynamoDB leaves unprocessed, until every item is deleted or read.

The partial answers are injected before the request is sent (``backend.interceptors``): the
first batch request is split, half of it really sent to the server by a second client, and
the other half handed back as unprocessed, exactly as DynamoDB does under load.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from answers import answer, error

from restmachine_orm import Field, Model, PartialWriteError
from restmachine_orm_dynamodb import DynamoDBBackend, DynamoDBError, IncompleteBatchError
from restmachine_orm_dynamodb._flow import HttpResponse


class Item(Model):
    id: str = Field(primary_key=True)
    n: int


class HalfProcessed:
    """Answers the first ``times`` batch requests of one kind with half of them unprocessed."""

    def __init__(self, backend: DynamoDBBackend, other: Any, operation: str, times: int) -> None:
        self.backend, self.other, self.operation, self.left = backend, other, operation, times
        self.sent = 0
        self._lock = threading.Lock()  # sync backends may be called from several threads

    def __call__(self, operation: str, body: dict[str, Any]) -> HttpResponse | None:
        if operation != self.operation:
            return None
        with self._lock:
            self.sent += 1
            if self.left == 0:
                return None
            self.left -= 1
        table = self.backend.table_name
        if self.operation == "BatchWriteItem":
            entries = body["RequestItems"][table]
            half = len(entries) // 2
            self.other.batch_write_item(RequestItems={table: entries[:half]})
            return answer({"UnprocessedItems": {table: entries[half:]}})
        keys = body["RequestItems"][table]["Keys"]
        half = len(keys) // 2
        got = self.other.batch_get_item(
            RequestItems={table: {"Keys": keys[:half], "ConsistentRead": True}}
        )
        unprocessed = {table: {"Keys": keys[half:], "ConsistentRead": True}}
        return answer({"Responses": got["Responses"], "UnprocessedKeys": unprocessed})


@pytest.fixture
def injected(backend: DynamoDBBackend, bind, inject, second_client):
    bind(Item)

    def install(operation: str, times: int) -> HalfProcessed:
        fault = HalfProcessed(backend, second_client, operation, times)
        inject(fault)
        return fault

    return install


def test_unprocessed_deletes_are_retried_to_completion(backend, injected):
    Item.create_many([{"id": f"i{k:03}", "n": k} for k in range(60)])
    fault = injected("BatchWriteItem", times=3)
    backend.clear(Item.orm_schema())
    assert fault.sent > 3  # 3 chunks of at most 25, plus the retries of the halves
    assert Item.all() == []


def test_unprocessed_keys_are_retried_and_results_keep_their_order(injected):
    Item.create_many([{"id": f"i{k:03}", "n": k} for k in range(150)])
    fault = injected("BatchGetItem", times=2)
    wanted = [{"id": f"i{k:03}"} for k in (149, 0, 75, 3)] + [{"id": "missing"}]
    found = Item.get_many(wanted * 30)
    assert [None if i is None else i.n for i in found[:5]] == [149, 0, 75, 3, None]
    assert fault.sent >= 3


def refuse(operation_name: str, marker: str) -> Any:
    """Refuse every request of an operation whose body mentions ``marker``."""

    def refuse_it(operation: str, body: dict[str, Any]) -> HttpResponse | None:
        if operation != operation_name or marker not in json.dumps(body):
            return None
        return error("ValidationException", "One or more parameter values were invalid")

    return refuse_it


def test_a_create_many_transaction_that_fails_outright_names_the_rows_not_stored(
    backend, bind, inject
):
    bind(Item)
    inject(refuse("TransactWriteItems", '"i130"'))
    rows = [{"id": f"i{k:03}", "n": k} for k in range(250)]
    with pytest.raises(PartialWriteError) as caught:
        Item.create_many(rows)
    assert isinstance(caught.value.__cause__, DynamoDBError)
    failed = {row["id"] for row in caught.value.failed}
    assert failed == {f"i{k:03}" for k in range(100, 250)}  # the second transaction and after
    assert {i.id for i in Item.all()} == {r["id"] for r in rows} - failed


def test_a_delete_batch_that_fails_outright_names_its_keys_and_spares_the_others(
    backend, bind, inject
):
    bind(Item)
    Item.create_many([{"id": f"i{k:03}", "n": k} for k in range(60)])
    inject(refuse("BatchWriteItem", '"Item#i030"'))
    with pytest.raises(IncompleteBatchError) as caught:
        backend.clear(Item.orm_schema())
    assert caught.value.operation == "BatchWriteItem"
    assert isinstance(caught.value.__cause__, DynamoDBError)
    assert "ValidationException" in str(caught.value)
    assert len(caught.value.item_keys) == 25  # one chunk of 25, whichever the scan put i030 in
    not_deleted = {key["pk"]["S"].removeprefix("Item#") for key in caught.value.item_keys}
    assert "i030" in not_deleted
    assert {i.id for i in Item.all()} == not_deleted


def test_a_read_batch_that_fails_outright_names_the_keys_it_could_not_read(backend, bind, inject):
    bind(Item)
    Item.create_many([{"id": f"i{k:03}", "n": k} for k in range(150)])
    inject(refuse("BatchGetItem", '"Item#i120"'))
    wanted = [{"id": f"i{k:03}"} for k in range(150)]
    with pytest.raises(IncompleteBatchError) as caught:
        Item.get_many(wanted)
    assert caught.value.operation == "BatchGetItem"
    assert isinstance(caught.value.__cause__, DynamoDBError)
    not_read = [key["pk"]["S"].removeprefix("Item#") for key in caught.value.item_keys]
    assert not_read == [f"i{k:03}" for k in range(100, 150)]  # the second request of 100
    assert "50 keys were not read (a request failed" in str(caught.value)
