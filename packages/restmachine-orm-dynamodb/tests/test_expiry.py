"""Rows that expire, on DynamoDB: the TTL attribute rows and sentinels carry, its upkeep.

The behaviour every backend shares (expired rows absent, their keys and values free) is
the suite's ``TestExpiry``; here is what only DynamoDB has: its own TTL deletes items
eventually, so a row and its unique sentinels carry the expiry in the table's TTL
attribute, in step, and ``create_table`` turns DynamoDB's TTL on for it.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Any

from conftest import make_client

from restmachine_orm import Field, Model, clock
from restmachine_orm_dynamodb import DynamoDBBackend
from restmachine_orm_dynamodb._transactions import Transaction

T0 = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=1)


class Ticket(Model):
    id: str = Field(primary_key=True)
    code: str | None = Field(None, unique=True)
    seat: str | None = Field(None, unique=True)
    expires: dt.datetime | None = Field(None, ttl=True)


class Plain(Model):
    id: str = Field(primary_key=True)
    expires: dt.datetime | None = Field(None, ttl=True)


def raw(backend: DynamoDBBackend, pk: str, sk: str) -> dict[str, Any]:
    answer = backend.client.get_item(
        TableName=backend.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
    )
    return answer["Item"]


def expiries(backend: DynamoDBBackend, ticket: Ticket) -> set[str | None]:
    """The TTL attribute of the ticket's row and of each of its sentinels."""
    items = [raw(backend, f"Ticket#{ticket.id}", "Ticket")]
    for name in ("code", "seat"):
        value = getattr(ticket, name)
        if value is not None:
            items.append(raw(backend, f"Ticket#{name}#{value}", "#unique"))
    return {item.get("_ttl", {}).get("N") for item in items}


def seconds(moment: dt.datetime) -> str:
    return str(math.ceil(moment.timestamp()))


def test_a_row_and_its_sentinels_carry_its_expiry_in_step(bind, backend):
    bind(Ticket)
    with clock.using(lambda: T0):
        ticket = Ticket.create(id="t1", code="c1", seat="s1", expires=T0 + dt.timedelta(hours=1))
        assert expiries(backend, ticket) == {seconds(T0 + dt.timedelta(hours=1))}
        later = T0 + dt.timedelta(hours=2, microseconds=1)  # rounded up: never early
        ticket.expires = later
        ticket.save()
        assert expiries(backend, ticket) == {seconds(later)}
        ticket.update(expires=None)
        assert expiries(backend, ticket) == {None}
        ticket.update(expires=T0 + dt.timedelta(hours=3), seat="s2")
        assert expiries(backend, ticket) == {seconds(T0 + dt.timedelta(hours=3))}


def test_without_the_sentinels_retimed_they_would_expire_before_their_row(
    bind, backend, monkeypatch
):
    # The proof that the test above can fail: with the sentinels' upkeep dropped, DynamoDB's
    # TTL would delete a live row's sentinels, and another row could take its values.
    monkeypatch.setattr(Transaction, "retime", lambda self, name, value: None)
    bind(Ticket)
    with clock.using(lambda: T0):
        ticket = Ticket.create(id="t1", code="c1", expires=T0 + dt.timedelta(hours=1))
        ticket.update(expires=T0 + dt.timedelta(hours=2))
        assert expiries(backend, ticket) == {
            seconds(T0 + dt.timedelta(hours=1)),
            seconds(T0 + dt.timedelta(hours=2)),
        }


def test_writes_of_an_expiring_model_send_what_its_plain_twin_sends(bind, requests):
    bind(Plain)
    with clock.using(lambda: T0):
        row = Plain.create(id="p1", expires=T0 + dt.timedelta(hours=1))
        Plain.get(id="p1")
        row.update(expires=T0 + dt.timedelta(hours=2))
        row.delete()
        assert requests.operations == ["PutItem", "GetItem", "UpdateItem", "DeleteItem"]
        requests.reset()
        # An upsert reads first: an expired row is replaced as a new one, not updated.
        Plain.upsert(id="p1")
        assert requests.operations == ["GetItem", "TransactWriteItems"]


def test_create_table_turns_on_dynamodbs_ttl_for_the_expiry_attribute(endpoint):
    backend = DynamoDBBackend(
        f"restmachine-ttl-{uuid.uuid4().hex[:8]}", client=make_client(endpoint)
    )
    try:
        backend.create_table([Plain])
        described = backend.client.describe_time_to_live(TableName=backend.table_name)
        assert described["TimeToLiveDescription"]["AttributeName"] == "_ttl"
        assert described["TimeToLiveDescription"]["TimeToLiveStatus"] in ("ENABLED", "ENABLING")
        backend.create_table([Plain])  # again: already on, nothing to do
    finally:
        backend.client.delete_table(TableName=backend.table_name)
