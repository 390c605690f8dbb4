"""Deterministic cost: how many requests, and which, each operation sends."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import unmarked

from restmachine_orm import ConcurrentModificationError, Field, Model
from restmachine_orm_dynamodb._flow import HttpResponse


class Note(Model):
    id: str = Field(primary_key=True)
    text: str
    rank: int = 0


class Account(Model):
    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    name: str


class Draft(Model):
    id: str = Field(primary_key=True)
    text: str = ""
    version: int = Field(version=True)


class Message(Model):
    thread: str = Field(partition_key=True)
    seq: int = Field(sort_key=True)
    body: str


def test_point_operations_without_unique_fields_send_one_request_each(bind, requests):
    bind(Note)
    note = Note.create(id="n1", text="hello")
    assert requests.operations == ["PutItem"]
    requests.reset()
    loaded = Note.get(id="n1")
    assert requests.operations == ["GetItem"]
    requests.reset()
    assert loaded is not None
    loaded.text = "changed"
    loaded.save()
    assert requests.operations == ["UpdateItem"]
    requests.reset()
    note.delete()
    assert requests.operations == ["DeleteItem"]


def test_save_sends_only_changed_fields_and_reads_back_in_the_same_request(bind, requests):
    bind(Note)
    note = Note.create(id="n1", text="hello", rank=1)
    requests.reset()
    note.rank = 2
    note.save()
    ((operation, body),) = requests.sent
    assert operation == "UpdateItem"
    assert body["ReturnValues"] == "ALL_NEW"
    assigned = set(body["ExpressionAttributeNames"].values())
    assert "rank" in assigned
    assert "text" not in assigned


def test_versioned_writes_check_the_version_in_the_same_request(bind, requests):
    bind(Draft)
    draft = Draft.create(id="d1")
    requests.reset()
    draft.text = "changed"
    draft.save()
    ((operation, body),) = requests.sent
    assert operation == "UpdateItem"
    assert "version" in body["ExpressionAttributeNames"].values()
    assert {"N": "1"} in body["ExpressionAttributeValues"].values()
    requests.reset()
    latest = Draft.upsert(id="d1", text="again")
    assert requests.operations == ["UpdateItem"]
    requests.reset()
    latest.delete()
    assert requests.operations == ["DeleteItem"]


def test_a_refused_versioned_write_reads_once_to_explain_itself(bind, requests):
    bind(Draft)
    stale = Draft.create(id="d1")
    Draft.upsert(id="d1", text="newer")
    requests.reset()
    stale.text = "stale"
    with pytest.raises(ConcurrentModificationError):
        stale.save()
    assert requests.operations == ["UpdateItem", "GetItem"]
    requests.reset()
    with pytest.raises(ConcurrentModificationError):
        stale.delete()
    assert requests.operations == ["DeleteItem", "GetItem"]


def test_create_and_delete_with_unique_fields_send_one_transaction(bind, requests):
    bind(Account)
    account = Account.create(id="a1", email="a@example.com", name="A")
    assert requests.operations == ["TransactWriteItems"]
    requests.reset()
    account.delete()
    assert requests.operations == ["TransactWriteItems"]


def test_count_uses_select_count_and_never_returns_items(bind, backend, requests, second_client):
    bind(Note)
    for i in range(5):
        Note.create(id=f"n{i}", text="t", rank=i)
    requests.reset()
    answers: list[dict[str, Any]] = []

    def seen_on_the_way_back(operation: str, body: dict[str, Any]) -> HttpResponse | None:
        # The scan is sent by a client of the test's own, and its answer handed back.
        if operation != "Scan":
            return None
        got = second_client.scan(**body)
        got.pop("ResponseMetadata")
        answers.append(got)
        return HttpResponse(200, {}, json.dumps(got).encode())

    backend.interceptors.append(seen_on_the_way_back)  # after the counter: it answers
    try:
        assert Note.where(rank__gte=2).count() == 3
    finally:
        backend.interceptors.remove(seen_on_the_way_back)
    assert requests.operations == ["Scan"]
    assert requests.sent[0][1]["Select"] == "COUNT"
    assert answers and all("Items" not in answer for answer in answers)


def test_filter_fixing_the_partition_key_queries_and_never_scans(bind, requests):
    bind(Message)
    for seq in range(3):
        Message.create(thread="t1", seq=seq, body="x")
    Message.create(thread="t2", seq=0, body="y")
    requests.reset()
    found = Message.where(thread="t1", seq__gte=1).order_by("seq").all()
    assert [m.seq for m in found] == [1, 2]
    assert requests.operations == ["Query"]


def test_filter_fixing_the_whole_key_reads_one_item(bind, requests):
    bind(Note)
    Note.create(id="n1", text="a")
    requests.reset()
    assert [n.id for n in Note.where(id="n1")] == ["n1"]
    assert requests.operations == ["GetItem"]


def test_filter_on_a_unique_value_reads_its_sentinel_then_the_row(bind, requests):
    bind(Account)
    Account.create(id="a1", email="a@example.com", name="A")
    requests.reset()
    found = Account.where(email="a@example.com").first()
    assert found is not None and found.id == "a1"
    assert requests.operations == ["GetItem", "GetItem"]


def test_exists_stops_at_the_first_page_with_a_match(bind, requests):
    bind(Note)
    text = "x" * 9_000
    for i in range(250):  # about 2.3 MB: several Scan pages
        Note.create(id=f"n{i:03}", text=text, rank=i)
    requests.reset()
    assert Note.where(rank__gte=0).exists()
    assert requests.operations == ["Scan"]
    requests.reset()
    assert Note.where(rank__gte=0).count() == 250
    assert len(requests.operations) > 1  # real pages happened


def test_the_key_condition_is_not_repeated_as_a_filter_but_contradictions_hold(bind, requests):
    bind(Message)
    Message.create(thread="t1", seq=1, body="x")
    requests.reset()
    assert Message.where(thread="t1").count() == 1
    ((_, body),) = requests.sent
    assert "FilterExpression" not in body
    assert Message.where(thread="t1").and_(thread="t2").all() == []


def test_iterating_a_query_reads_one_page_at_a_time(bind, requests):
    bind(Note)
    Note.create_many([{"id": f"n{i:03}", "text": "t" * 9_000} for i in range(250)])
    requests.reset()
    rows = iter(Note.where(rank__gte=0))
    next(rows)
    assert requests.operations == ["Scan"]  # ~2.2 MB of items: three pages, one read so far
    assert sum(1 for _ in rows) == 249
    assert requests.operations == ["Scan"] * 3


class Tagged(Model):
    id: str = Field(primary_key=True)
    tag: str | None = None


def test_save_sends_only_what_changed_even_when_that_is_a_removal(bind, requests):
    bind(Tagged)
    row = Tagged.create(id="t1", tag="x")
    requests.reset()
    row.tag = None
    row.save()
    ((_, body),) = requests.sent
    expression, names = unmarked(body)
    assert expression.startswith("REMOVE ")
    assert names == ["pk", "tag"]
    row.save()  # nothing changed: still one valid request
    assert Tagged.get(id="t1") == Tagged(id="t1")


class Unique(Model):
    id: str = Field(primary_key=True)
    code: str = Field(unique=True)
    body: str = ""


def test_create_many_of_nothing_sends_nothing(bind, requests):
    bind(Unique, Note)
    Unique.create_many([])
    Note.create_many([])
    assert requests.operations == []


def test_create_many_without_unique_fields_checks_then_writes_conditional_transactions(
    bind, requests
):
    bind(Note)
    Note.create_many([{"id": f"n{i:03}", "text": "t"} for i in range(250)])
    counts = requests.counts()
    assert counts == {"BatchGetItem": 3, "TransactWriteItems": 3}  # 100 keys, 100 actions each
    for name, body in requests.sent:
        if name == "TransactWriteItems":
            puts = [action["Put"] for action in body["TransactItems"]]
            assert len(puts) == len(body["TransactItems"])
            for put in puts:
                name = put["ConditionExpression"].removeprefix("attribute_not_exists(")[:-1]
                assert put["ExpressionAttributeNames"][name] == "pk", put
    assert Note.where().count() == 250


def test_create_many_keeps_each_transaction_under_dynamodbs_4_mb(bind, requests):
    bind(Unique)
    rows = [{"id": f"u{i}", "code": f"c{i}", "body": "b" * 350_000} for i in range(12)]
    Unique.create_many(rows)
    transactions = [body for name, body in requests.sent if name == "TransactWriteItems"]
    assert len(transactions) == 2  # 24 actions fit one transaction, 4.2 MB do not
    assert all(len(json.dumps(body)) < 4_000_000 for body in transactions)
    assert sorted(u.id for u in Unique.all()) == sorted(r["id"] for r in rows)


def test_clear_deletes_rows_before_their_sentinels(bind, backend, requests):
    bind(Unique)
    Unique.create_many([{"id": f"u{i}", "code": f"c{i}"} for i in range(30)])
    requests.reset()
    backend.clear()
    deletes = [
        request["DeleteRequest"]["Key"]["sk"]["S"]
        for name, body in requests.sent
        if name == "BatchWriteItem"
        for request in body["RequestItems"][backend.table_name]
    ]
    assert len(deletes) == 60
    assert deletes == sorted(deletes, key=lambda sk: sk == "#unique")  # rows, then sentinels
    assert Unique.all() == []
