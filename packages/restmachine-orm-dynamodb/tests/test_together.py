"""``Together``: the chunks of one batch call are in flight at the same time, a few at once.

The flow-level tests use a sender that answers only once ``limit`` requests wait together
(a barrier): one request at a time can never get its answer, so each test fails if the
runner sends the flows one after the other (shown by the ``proof`` tests, with a limit of
one). The backend test does the same through the real server.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from restmachine_orm import Field, Model
from restmachine_orm_dynamodb import DynamoDBBackend
from restmachine_orm_dynamodb._batch import CONCURRENCY
from restmachine_orm_dynamodb._flow import (
    Flow,
    HttpRequest,
    HttpResponse,
    Together,
    arun,
    run,
)

WAIT = 5.0  # seconds a request waits for the others before the test fails


def ask(name: str) -> Flow[str]:
    """A flow of one request, returning its answer's body; ``"boom"`` raises instead."""
    answer = yield HttpRequest(name, "http://test/", {}, b"")
    if name == "boom":
        raise ValueError("boom failed")
    return bytes(answer.body).decode()


def all_of(names: list[str], limit: int) -> Flow[list[Any]]:
    return (yield Together([ask(name) for name in names], limit))


class BarrierSender:
    """Answers a request only when ``parties`` requests are waiting at once."""

    def __init__(self, parties: int, wait: float = WAIT) -> None:
        self.barrier = threading.Barrier(parties, timeout=wait)

    def send(self, request: HttpRequest) -> HttpResponse:
        self.barrier.wait()
        return HttpResponse(200, {}, request.operation.encode())


class AsyncBarrierSender:
    def __init__(self, parties: int, wait: float = WAIT) -> None:
        self.parties, self.wait = parties, wait
        self.waiting = 0
        self.all_in = asyncio.Event()

    async def send(self, request: HttpRequest) -> HttpResponse:
        self.waiting += 1
        if self.waiting == self.parties:
            self.all_in.set()
        await asyncio.wait_for(self.all_in.wait(), self.wait)
        return HttpResponse(200, {}, request.operation.encode())


NAMES = ["a", "b", "boom", "d"]
EXPECTED = ["a", "b", "boom failed", "d"]


def shown(outcomes: list[Any]) -> list[str]:
    return [str(o) if isinstance(o, Exception) else o for o in outcomes]


def test_the_sync_runner_sends_the_flows_at_once_and_keeps_their_order_and_errors():
    outcomes = run(all_of(NAMES, limit=4), BarrierSender(4))
    assert shown(outcomes) == EXPECTED
    assert isinstance(outcomes[2], ValueError)


def test_proof_the_sync_barrier_fails_flows_sent_one_at_a_time():
    outcomes = run(all_of(NAMES[:2], limit=1), BarrierSender(2, wait=0.2))
    assert isinstance(outcomes[0], threading.BrokenBarrierError)


def test_the_async_runner_sends_the_flows_at_once_and_keeps_their_order_and_errors():
    outcomes = asyncio.run(arun(all_of(NAMES, limit=4), AsyncBarrierSender(4)))
    assert shown(outcomes) == EXPECTED


def test_proof_the_async_barrier_fails_flows_sent_one_at_a_time():
    outcomes = asyncio.run(arun(all_of(NAMES[:2], limit=1), AsyncBarrierSender(2, wait=0.2)))
    # asyncio.TimeoutError: the builtin TimeoutError only from Python 3.11.
    assert isinstance(outcomes[0], asyncio.TimeoutError)  # alone at the barrier: no answer


def test_the_async_runner_keeps_to_the_limit():
    in_flight = peak = 0

    class Counting:
        async def send(self, request: HttpRequest) -> HttpResponse:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1
            return HttpResponse(200, {}, b"x")

    asyncio.run(arun(all_of([str(n) for n in range(10)], limit=3), Counting()))
    assert peak == 3


class Row(Model):
    id: str = Field(primary_key=True)


@pytest.mark.parametrize("operation", ["BatchWriteItem", "BatchGetItem"])
def test_a_batch_call_has_its_chunks_in_flight_together(
    backend: DynamoDBBackend, bind: Any, inject: Any, operation: str
) -> None:
    bind(Row)
    size = 25 if operation == "BatchWriteItem" else 100
    Row.create_many([{"id": f"r{k:04}"} for k in range(size * CONCURRENCY)])
    barrier = threading.Barrier(CONCURRENCY, timeout=WAIT)

    def hold(name: str, body: dict[str, Any]) -> None:
        if name == operation:
            barrier.wait()  # passes only when every chunk's request is waiting here
        return None

    inject(hold)
    if operation == "BatchWriteItem":
        backend.clear(Row.orm_schema())
        assert Row.all() == []
    else:
        found = Row.get_many([{"id": f"r{k:04}"} for k in range(size * CONCURRENCY)])
        assert all(row is not None for row in found)
