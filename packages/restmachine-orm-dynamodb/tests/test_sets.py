"""Sets on DynamoDB: stored as its own set types, changed in place with ADD and DELETE.

What every backend shares (the elements added and removed, an empty set read back as one)
is the suite's; here is the storage only DynamoDB has, and the one request each change is.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from conftest import unmarked

from restmachine_orm import F, Field, Model, clock
from restmachine_orm_dynamodb import DynamoDBBackend


class Bag(Model):
    id: str = Field(primary_key=True)
    words: set[str] = set()
    counts: frozenset[int] = frozenset()
    blobs: set[bytes] = set()
    maybe: set[str] | None = None


def item(backend: DynamoDBBackend, id_: str) -> dict[str, Any]:
    answer = backend.client.get_item(
        TableName=backend.table_name,
        Key={"pk": {"S": f"Bag#{id_}"}, "sk": {"S": "Bag"}},
        ConsistentRead=True,
    )
    return answer["Item"]


def test_sets_are_stored_as_dynamodb_sets_and_an_empty_one_as_nothing(bind, backend):
    bind(Bag)
    Bag.create(id="b1", words={"b", "a"}, counts=frozenset({2, 10}), blobs={b"\x00"}, maybe=set())
    stored = item(backend, "b1")
    assert sorted(stored["words"]["SS"]) == ["a", "b"]
    assert sorted(decimal.Decimal(n) for n in stored["counts"]["NS"]) == [2, 10]
    assert stored["blobs"]["BS"] == [b"\x00"]
    assert stored["maybe"] == {"L": []}  # may be None: its empty set must differ from None
    Bag.create(id="b2")
    assert {"words", "counts", "blobs", "maybe"}.isdisjoint(item(backend, "b2"))
    assert Bag.get(id="b2") == Bag(id="b2")


def test_each_set_change_is_one_update_item_with_add_and_delete(bind, backend, requests):
    bind(Bag)
    bag = Bag.create(id="b1", words={"a"})
    requests.reset()
    bag.update(words=F("words") | {"b"}, counts=F("counts") | {1})
    bag.update(words=F("words") - {"a", "b"}, counts=F("counts") - {1})
    assert requests.operations == ["UpdateItem", "UpdateItem"]
    first, _ = unmarked(requests.sent[0][1])
    assert first.startswith("ADD ") and "SET" not in first and "DELETE" not in first
    assert unmarked(requests.sent[1][1])[0].startswith("DELETE ")
    assert (bag.words, bag.counts) == (set(), frozenset())
    assert {"words", "counts"}.isdisjoint(item(backend, "b1"))  # DELETE emptied them


def test_a_set_another_program_stored_as_a_list_reads_as_a_set(bind, backend, second_client):
    bind(Bag)
    second_client.put_item(
        TableName=backend.table_name,
        Item={
            "pk": {"S": "Bag#b1"},
            "sk": {"S": "Bag"},
            "_type": {"S": "Bag"},
            "id": {"S": "b1"},
            "words": {"L": [{"S": "x"}, {"S": "y"}]},
        },
    )
    assert Bag.get(id="b1") == Bag(id="b1", words={"x", "y"})


class Pass(Model):
    id: str = Field(primary_key=True)
    code: str | None = Field(None, unique=True)
    tags: set[str] = set()
    expires: dt.datetime | None = Field(None, ttl=True)


def test_a_set_change_with_a_new_expiry_and_a_moved_value_is_one_compare_and_set(bind, requests):
    bind(Pass)
    start = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    with clock.using(lambda: start):
        row = Pass.create(id="p1", code="c1", tags={"x"}, expires=start + dt.timedelta(hours=1))
        requests.reset()
        row.update(tags=F("tags") | {"y"}, expires=start + dt.timedelta(hours=2))
        row.update(tags=F("tags") - {"x"}, code="c2")
        assert requests.operations == ["GetItem", "TransactWriteItems"] * 2
        assert Pass.get(id="p1") == Pass(
            id="p1", code="c2", tags={"y"}, expires=start + dt.timedelta(hours=2)
        )
