"""Index selection is automatic: a filter fixing an indexed field queries its index."""

from __future__ import annotations

import pytest

from restmachine_orm import Field, Model
from restmachine_orm_dynamodb import DynamoDBBackend, DynamoDBError


class Ticket(Model):
    id: str = Field(primary_key=True)
    status: str | None = Field(None, index=True)
    owner: str = Field(index=True)
    points: int = 0


class Unindexed(Model):
    id: str = Field(primary_key=True)
    colour: str = Field(index=True)


@pytest.fixture
def tickets(backend: DynamoDBBackend, bind):
    backend.ensure_indexes([Ticket])
    bind(Ticket)
    Ticket.create(id="t1", status="open", owner="ann", points=3)
    Ticket.create(id="t2", status="open", owner="bob", points=5)
    Ticket.create(id="t3", status="closed", owner="ann", points=1)
    Ticket.create(id="t4", status=None, owner="bob")
    return backend


def test_a_pinned_indexed_field_queries_its_index(tickets, requests):
    requests.reset()
    found = Ticket.where(status="open", points__gte=4).all()
    assert [t.id for t in found] == ["t2"]
    ((operation, body),) = requests.sent
    assert operation == "Query"
    assert body["IndexName"] == "by_status"


def test_index_follows_saves_and_leaves_out_none(tickets):
    ticket = Ticket.get(id="t1")
    assert ticket is not None
    ticket.status = "closed"
    ticket.save()
    assert sorted(t.id for t in Ticket.where(status="closed")) == ["t1", "t3"]
    ticket.status = None
    ticket.save()
    assert sorted(t.id for t in Ticket.where(status="closed")) == ["t3"]
    assert sorted(t.id for t in Ticket.where(status__isnull=True)) == ["t1", "t4"]
    Ticket.upsert(id="t4", status="open", owner="cy")
    assert sorted(t.id for t in Ticket.where(owner="cy")) == ["t4"]
    assert Ticket.where(owner="bob").count() == 1


def test_a_missing_index_is_a_clear_error(backend, bind):
    bind(Unindexed)
    Unindexed.create(id="u1", colour="red")
    with pytest.raises(DynamoDBError, match=r"Unindexed\.colour.*ensure_indexes"):
        Unindexed.where(colour="red").all()
