"""A task cancelled while its write is in flight leaves nothing half-written.

The server is slowed down by the proxy: answers to the chosen operation are held back after
the server applied the request, and the task is cancelled then, between the first write
request of a write that sends several and the next. Each guarantee has its proof beside it:
the same scenario with the write run by the plain runner (no finishing) does leave a
half-written state, which is what the guarantee's test would catch.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from answers import error
from conftest import make_client, scan_all
from fault_proxy import FaultProxy

from restmachine_orm import Field, Model, PartialWriteError
from restmachine_orm_dynamodb import DynamoDBBackend
from restmachine_orm_dynamodb import backend as backend_module
from restmachine_orm_dynamodb._flow import HttpResponse
from restmachine_orm_dynamodb._keys import SENTINEL

HELD = 0.3  # seconds each answer of the slowed operation is held back


class Plain(Model):
    id: str = Field(primary_key=True)
    n: int = 0


class Handle(Model):
    id: str = Field(primary_key=True)
    handle: str = Field(unique=True)


async def passthrough(write: Coroutine[Any, Any, Any]) -> Any:
    """The broken runner of the proofs: a cancellation stops the write where it is."""
    return await write


@pytest.fixture
def unfinished(monkeypatch) -> Callable[[], None]:
    def break_it() -> None:
        monkeypatch.setattr(backend_module, "run_to_the_end", passthrough)

    return break_it


def cancel_in_flight(
    proxy: FaultProxy, operation: str, write: Callable[[], Coroutine[Any, Any, Any]]
) -> tuple[BaseException | None, float]:
    """Run ``write`` in a task; cancel it once the first ``operation`` request was applied
    and its answer is held back.

    Returns:
        What awaiting the task raised (``None``: nothing), and how long that took after
        the cancellation.
    """
    proxy.slow(operation, HELD)

    async def scenario() -> tuple[BaseException | None, float]:
        task = asyncio.create_task(write())
        while proxy.forwarded[operation] == 0:
            assert not task.done(), task
            await asyncio.sleep(0.005)
        task.cancel()
        cancelled = time.monotonic()
        try:
            await task
        except BaseException as outcome:  # the outcome is what is checked
            return outcome, time.monotonic() - cancelled
        return None, time.monotonic() - cancelled

    return asyncio.run(scenario())


@pytest.fixture
def slow(backend, bind, proxy) -> DynamoDBBackend:
    """A backend on the test table whose requests pass through the proxy."""
    bind(Plain, Handle)
    return DynamoDBBackend(backend.table_name, client=make_client(proxy.endpoint))


# -- create_many: several transactions ---------------------------------------------------


def cancelled_create_many(slow: DynamoDBBackend, proxy: FaultProxy) -> BaseException | None:
    Plain.model_backend = slow
    rows = [{"id": f"p{i:03}", "n": i} for i in range(250)]  # three transactions of 100
    outcome, _ = cancel_in_flight(proxy, "TransactWriteItems", lambda: Plain.acreate_many(rows))
    return outcome


def test_a_cancelled_create_many_writes_every_row_then_is_cancelled(slow, proxy, backend):
    outcome = cancelled_create_many(slow, proxy)
    assert isinstance(outcome, asyncio.CancelledError), outcome
    Plain.model_backend = backend
    assert Plain.where().count() == 250
    assert proxy.forwarded["TransactWriteItems"] == 3


def test_proof_a_create_many_stopped_by_cancellation_is_half_written_unreported(
    slow, proxy, backend, unfinished
):
    unfinished()
    outcome = cancelled_create_many(slow, proxy)
    assert isinstance(outcome, asyncio.CancelledError), outcome  # no PartialWriteError...
    Plain.model_backend = backend
    assert Plain.where().count() == 100  # ...for a call that stored 100 rows of 250


def test_a_cancelled_create_many_that_then_fails_reports_what_it_stored(slow, proxy, backend):
    def refuse_the_second(operation: str, body: dict[str, Any]) -> HttpResponse | None:
        if operation == "TransactWriteItems" and '"p150"' in json.dumps(body):
            return error("ValidationException", "refused by the test")
        return None

    slow.interceptors.append(refuse_the_second)
    outcome = cancelled_create_many(slow, proxy)
    # The cancellation came while the first transaction was in flight; the second failed
    # after it: the caller learns which rows were not stored, not only that it was cancelled.
    assert isinstance(outcome, PartialWriteError), outcome
    assert [row["id"] for row in outcome.failed] == [f"p{i:03}" for i in range(100, 250)]
    Plain.model_backend = backend
    assert Plain.where().count() == 100


# -- clear: rows first, then their sentinels ------------------------------------------------


def cancelled_clear(slow: DynamoDBBackend, proxy: FaultProxy, second_client: Any) -> set[str]:
    """Clear 30 rows with unique values, cancelled after the first delete request;
    return the sentinels left without their row (orphans)."""
    Handle.model_backend = slow
    asyncio.run(Handle.acreate_many([{"id": f"h{i:02}", "handle": f"v{i}"} for i in range(30)]))
    outcome, _ = cancel_in_flight(proxy, "BatchWriteItem", lambda: slow.aclear(Handle.orm_schema()))
    assert isinstance(outcome, asyncio.CancelledError), outcome
    keys = slow.keys
    items = scan_all(second_client, slow.table_name)
    rows = {item[keys.pk]["S"] for item in items if item[keys.sk]["S"] != SENTINEL}
    return {
        item[keys.pk]["S"]
        for item in items
        if item[keys.sk]["S"] == SENTINEL and item[keys.owner]["M"][keys.pk]["S"] not in rows
    }


def test_a_cancelled_clear_deletes_every_row_and_sentinel(slow, proxy, second_client):
    assert cancelled_clear(slow, proxy, second_client) == set()
    assert scan_all(second_client, slow.table_name) == []
    assert proxy.forwarded["BatchWriteItem"] == 4  # 2 requests of rows, 2 of sentinels


def test_proof_a_clear_stopped_by_cancellation_leaves_orphaned_sentinels(
    slow, proxy, second_client, unfinished
):
    unfinished()
    orphans = cancelled_clear(slow, proxy, second_client)
    # The rows' two requests (25 and 5 rows) go out together, and the task is cancelled once
    # the first was applied: its rows are gone, none of their sentinels. The other request
    # may not have been sent, or be applied while the check reads the table (DynamoDB Local
    # deletes a batch's items one by one), so between 5 and all 30 rows are orphaned.
    assert 5 <= len(orphans) <= 30


# -- a unique write: claims and the row, and the reclaim of an orphan before them -----------


def test_a_cancelled_unique_create_that_reclaims_first_still_creates_the_row(
    slow, proxy, second_client, backend, claims
):
    Handle.model_backend = slow
    # An orphaned sentinel in the way: the create deletes it (one transaction), then writes
    # the row with its claim (another); it is cancelled while the first is in flight.
    second_client.put_item(
        TableName=slow.table_name,
        Item={
            **slow.keys.sentinel_key(Handle.orm_schema(), "handle", "lost"),
            slow.keys.entity: {"S": SENTINEL},
            slow.keys.owner: {"M": slow.keys.item_key(Handle.orm_schema(), ("gone",))},
        },
    )
    outcome, waited = cancel_in_flight(
        proxy, "TransactWriteItems", lambda: Handle.acreate(id="h1", handle="lost")
    )
    assert isinstance(outcome, asyncio.CancelledError), outcome
    assert proxy.forwarded["TransactWriteItems"] == 3  # refused, orphan deleted, written
    assert waited > HELD  # it waited for the write to end
    Handle.model_backend = backend
    assert Handle.get(id="h1") == Handle(id="h1", handle="lost")
    claims(Handle)


def test_a_cancelled_single_request_write_is_simply_cancelled(slow, proxy, backend):
    # One request, nothing to leave half-written: the caller does not wait for its answer.
    Plain.model_backend = slow
    outcome, waited = cancel_in_flight(proxy, "PutItem", lambda: Plain.acreate(id="p1"))
    assert isinstance(outcome, asyncio.CancelledError), outcome
    assert waited < HELD / 2
    Plain.model_backend = backend
    assert Plain.get(id="p1") == Plain(id="p1")  # the server had applied it already
