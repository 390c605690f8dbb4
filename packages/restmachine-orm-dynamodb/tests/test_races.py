"""Races on the real server: one winner, the losers told why, nothing half-written."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from conftest import one_winner

from restmachine_orm import DuplicateKeyError, Field, Model, PartialWriteError
from restmachine_orm_dynamodb._flow import run


class Handle(Model):
    id: str = Field(primary_key=True)
    handle: str = Field(unique=True)


class Plain(Model):
    id: str = Field(primary_key=True)
    n: int = 0


def race(workers: int, action: Any) -> list[Any]:
    barrier = threading.Barrier(workers)
    outcomes: list[Any] = [None] * workers

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = action(index)
        except Exception as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("model", [Plain, Handle])
def test_eight_threads_creating_one_key(bind, model):
    bind(model)
    data = (
        (lambda i: {"id": "same", "n": i})
        if model is Plain
        else (lambda i: {"id": "same", "handle": f"h{i}"})
    )
    winner = one_winner(race(8, lambda i: model.create(**data(i))), model)
    assert model.get(id="same") == winner
    if model is Handle:
        # Only the winner's handle is claimed: every loser's value is free again.
        for i in range(8):
            if f"h{i}" != winner.handle:
                Handle.create(id=f"free{i}", handle=f"h{i}")


def test_eight_threads_claiming_one_unique_value(bind):
    bind(Handle)
    outcomes = race(8, lambda i: Handle.create(id=f"u{i}", handle="wanted"))
    winner = one_winner(outcomes, Handle, "handle")
    assert [h.id for h in Handle.where(handle="wanted")] == [winner.id]
    assert Handle.where().count() == 1


# -- create_many against a writer that slips in between its check and its write ---------------


WRITES = ("TransactWriteItems", "BatchWriteItem")


def create_many_meeting_a_rival(
    backend, second_client, write, count: int, rival_id: str = "r005"
) -> Any:
    """Run ``write(rows)`` while another client creates row ``rival_id`` after the check
    reads, just before the first write request leaves the backend's client.

    Returns:
        What ``write`` raised (or ``None``), and the row stored at ``rival_id`` afterwards.
    """
    schema = Plain.orm_schema()
    rows = [{"id": f"r{i:03}", "n": i} for i in range(count)]
    rival = backend.keys.item(schema, {"id": rival_id, "n": -1})
    checks: list[str] = []
    raced = threading.Lock()

    def rival_before_the_first_write(operation: str, _: dict[str, Any]) -> None:
        if operation == "BatchGetItem":
            checks.append(operation)
        elif operation in WRITES and raced.acquire(blocking=False):
            # Once, before the first write request leaves.
            assert checks, "no check read before the write"
            second_client.put_item(TableName=backend.table_name, Item=rival)

    backend.interceptors.append(rival_before_the_first_write)
    try:
        write(rows)
        outcome = None
    except Exception as error:
        outcome = error
    finally:
        backend.interceptors.remove(rival_before_the_first_write)
    assert raced.locked(), "the rival never wrote: the race did not happen"
    key = backend.keys.item_key(schema, (rival_id,))
    stored = second_client.get_item(TableName=backend.table_name, Key=key, ConsistentRead=True)
    return outcome, stored["Item"]


@pytest.mark.parametrize(
    ("count", "rival_id"),
    [(10, "r005"), (250, "r005"), (250, "r205")],
    ids=["one-transaction", "first-of-three-transactions", "last-of-three-transactions"],
)
def test_create_many_never_overwrites_a_row_created_after_its_check(
    backend, bind, second_client, count, rival_id
):
    bind(Plain)
    outcome, stored = create_many_meeting_a_rival(
        backend, second_client, Plain.create_many, count, rival_id
    )
    assert stored["n"] == {"N": "-1"}  # the rival's row survived
    stored_ids = {p.id for p in Plain.all()}
    if rival_id == "r005":  # its transaction came first: nothing of the call was stored
        assert isinstance(outcome, DuplicateKeyError), outcome
        assert outcome.fields == ("id",) and outcome.value == "r005"
        assert stored_ids == {"r005"}
    else:  # the third of three transactions failed: its rows are named, the others stored
        assert isinstance(outcome, PartialWriteError), outcome
        assert isinstance(outcome.__cause__, DuplicateKeyError)
        assert [row["id"] for row in outcome.failed] == [f"r{i:03}" for i in range(200, 250)]
        assert stored_ids == {f"r{i:03}" for i in range(200)} | {"r205"}


def test_proof_the_race_test_catches_an_overwrite_by_batch_write_item(backend, bind, second_client):
    # The old create_many: the same check read, then BatchWriteItem, which has no condition.
    bind(Plain)
    schema = Plain.orm_schema()

    def check_then_batch_write(rows: list[dict[str, Any]]) -> None:
        if any(Plain.get_many([{"id": row["id"]} for row in rows])):
            raise DuplicateKeyError("Plain", ("id",), "?", unique=False)
        for start in range(0, len(rows), 25):
            requests = [{"PutRequest": {"Item": backend.keys.item(schema, r)}} for r in rows]
            # Through the backend's own table, as the old create_many sent it.
            run(backend._table.write_batch(requests[start : start + 25]), backend._sender)

    outcome, stored = create_many_meeting_a_rival(
        backend, second_client, check_then_batch_write, 10
    )
    assert outcome is None  # nothing noticed the rival...
    assert stored["n"] == {"N": "5"}  # ...whose row was overwritten: what the test above catches
