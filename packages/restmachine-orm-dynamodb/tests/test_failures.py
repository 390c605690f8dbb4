"""Failure paths: thin cancellation reasons, batches that never finish, hostile input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from answers import answer, error, operation
from botocore.awsrequest import AWSResponse

from restmachine_orm import DuplicateKeyError, Field, Model, PartialWriteError
from restmachine_orm_dynamodb import _batch


class Member(Model):
    id: str = Field(primary_key=True)
    email: str = Field(unique=True)


class Entry(Model):
    id: str = Field(primary_key=True)
    name: str
    status: str = "new"
    count: int = 0


def cancel_without_reasons(request: Any, **_: Any) -> AWSResponse | None:
    """What some local servers send for a cancelled transaction: no CancellationReasons."""
    if operation(request) != "TransactWriteItems":
        return None
    return error(request, "TransactionCanceledException", "Transaction cancelled")


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


def test_a_batch_that_stays_unprocessed_reports_the_rows_it_lost(
    backend, bind, inject, monkeypatch
):
    bind(Entry)
    monkeypatch.setattr(_batch, "BACKOFF_BASE", 0.0)

    def never_process(request: Any, **_: Any) -> AWSResponse | None:
        if operation(request) != "BatchWriteItem":
            return None
        body = json.loads(request.body)
        entries = body["RequestItems"][backend.table_name]
        lost = [e for e in entries if e["PutRequest"]["Item"]["id"]["S"] == "e3"]
        if not lost:
            return None
        return answer(request, {"UnprocessedItems": {backend.table_name: lost}})

    inject(never_process)
    with pytest.raises(PartialWriteError) as caught:
        Entry.create_many([{"id": "e3", "name": "x"}])
    assert [row["id"] for row in caught.value.failed] == ["e3"]
    Entry.create_many([{"id": "e1", "name": "ok"}])
    assert Entry.get(id="e1") is not None


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
