"""Failure paths: thin cancellation reasons, batches that never finish, hostile input."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from answers import answer, error

from restmachine_orm import DuplicateKeyError, Field, Model
from restmachine_orm_dynamodb import Backoff, DynamoDBBackend, IncompleteBatchError, RetryConfig
from restmachine_orm_dynamodb._flow import HttpResponse


class Member(Model):
    id: str = Field(primary_key=True)
    email: str = Field(unique=True)


class Entry(Model):
    id: str = Field(primary_key=True)
    name: str
    status: str = "new"
    count: int = 0


def cancel_without_reasons(operation: str, _: dict[str, Any]) -> HttpResponse | None:
    """What some local servers send for a cancelled transaction: no CancellationReasons."""
    if operation != "TransactWriteItems":
        return None
    return error("TransactionCanceledException", "Transaction cancelled")


def test_a_cancellation_without_reasons_is_diagnosed_by_reading(backend, bind, inject):
    bind(Member)
    Member.create(id="m1", email="taken@x.io")

    inject(cancel_without_reasons)
    with pytest.raises(DuplicateKeyError) as caught:
        Member.create(id="m2", email="taken@x.io")
    assert caught.value.field == "email"
    with pytest.raises(DuplicateKeyError) as caught:
        Member.create(id="m1", email="free@x.io")
    assert caught.value.fields == ("id",)


@pytest.fixture
def impatient(backend):
    """The test table's backend, on its client, retrying batch leftovers 3 times, no waits."""
    retries = RetryConfig(batch_leftovers=Backoff(attempts=3))
    return DynamoDBBackend(backend.table_name, client=backend.client, retries=retries)


def never_process(backend: DynamoDBBackend, other: Any, wanted: str) -> Any:
    """Leave every batch entry naming row ``wanted`` unprocessed, really sending the rest
    (by ``other``, a client of the test's own); count the requests it answered."""

    def handler(operation: str, body: dict[str, Any]) -> HttpResponse | None:
        table, pk = backend.table_name, f"Entry#{wanted}"
        if operation == "BatchGetItem":
            keys = body["RequestItems"][table]["Keys"]
            lost = [k for k in keys if k["pk"]["S"] == pk]
            rest = [k for k in keys if k["pk"]["S"] != pk]
            got = other.batch_get_item(RequestItems={table: {"Keys": rest}}) if rest else {}
            reply = {
                "Responses": got.get("Responses", {table: []}),
                "UnprocessedKeys": {table: {"Keys": lost, "ConsistentRead": True}},
            }
        elif operation == "BatchWriteItem":
            entries = body["RequestItems"][table]
            lost = [e for e in entries if e["DeleteRequest"]["Key"]["pk"]["S"] == pk]
            rest = [e for e in entries if e["DeleteRequest"]["Key"]["pk"]["S"] != pk]
            if rest:
                other.batch_write_item(RequestItems={table: rest})
            reply = {"UnprocessedItems": {table: lost}}
        else:
            return None
        if not lost:
            return None
        handler.sent += 1
        return answer(reply)

    handler.sent = 0
    return handler


def test_a_batch_read_that_stays_unprocessed_says_which_keys_it_could_not_read(
    impatient, bind, inject, second_client
):
    bind(Entry)
    Entry.create_many([{"id": "e1", "name": "x"}, {"id": "e3", "name": "y"}])
    Entry.model_backend = impatient
    refusal = never_process(impatient, second_client, "e3")
    inject(refusal, into=impatient)
    with pytest.raises(IncompleteBatchError) as caught:
        Entry.get_many([{"id": "e1"}, {"id": "e3"}])
    assert refusal.sent == 3  # the knob: three tries in all
    assert caught.value.operation == "BatchGetItem"
    assert caught.value.item_keys == [impatient.keys.item_key(Entry.orm_schema(), ("e3",))]
    message = str(caught.value)
    assert "BatchGetItem" in message and impatient.table_name in message
    assert "1 keys were not read" in message and "Entry#e3" in message
    assert "after 3 attempts" in message
    copy = pickle.loads(pickle.dumps(caught.value))  # e.g. across pytest-xdist workers
    assert (type(copy), str(copy), copy.item_keys) == (
        IncompleteBatchError,
        message,
        caught.value.item_keys,
    )


def test_a_batch_delete_that_stays_unprocessed_says_which_keys_it_could_not_delete(
    impatient, bind, inject, second_client
):
    bind(Entry)
    Entry.create_many([{"id": "e1", "name": "x"}, {"id": "e3", "name": "y"}])
    inject(never_process(impatient, second_client, "e3"), into=impatient)
    with pytest.raises(IncompleteBatchError) as caught:
        impatient.clear(Entry.orm_schema())
    assert caught.value.operation == "BatchWriteItem"
    assert caught.value.item_keys == [impatient.keys.item_key(Entry.orm_schema(), ("e3",))]
    assert "were not confirmed deleted" in str(caught.value)
    assert [e.id for e in Entry.all()] == ["e3"]


def test_reserved_words_and_expression_text_in_values_are_inert(backend, bind):
    bind(Entry)
    hostile = ") OR attribute_exists(pk) OR (#n0 = :v0"
    Entry.create(id="e1", name=hostile, status="count", count=1)
    Entry.create(id="e2", name="plain", status="name", count=2)
    assert [e.id for e in Entry.where(name=hostile)] == ["e1"]
    assert [e.id for e in Entry.where(status="name", count__gte=2)] == ["e2"]
    assert Entry.where(name__contains=":v0").count() == 1
    assert Entry.get(id="e1").name == hostile


def test_pagination_crosses_dynamodb_pages(backend, bind):
    bind(Entry)
    big = "z" * 9_000
    Entry.create_many([{"id": f"e{i:03}", "name": big, "count": i % 5} for i in range(200)])
    seen, cursor = [], None
    while True:
        page = Entry.where(count__lt=4).order_by("-count").paginate(37, cursor)
        seen += [(e.count, e.id) for e in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = sorted(
        ((i % 5, f"e{i:03}") for i in range(200) if i % 5 < 4), key=lambda pair: (-pair[0], pair[1])
    )
    assert seen == expected


def test_key_and_value_both_taken_reports_the_key_as_the_reference_does(bind):
    # Found by the differential test: the transaction fails on both the row and the claim.
    bind(Member)
    Member.create(id="m1", email="taken@x.io")
    with pytest.raises(DuplicateKeyError) as caught:
        Member.create(id="m1", email="taken@x.io")
    assert caught.value.fields == ("id",)


def test_without_reasons_a_taken_key_is_still_reported_before_a_taken_value(bind, inject):
    bind(Member)
    Member.create(id="m1", email="taken@x.io")

    inject(cancel_without_reasons)
    with pytest.raises(DuplicateKeyError) as caught:
        Member.create(id="m1", email="taken@x.io")
    assert caught.value.fields == ("id",)


class Loose(Model):
    id: str = Field(primary_key=True)
    label: str | None = None
    count: int | None = None


def test_attributes_of_another_type_written_by_someone_else_still_decode(backend, bind):
    bind(Loose)
    key = backend.keys.item_key(Loose.orm_schema(), ("l1",))
    backend.client.put_item(
        TableName=backend.table_name,
        Item={
            **key,
            backend.keys.entity: {"S": "Loose"},
            "id": {"S": "l1"},
            "label": {"NULL": True},
            "count": {"NULL": True},
        },
    )
    assert Loose.get(id="l1") == Loose(id="l1")
