"""Single-table design on DynamoDB: key templates on the wire, index keys, collections,
explain and allow_scan — checked against the items themselves, read by boto3."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from conftest import Requests
from pydantic import ValidationError

from restmachine_orm import (
    Collection,
    Field,
    IndexKeys,
    Keys,
    Model,
    ModelDefinitionError,
    QueryError,
)
from restmachine_orm_dynamodb import DynamoDBBackend


class StOrder(Model):
    model_keys = Keys(
        pk="STORDER#{order_id}",
        sk="STORDER",
        indexes={
            "stgsi1": IndexKeys(pk="STCUST#{customer}", sk="STPLACED#{placed}"),
            "stgsi2": IndexKeys(pk="STREGION#{region}"),
        },
    )
    order_id: str = Field(primary_key=True)
    customer: str
    placed: str
    region: str | None = None


class StLine(Model):
    model_keys = Keys(pk="STORDER#{order_id}", sk="STLINE#{line}#A")
    order_id: str = Field(partition_key=True)
    line: str = Field(sort_key=True)
    qty: int = 1


class StNote(Model):
    # Shares StLine's partitions and the start of its sort keys ("STLINE#"), not its keys.
    model_keys = Keys(pk="STORDER#{order_id}", sk="STLINE#{line}#B")
    order_id: str = Field(partition_key=True)
    line: str = Field(sort_key=True)
    text: str = ""


MODELS = (StOrder, StLine, StNote)


@pytest.fixture
def stored(backend: DynamoDBBackend, bind: Any) -> DynamoDBBackend:
    backend.ensure_indexes(list(MODELS))
    bind(*MODELS)
    StOrder.create(order_id="o1", customer="ann", placed="2026-01-02", region="eu")
    StOrder.create(order_id="o2", customer="ann", placed="2026-01-01")
    for line in ("b", "a", "c"):
        StLine.create(order_id="o1", line=line, qty=2)
    StNote.create(order_id="o1", line="a", text="fragile")
    return backend


def item(backend: DynamoDBBackend, pk: str, sk: str) -> dict[str, Any]:
    answer = backend.client.get_item(
        TableName=backend.table_name,
        Key={"pk": {"S": pk}, "sk": {"S": sk}},
        ConsistentRead=True,
    )
    found: dict[str, Any] = answer.get("Item", {})
    return found


# -- items on the wire ---------------------------------------------------------------------


def test_items_are_stored_at_their_templates(stored: DynamoDBBackend) -> None:
    order = item(stored, "STORDER#o1", "STORDER")
    assert order["stgsi1pk"] == {"S": "STCUST#ann"}
    assert order["stgsi1sk"] == {"S": "STPLACED#2026-01-02"}
    assert order["stgsi2pk"] == {"S": "STREGION#eu"}
    assert order["_type"] == {"S": "StOrder"}
    assert item(stored, "STORDER#o1", "STLINE#b#A")["qty"] == {"N": "2"}
    assert item(stored, "STORDER#o1", "STLINE#a#B")["text"] == {"S": "fragile"}


def test_a_row_without_an_index_field_stays_out_of_the_index(stored: DynamoDBBackend) -> None:
    order = item(stored, "STORDER#o2", "STORDER")
    assert "stgsi2pk" not in order
    in_index = stored.client.scan(TableName=stored.table_name, IndexName="stgsi2")["Items"]
    assert [found["order_id"]["S"] for found in in_index] == ["o1"]


def test_the_table_has_the_declared_indexes(stored: DynamoDBBackend) -> None:
    table = stored.client.describe_table(TableName=stored.table_name)["Table"]
    schemas = {index["IndexName"]: index["KeySchema"] for index in table["GlobalSecondaryIndexes"]}
    assert schemas["stgsi1"] == [
        {"AttributeName": "stgsi1pk", "KeyType": "HASH"},
        {"AttributeName": "stgsi1sk", "KeyType": "RANGE"},
    ]
    assert schemas["stgsi2"] == [{"AttributeName": "stgsi2pk", "KeyType": "HASH"}]


# -- queries -------------------------------------------------------------------------------


def test_a_partition_query_is_one_query_in_sort_key_order(
    stored: DynamoDBBackend, requests: Requests
) -> None:
    requests.reset()
    lines = StLine.where(order_id="o1").all()
    assert [line.line for line in lines] == ["a", "b", "c"]
    ((operation, body),) = requests.sent
    assert operation == "Query"
    values = body["ExpressionAttributeValues"]
    assert {"S": "STORDER#o1"} in values.values()
    assert {"S": "STLINE#"} in values.values()
    assert "begins_with" in body["KeyConditionExpression"]


def test_a_declared_index_answers_its_partition(
    stored: DynamoDBBackend, requests: Requests
) -> None:
    requests.reset()
    assert [o.order_id for o in StOrder.where(customer="ann")] == ["o2", "o1"]
    assert [o.order_id for o in StOrder.where(region="eu")] == ["o1"]
    assert [(name, body["IndexName"]) for name, body in requests.sent] == [
        ("Query", "stgsi1"),
        ("Query", "stgsi2"),
    ]


@pytest.mark.parametrize(
    "query",
    [
        lambda: StOrder.where(order_id="o1"),
        lambda: StLine.where(order_id="o1"),
        lambda: StLine.where(order_id="o1", qty__gte=2),
        lambda: StOrder.where(customer="ann", placed="2026-01-01"),
        lambda: StOrder.where(region="eu"),
        lambda: StOrder.where(placed="2026-01-01"),
        lambda: StOrder.where(customer__iexact="ANN").order_by("-placed"),
    ],
)
def test_explain_sends_nothing_and_is_the_request_sent(
    stored: DynamoDBBackend, requests: Requests, query: Any
) -> None:
    requests.reset()
    plan = query().explain()
    assert requests.sent == []
    query().all()
    operation, body = requests.sent[0]
    assert plan.operation == operation
    if operation == "GetItem":
        key = {plan.names[k]: plan.values[v] for k, v in _equalities(plan.key_condition or "")}
        assert key == body["Key"]
        return
    assert plan.index == body.get("IndexName")
    assert plan.key_condition == body.get("KeyConditionExpression")
    assert plan.filter == body.get("FilterExpression")
    assert dict(plan.values) == body.get("ExpressionAttributeValues", {})
    assert dict(plan.names) == body.get("ExpressionAttributeNames", {})


def _equalities(condition: str) -> list[tuple[str, str]]:
    return [tuple(part.split(" = ")) for part in condition.split(" AND ")]  # type: ignore[misc]


def test_allow_scan_false_refuses_a_scan_before_any_request(
    stored: DynamoDBBackend, requests: Requests
) -> None:
    strict = DynamoDBBackend(stored.table_name, client=stored.client, allow_scan=False)
    strict.interceptors.append(requests._record)
    StOrder.model_backend = strict  # the bind fixture restores it
    requests.reset()
    with pytest.raises(QueryError, match=r"StOrder\.where\(placed='x'\) would scan"):
        StOrder.where(placed="x").all()
    with pytest.raises(QueryError, match=r"index 'stgsi1' \(customer\)"):
        StOrder.all().count()
    assert requests.sent == []
    assert StOrder.where(customer="ann").count() == 2
    strict.close()


# -- writes of index keys ------------------------------------------------------------------


def test_a_partial_index_key_update_sends_nothing(
    stored: DynamoDBBackend, requests: Requests
) -> None:
    requests.reset()
    with pytest.raises(QueryError, match=r"index 'stgsi1'"):
        StOrder.update_by_key({"order_id": "o1"}, customer="bob")
    assert requests.sent == []
    assert item(stored, "STORDER#o1", "STORDER")["customer"] == {"S": "ann"}


def test_save_and_update_keep_index_keys_in_step(stored: DynamoDBBackend) -> None:
    order = StOrder.get(order_id="o1")
    assert order is not None
    order.customer = "bob"
    order.save()
    assert item(stored, "STORDER#o1", "STORDER")["stgsi1pk"] == {"S": "STCUST#bob"}
    order.update(region=None)
    assert "stgsi2pk" not in item(stored, "STORDER#o1", "STORDER")
    StOrder.update_by_key({"order_id": "o1"}, customer="cy", placed="2026-02-01")
    written = item(stored, "STORDER#o1", "STORDER")
    assert (written["stgsi1pk"], written["stgsi1sk"]) == (
        {"S": "STCUST#cy"},
        {"S": "STPLACED#2026-02-01"},
    )
    assert [o.order_id for o in StOrder.where(customer="cy")] == ["o1"]


# -- collections ---------------------------------------------------------------------------


def test_a_collection_is_one_query_per_page(stored: DynamoDBBackend, requests: Requests) -> None:
    requests.reset()
    rows = Collection(StOrder, StLine, StNote).read(order_id="o1")
    assert [o.order_id for o in rows[StOrder]] == ["o1"]
    assert [line.line for line in rows[StLine]] == ["a", "b", "c"]
    assert [note.text for note in rows[StNote]] == ["fragile"]
    assert requests.operations == ["Query"]


def test_a_collection_reads_alike_async(stored: DynamoDBBackend) -> None:
    rows = asyncio.run(Collection(StLine, StNote).aread(order_id="o1"))
    assert [line.line for line in rows[StLine]] == ["a", "b", "c"]
    assert [note.line for note in rows[StNote]] == ["a"]


def test_a_collection_of_many_pages_sends_one_query_a_page(
    backend: DynamoDBBackend, bind: Any, requests: Requests
) -> None:
    bind(*MODELS)
    StLine.create_many({"order_id": "big", "line": f"{n:03}", "qty": 1} for n in range(60))
    StNote.create_many(
        {"order_id": "big", "line": f"{n:03}", "text": "x" * 60_000} for n in range(60)
    )
    # The oracle: boto3 paging the same partition, counting its pages.
    client, pages, request = (
        backend.client,
        0,
        {
            "TableName": backend.table_name,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "STORDER#big"}},
            "ConsistentRead": True,
        },
    )
    while True:
        pages += 1
        answer = client.query(**request)
        if "LastEvaluatedKey" not in answer:
            break
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    assert pages > 1
    requests.reset()
    rows = Collection(StLine, StNote).read(order_id="big")
    assert (len(rows[StLine]), len(rows[StNote])) == (60, 60)
    assert requests.operations == ["Query"] * pages


# -- proofs: each guarantee's test fails when the guarantee is broken ---------------------------


def test_proof_without_the_entity_filter_a_partition_query_returns_other_models_rows(
    stored: DynamoDBBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def only_lines() -> None:
        assert [type(found) for found in StLine.where(order_id="o1")] == [StLine] * 3

    only_lines()
    schema = StLine.orm_schema()
    # The filter is kept for models with templates; as if it were not:
    monkeypatch.setattr(schema, "layout", dataclasses.replace(schema.layout, declared=False))
    # StNote's items now come back as StLine rows: wrong instances, or rows that do not
    # even validate as StLine (a note has no qty).
    with pytest.raises((AssertionError, ValidationError)):
        only_lines()


def test_proof_a_partial_index_key_update_would_leave_the_index_stale(
    stored: DynamoDBBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    import restmachine_orm.query.changes as changes

    monkeypatch.setattr(changes, "_check_index_keys", lambda *_: None)
    StOrder.update_by_key({"order_id": "o1"}, customer="bob")
    # The row says bob, its index key still says ann: index queries now lie.
    assert item(stored, "STORDER#o1", "STORDER")["stgsi1pk"] == {"S": "STCUST#ann"}
    assert [o.order_id for o in StOrder.where(customer="bob")] == []


def test_proof_an_index_with_a_nullable_sort_field_would_miss_rows(
    backend: DynamoDBBackend, bind: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    class StTask(Model):
        model_keys = Keys(
            pk="STTASK#{id}",
            sk="STTASK",
            indexes={"stgsi3": IndexKeys(pk="STO#{owner}", sk="{due}")},
        )
        id: str = Field(primary_key=True)
        owner: str
        due: str | None = None

    backend.ensure_indexes([StTask])
    bind(StTask)
    StTask.create(id="t1", owner="ann", due="2026-05-01")
    StTask.create(id="t2", owner="ann")  # no due date: not in stgsi3
    assert sorted(t.id for t in StTask.where(owner="ann")) == ["t1", "t2"]  # a Scan: right
    # A filter that rules None out for the sort field may use the index: it loses nothing.
    assert StTask.where(owner="ann", due__gte="2026").explain().index == "stgsi3"
    assert [t.id for t in StTask.where(owner="ann", due__gte="2026")] == ["t1"]

    import restmachine_orm.query.access as access

    # As if the planner used the index although a matching row may lack its sort field:
    monkeypatch.setattr(access, "_serves", lambda *_: True)
    assert sorted(t.id for t in StTask.where(owner="ann")) == ["t1"]  # t2 is lost


def test_two_models_cannot_define_one_index_two_ways(backend: DynamoDBBackend) -> None:
    class StTicket(Model):
        id: str = Field(primary_key=True)
        status: str = Field(index=True)  # its index: by_status, keyed on _by_status

    class StCase(Model):
        model_keys = Keys(
            pk="STCASE#{id}", sk="STCASE", indexes={"by_status": IndexKeys(pk="S#{status}")}
        )
        id: str = Field(primary_key=True)
        status: str

    with pytest.raises(ModelDefinitionError, match=r"index 'by_status' is keyed on"):
        backend.ensure_indexes([StTicket, StCase])


class StMember(Model):
    # One partition for every member; the sort key fixes organisation, then user.
    model_keys = Keys(pk="STMEMBERS", sk="STORG#{org}#STUSER#{user}")
    org: str = Field(partition_key=True)
    user: str = Field(sort_key=True)


def test_a_partly_fixed_sort_key_is_a_begins_with(
    backend: DynamoDBBackend, bind: Any, requests: Requests
) -> None:
    bind(StMember)
    for org, user in (("o1", "ann"), ("o1", "al"), ("o1", "bob"), ("o10", "ann"), ("o2", "a")):
        StMember.create(org=org, user=user)
    cases = [
        (StMember.where(org="o1"), "STORG#o1#STUSER#", ["al", "ann", "bob"]),
        (StMember.where(org="o1", user__startswith="a"), "STORG#o1#STUSER#a", ["al", "ann"]),
        (StMember.where(user="ann"), "STORG#", ["ann", "ann"]),
    ]
    for query, prefix, users in cases:
        requests.reset()
        assert [member.user for member in query] == users
        ((operation, body),) = requests.sent
        assert operation == "Query"
        assert body["ExpressionAttributeValues"][":v1"] == {"S": prefix}
        assert "begins_with" in body["KeyConditionExpression"]


# -- listed keys: BatchGetItem ---------------------------------------------------------------


def test_listed_keys_are_read_with_batch_get_item(
    stored: DynamoDBBackend, requests: Requests
) -> None:
    requests.reset()
    found = StOrder.where(order_id__in=["o2", "o1", "nope", "o1"]).all()
    assert sorted(o.order_id for o in found) == ["o1", "o2"]
    assert requests.operations == ["BatchGetItem"]
    keys = requests.sent[0][1]["RequestItems"][stored.table_name]["Keys"]
    assert len(keys) == 3  # each key once
    requests.reset()
    assert StOrder.where(order_id__in=["o1", "o2"], customer="ann", region="eu").count() == 1
    assert StLine.where(order_id="o1", line__in=["a", "c"]).count() == 2
    assert asyncio.run(StLine.where(order_id="o1", line__in=["b"]).aexists())
    assert requests.operations == ["BatchGetItem"] * 3
    assert StOrder.where(order_id__in=["o1"]).explain().operation == "BatchGetItem"


def test_listed_keys_are_read_a_hundred_a_request(
    backend: DynamoDBBackend, bind: Any, requests: Requests
) -> None:
    bind(StLine)
    StLine.create_many({"order_id": "o9", "line": f"{n:03}"} for n in range(150))
    requests.reset()
    wanted = [f"{n:03}" for n in range(0, 150, 1)]
    assert len(StLine.where(order_id="o9", line__in=wanted).all()) == 150
    assert requests.operations == ["BatchGetItem", "BatchGetItem"]


def test_listed_keys_need_no_scan(stored: DynamoDBBackend) -> None:
    strict = DynamoDBBackend(stored.table_name, client=stored.client, allow_scan=False)
    StOrder.model_backend = strict  # the bind fixture restores it
    assert StOrder.where(order_id__in=["o1", "o2"]).count() == 2
    strict.close()


def _two_models_on_one_key() -> tuple[type[Model], type[Model]]:
    class StReceipt(Model):
        model_keys = Keys(pk="STPAPER#{paper_id}", sk="STPAPER")
        paper_id: str = Field(primary_key=True)
        total: int = 0

    class StInvoice(Model):
        model_keys = Keys(pk="STPAPER#{paper_id}", sk="STPAPER")
        paper_id: str = Field(primary_key=True)
        due: str = ""

    return StReceipt, StInvoice


def test_two_models_that_could_share_a_key_are_refused_when_the_second_is_created():
    with pytest.raises(ModelDefinitionError, match="one model's rows would overwrite"):
        _two_models_on_one_key()


def test_proof_without_the_collision_check_one_model_overwrites_the_others_row(
    backend, bind, monkeypatch
):
    from restmachine_orm import keys

    monkeypatch.setattr(keys, "_overlap", lambda first, second: False)
    receipt_model, invoice_model = _two_models_on_one_key()
    bind(receipt_model, invoice_model)
    receipt_model.create(paper_id="p1", total=10)
    invoice_model.upsert(paper_id="p1", due="monday")  # the same item: pk and sk alike
    stored = item(backend, "STPAPER#p1", "STPAPER")
    # One item now holds both rows' fields, marked as the invoice's: the receipt is gone
    # from every query of receipts.
    assert stored["_type"] == {"S": "StInvoice"}
    assert (stored["total"], stored["due"]) == ({"N": "10"}, {"S": "monday"})
    assert receipt_model.where(total=10).all() == []
