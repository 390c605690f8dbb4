"""Unique values on DynamoDB: claims made, released and judged as the reference does.

Covers the cases where the backend has to work out who holds a value: equal numbers in
different spellings, servers that give no cancellation reasons, callers whose idea of the
stored row is out of date, and reclaim attempts that meet concurrent writes.
"""

from __future__ import annotations

import decimal
from typing import Any

import pytest
from answers import answer, cancelled, error
from conftest import scan_all

from restmachine_orm import DuplicateKeyError, Field, Model
from restmachine_orm_dynamodb import Backoff, DynamoDBBackend, DynamoDBError, RetryConfig
from restmachine_orm_dynamodb._keys import SENTINEL


class Priced(Model):
    id: str = Field(primary_key=True)
    price: decimal.Decimal = Field(unique=True)


class Handle(Model):
    id: str = Field(primary_key=True)
    handle: str = Field(unique=True)


@pytest.mark.parametrize("spelling", ["1.0", "1.00", "1E+0", "0.1E+1"])
def test_equal_numbers_claim_one_value_whatever_their_spelling(bind, reference, spelling):
    bind(Priced)
    Priced.create(id="a", price=decimal.Decimal("1"))
    with pytest.raises(DuplicateKeyError) as caught:
        Priced.create(id="b", price=decimal.Decimal(spelling))
    assert caught.value.field == "price"
    Priced.model_backend = reference  # the reference agrees
    Priced.create(id="a", price=decimal.Decimal("1"))
    with pytest.raises(DuplicateKeyError):
        Priced.create(id="b", price=decimal.Decimal(spelling))


def test_a_moved_value_written_in_another_spelling_releases_its_claim(bind, claims):
    bind(Priced)
    row = Priced.create(id="a", price=decimal.Decimal("2.50"))
    row.price = decimal.Decimal("3")
    row.save()
    Priced.create(id="b", price=decimal.Decimal("2.5"))  # free again
    claims(Priced)


class NoReasons:
    """A server that cancels transactions without saying why: each transaction is really
    sent (by a second client) and only the reasons of a cancellation are left out."""

    def __init__(self, other: Any) -> None:
        self.other = other
        self.sent = 0

    def __call__(self, operation: str, body: dict[str, Any]) -> Any:
        if operation != "TransactWriteItems":
            return None
        self.sent += 1
        try:
            self.other.transact_write_items(**body)
        except self.other.exceptions.TransactionCanceledException:
            return error("TransactionCanceledException", "Transaction cancelled")
        return answer({})


def test_without_reasons_a_stale_writer_finds_its_own_row_already_holds_the_value(
    bind, inject, second_client, claims
):
    bind(Handle)
    Handle.create(id="r", handle="a")
    first, second = Handle.get(id="r"), Handle.get(id="r")
    second.handle = "b"
    second.save()
    inject(NoReasons(second_client))
    first.handle = "b"  # based on a row that still said "a"
    first.save()  # the row already holds "b": not a duplicate, nothing to claim
    assert Handle.get(id="r").handle == "b"
    Handle.create(id="s", handle="a")  # "a" was released once, and stays free
    claims(Handle)


@pytest.mark.parametrize("looks", [None, 1, 5], ids=["default-3", "1", "5"])
def test_a_reclaim_that_keeps_meeting_conflicts_never_takes_a_held_value(
    bind, backend, inject, claims, looks
):
    bind(Handle)
    if looks is not None:  # the same table and client, another claim_contention knob
        retries = RetryConfig(claim_contention=Backoff(attempts=looks))
        Handle.model_backend = DynamoDBBackend(
            backend.table_name, client=backend.client, retries=retries
        )
    Handle.create(id="holder", handle="mine")
    reclaims = []

    def conflict_on_reclaim(operation: str, body: dict[str, Any]) -> Any:
        if operation != "TransactWriteItems" or not any(
            "ConditionCheck" in action for action in body["TransactItems"]
        ):
            return None
        reclaims.append(body)
        return cancelled("TransactionConflict", "None")

    inject(conflict_on_reclaim, into=Handle.model_backend)
    # Pretend the holder's sentinel names a row that does not exist, so it looks orphaned,
    # while every attempt to reclaim it meets a conflict: in doubt, it stays taken.
    owner_key = backend.keys.item_key(Handle.orm_schema(), ("somebody-else",))
    backend.client.update_item(
        TableName=backend.table_name,
        Key=backend.keys.sentinel_key(Handle.orm_schema(), "handle", "mine"),
        UpdateExpression="SET #o = :o",
        ExpressionAttributeNames={"#o": backend.keys.owner},
        ExpressionAttributeValues={":o": {"M": owner_key}},
    )
    with pytest.raises(DuplicateKeyError):
        Handle.create_many([{"id": "taker", "handle": "mine"}])
    assert len(reclaims) == (looks or 3)
    assert Handle.get(id="taker") is None


def test_a_cancellation_that_retrying_cannot_fix_is_reported_at_once(bind, inject):
    bind(Handle)
    sent = []

    def too_large(operation: str, body: dict[str, Any]) -> Any:
        if operation != "TransactWriteItems":
            return None
        sent.append(body)
        return cancelled("ValidationError", "None")

    inject(too_large)
    with pytest.raises(DynamoDBError, match="was cancelled: ValidationError"):
        Handle.create(id="h", handle="x")
    assert len(sent) == 1


def test_an_update_through_the_backend_claims_a_value_whatever_previous_says(
    bind, backend, second_client, claims
):
    bind(Handle)
    schema = Handle.orm_schema()
    Handle.create(id="r", handle="a")
    Handle.create(id="s", handle="b")
    stale = {"id": "r", "handle": "b"}  # the caller believes r holds "b" already
    with pytest.raises(DuplicateKeyError):
        backend.update(schema, ("r",), {"handle": "b"}, stale)
    assert Handle.get(id="r").handle == "a"
    claims(Handle)
    sentinels = [i for i in scan_all(second_client, backend.table_name) if i["sk"]["S"] == SENTINEL]
    assert len(sentinels) == 2


# -- a release deletes only its own row's claim ------------------------------------------------


def strip_release_conditions(operation: str, body: dict[str, Any]) -> None:
    """The broken writer of the proof: sentinel deletes lose their owner condition."""
    for action in body.get("TransactItems", []):
        delete = action.get("Delete")
        if delete and delete["Key"]["sk"] == {"S": SENTINEL}:
            for part in (
                "ConditionExpression",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
            ):
                delete.pop(part, None)


RELEASES = {
    "save": lambda row: (setattr(row, "handle", "y"), row.save()),
    "upsert": lambda row: Handle.upsert(id=row.id, handle="y"),
    "delete": lambda row: row.delete(),
}


def release_after_the_claim_moved(backend, second_client, release) -> bool:
    """Row ``a`` holds "x", but its claim was deleted from outside and row ``b`` claimed
    "x" since; then ``a`` lets go of "x" (``release``).

    Returns:
        Whether "x" is still protected afterwards: a third row cannot take it.
    """
    Handle.create(id="a", handle="x")
    row = Handle.get(id="a")
    sentinel = backend.keys.sentinel_key(Handle.orm_schema(), "handle", "x")
    second_client.delete_item(TableName=backend.table_name, Key=sentinel)  # e.g. by hand
    Handle.create(id="b", handle="x")  # nothing in its way: "x" is b's now
    release(row)
    try:
        Handle.create(id="c", handle="x")
    except DuplicateKeyError:
        return True
    return False


@pytest.mark.parametrize("reasons", ["given", "withheld"])
@pytest.mark.parametrize("release", RELEASES.values(), ids=RELEASES.keys())
def test_a_release_never_deletes_a_claim_another_row_holds(
    bind, backend, inject, second_client, claims, release, reasons
):
    bind(Handle)
    if reasons == "withheld":
        inject(NoReasons(second_client))
    assert release_after_the_claim_moved(backend, second_client, release)
    owner = second_client.get_item(
        TableName=backend.table_name,
        Key=backend.keys.sentinel_key(Handle.orm_schema(), "handle", "x"),
        ConsistentRead=True,
    )["Item"][backend.keys.owner]
    assert owner == {"M": backend.keys.item_key(Handle.orm_schema(), ("b",))}
    claims(Handle)  # a's release happened all the same: its row and claims agree


@pytest.mark.parametrize("release", RELEASES.values(), ids=RELEASES.keys())
def test_proof_without_the_owner_condition_a_release_frees_another_rows_value(
    bind, backend, inject, second_client, release
):
    bind(Handle)
    inject(strip_release_conditions)
    protected = release_after_the_claim_moved(backend, second_client, release)
    assert not protected  # b's claim was deleted, and c took b's value: what the test catches
