"""Request logs, consumed capacity and tracing, against the test server.

Oracles are independent of the code under test: the request counter (an interceptor that
sees each attempt before it is sent) for how many requests went out, and boto3, sending
the same request to the same server, for how many capacity units it costs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from answers import Throttle, error
from conftest import Requests

from restmachine_orm import Field, Model, transaction
from restmachine_orm_dynamodb import DynamoDBBackend, DynamoDBError
from restmachine_orm_dynamodb._observe import CAPACITY_OPERATIONS, LOGGER

SECRET = "SECRET-never-in-a-log-line"
ACCESS_KEY = "AKIDNEVERINALOG"


class Probe(Model):
    id: str = Field(primary_key=True)
    team: str = Field(default="red", index=True)
    n: int = 0


class Plain(Model):
    """No index: a create writes one item and nothing else (an index write costs units)."""

    id: str = Field(primary_key=True)
    n: int = 0


class Member(Model):
    id: str = Field(primary_key=True)
    email: str = Field(unique=True)


@pytest.fixture
def watched(backend: DynamoDBBackend, endpoint: str, bind: Any) -> Iterator[DynamoDBBackend]:
    """A second backend on the test table, asking for consumed capacity, with its own keys."""
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
    )
    made = DynamoDBBackend(backend.table_name, client=client, consumed_capacity=True)
    # Its own keys may make it another account (DynamoDB Local's tables are per key).
    made.create_table([Probe])
    made.clear()
    made.consumed_capacity.reset()
    for model in (Probe, Plain, Member):
        bind(model)
        model.model_backend = made
    yield made
    made.close()


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger=LOGGER.name)
    return caplog


def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == LOGGER.name]


# -- request logs ---------------------------------------------------------------------------


def test_every_request_is_logged_once_at_debug_with_what_it_was_about(
    watched: DynamoDBBackend, debug_log: pytest.LogCaptureFixture
) -> None:
    counter = Requests(watched)
    Probe.create(id="p1", team="blue")
    Probe.get(id="p1")
    assert [p.id for p in Probe.where(team="blue")] == ["p1"]
    counter.stop()

    logged = records(debug_log)
    assert [record.dynamodb["operation"] for record in logged] == counter.operations
    assert {record.levelno for record in logged} == {logging.DEBUG}
    # The query may look at the table's indexes first (DescribeTable, once per backend).
    logged = [record for record in logged if record.dynamodb["operation"] != "DescribeTable"]
    put, get, query = (record.dynamodb for record in logged)
    assert (put["operation"], put["model"], put["orm_operation"]) == ("PutItem", "Probe", "create")
    assert (get["operation"], get["orm_operation"]) == ("GetItem", "get")
    assert (query["operation"], query["index"], query["orm_operation"]) == (
        "Query",
        "by_team",
        "query",
    )
    for fields in (put, get, query):
        assert fields["table"] == watched.table_name
        assert fields["duration_ms"] > 0
        assert (fields["attempts"], fields["status"], fields["error"]) == (1, 200, None)
        assert fields["read_units"] is not None  # asked for: consumed_capacity=True
    assert (
        logged[2]
        .getMessage()
        .startswith(f"Query table={watched.table_name} index=by_team model=Probe op=query ")
    )


def test_logs_name_no_secret_no_signature_and_no_stored_value(
    watched: DynamoDBBackend, debug_log: pytest.LogCaptureFixture
) -> None:
    Member.create(id="m1", email="ann@example.com")
    Member.get(id="m1").delete()
    text = "\n".join(
        f"{record.getMessage()} {getattr(record, 'dynamodb', '')}" for record in records(debug_log)
    )
    assert "TransactWriteItems" in text
    for secret in (SECRET, ACCESS_KEY, "Signature", "Authorization", "ann@example.com", "m1"):
        assert secret not in text


def test_a_retried_request_is_one_line_with_its_attempts_and_its_last_outcome(
    watched: DynamoDBBackend, debug_log: pytest.LogCaptureFixture
) -> None:
    watched.interceptors.append(Throttle("GetItem", "ThrottlingException", times=1))
    assert Probe.get(id="absent") is None
    (record,) = records(debug_log)
    assert (record.dynamodb["attempts"], record.dynamodb["status"]) == (2, 200)
    assert record.dynamodb["error"] is None


def test_a_failed_request_is_logged_with_its_error_code(
    watched: DynamoDBBackend, debug_log: pytest.LogCaptureFixture
) -> None:
    watched.interceptors.append(lambda operation, body: error("ValidationException"))
    with pytest.raises(DynamoDBError):
        Probe.get(id="p1")
    (record,) = records(debug_log)
    assert (record.dynamodb["status"], record.dynamodb["error"]) == (400, "ValidationException")


def test_nothing_is_logged_above_debug(
    watched: DynamoDBBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER.name)
    Probe.create(id="p1")
    assert records(caplog) == []


# -- consumed capacity ----------------------------------------------------------------------


def boto3_units(client: Any, operation: str, **request: Any) -> dict[str, Any]:
    """What the server says the request consumed, asked through boto3 (the oracle)."""
    answer = getattr(client, operation)(ReturnConsumedCapacity="TOTAL", **request)
    consumed: dict[str, Any] = answer["ConsumedCapacity"]
    return consumed


def test_totals_per_model_and_operation_match_what_the_server_reports_to_boto3(
    watched: DynamoDBBackend,
) -> None:
    second_client = watched.client  # boto3's own transport, on the backend's account
    Plain.create(id="p1")
    Plain.get(id="p1")
    totals = watched.consumed_capacity.by_operation
    assert set(totals) == {("Plain", "create"), ("Plain", "get")}

    # The same item put and read again by boto3 costs the same units.
    item = second_client.get_item(
        TableName=watched.table_name, Key=watched.keys.item_key(Plain.orm_schema(), ("p1",))
    )["Item"]
    put = boto3_units(second_client, "put_item", TableName=watched.table_name, Item=item)
    key = watched.keys.item_key(Plain.orm_schema(), ("p1",))
    got = boto3_units(
        second_client, "get_item", TableName=watched.table_name, Key=key, ConsistentRead=True
    )
    assert totals[("Plain", "create")].write == put["CapacityUnits"]
    assert totals[("Plain", "create")].read == 0
    assert totals[("Plain", "get")].read == got["CapacityUnits"]
    assert watched.consumed_capacity.write == put["CapacityUnits"]

    watched.consumed_capacity.reset()
    assert watched.consumed_capacity.by_operation == {}
    assert (watched.consumed_capacity.read, watched.consumed_capacity.write) == (0, 0)


def test_every_request_that_can_asks_for_its_capacity_and_none_else(
    watched: DynamoDBBackend,
) -> None:
    counter = Requests(watched)
    Probe.create(id="p1")
    Member.create(id="m1", email="a@x.io")
    Probe.create_many([{"id": "p2"}, {"id": "p3"}])
    Probe.get_many([{"id": "p1"}, {"id": "p2"}])
    Probe.where(n__gte=0).count()
    counter.stop()
    asked = {name: body.get("ReturnConsumedCapacity") for name, body in counter.sent}
    assert asked == {
        name: "TOTAL" if name in CAPACITY_OPERATIONS else None for name, _ in counter.sent
    }
    assert {"PutItem", "TransactWriteItems", "BatchGetItem", "Scan"} <= set(asked)


def test_a_backend_not_asked_for_capacity_sends_no_such_parameter_and_counts_nothing(
    backend: DynamoDBBackend, requests: Requests, bind: Any
) -> None:
    bind(Probe)
    Probe.create(id="p1")
    Probe.get(id="p1")
    assert [body.get("ReturnConsumedCapacity") for _, body in requests.sent] == [None, None]
    assert backend.consumed_capacity.by_operation == {}


def test_capacity_block_asks_even_when_the_backend_does_not_and_counts_only_its_inside(
    backend: DynamoDBBackend, requests: Requests, bind: Any
) -> None:
    second_client = backend.client  # boto3's own transport, on the backend's account
    bind(Plain)
    Plain.create(id="before")
    with backend.capacity() as used:
        Plain.create(id="p1")
    Plain.create(id="after")
    assert [body.get("ReturnConsumedCapacity") for _, body in requests.sent] == [
        None,
        "TOTAL",
        None,
    ]
    item = second_client.get_item(
        TableName=backend.table_name, Key=backend.keys.item_key(Plain.orm_schema(), ("p1",))
    )["Item"]
    put = boto3_units(second_client, "put_item", TableName=backend.table_name, Item=item)
    assert used.write == put["CapacityUnits"]
    assert set(used.by_operation) == {("Plain", "create")}


def test_capacity_blocks_nest_and_each_counts_what_it_holds(watched: DynamoDBBackend) -> None:
    with watched.capacity() as outer:
        Probe.create(id="p1")
        with watched.capacity() as inner:
            Probe.get(id="p1")
    assert inner.write == 0 and inner.read > 0
    assert outer.write > 0 and outer.read == inner.read


def test_a_block_counts_its_batch_requests_sent_from_worker_threads(
    watched: DynamoDBBackend,
) -> None:
    # 250 keys: three BatchGetItem requests, sent together on worker threads.
    Probe.create_many([{"id": f"p{i}"} for i in range(250)])
    watched.consumed_capacity.reset()
    with watched.capacity() as used:
        assert len(Probe.get_many([{"id": f"p{i}"} for i in range(250)])) == 250
    assert used.read > 0
    assert used.by_operation == watched.consumed_capacity.by_operation


def blocks_in_two_threads(backend: DynamoDBBackend) -> tuple[float, float]:
    """The read units counted by two overlapping blocks: one reading once, one four times."""
    Plain.create(id="p1")
    barrier = threading.Barrier(2)
    used: dict[int, Any] = {}

    def reader(gets: int) -> None:
        with backend.capacity() as mine:
            barrier.wait()  # both blocks are open before either reads
            for _ in range(gets):
                Plain.get(id="p1")
            barrier.wait()  # and stay open until both have read
        used[gets] = mine

    threads = [threading.Thread(target=reader, args=(gets,)) for gets in (1, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return used[1].read, used[4].read


def test_concurrent_blocks_in_threads_count_only_their_own_requests(
    watched: DynamoDBBackend,
) -> None:
    one, four = blocks_in_two_threads(watched)
    assert four == 4 * one > 0


def test_concurrent_blocks_in_tasks_count_only_their_own_requests(
    watched: DynamoDBBackend,
) -> None:
    Probe.create(id="p1")

    async def reader(gets: int) -> float:
        with watched.capacity() as mine:
            for _ in range(gets):
                await Probe.aget(id="p1")
                await asyncio.sleep(0)
        return mine.read

    async def main() -> list[float]:
        try:
            return list(await asyncio.gather(reader(1), reader(3)))
        finally:
            await watched.aclose()

    one, three = asyncio.run(main())
    assert three == 3 * one > 0


def test_a_transaction_counts_under_its_models(watched: DynamoDBBackend) -> None:
    probe = Probe.create(id="p1")
    with watched.capacity() as used, transaction() as tx:
        tx.create(Member, id="m1", email="m@x.io")
        tx.update(probe, n=2)
    # Its units are whatever the server says (moto says nothing for a transaction): the
    # cost table's test checks them on DynamoDB Local.
    assert set(used.by_operation) == {("Member+Probe", "transaction")}


# -- proofs: the tests above fail when what they test is broken ------------------------------


def test_proof_a_block_misses_batch_units_if_worker_threads_lose_the_context(
    watched: DynamoDBBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextvars

    from restmachine_orm_dynamodb import _flow

    Plain.create_many([{"id": f"p{i}"} for i in range(250)])
    watched.consumed_capacity.reset()
    # Broken: each worker thread starts from an empty context, as a bare pool's would.
    monkeypatch.setattr(_flow.contextvars, "copy_context", contextvars.Context)
    with watched.capacity() as used:
        Plain.get_many([{"id": f"p{i}"} for i in range(250)])
    assert used.read == 0
    assert watched.consumed_capacity.read > 0  # the units came back; the block missed them


class _GlobalVariable:
    """A context variable broken into a global: every thread and task sees one value."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def get(self) -> Any:
        return self.value

    def set(self, value: Any) -> Any:
        previous, self.value = self.value, value
        return previous

    def reset(self, previous: Any) -> None:
        self.value = previous


def test_proof_concurrent_blocks_count_each_other_if_meters_are_global(
    watched: DynamoDBBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from restmachine_orm_dynamodb import _observe

    monkeypatch.setattr(_observe, "_METERS", _GlobalVariable(()))
    one, four = blocks_in_two_threads(watched)
    assert one == four > 0  # each block counted all five reads, the other's too
    assert four != 4 * one


def test_capacity_a_server_reports_unasked_is_not_counted(
    backend: DynamoDBBackend, bind: Any
) -> None:
    # Watched (faults injected) but not asking: moto answers with ConsumedCapacity anyway.
    from restmachine_orm.faults import FaultPlan

    bind(Probe)
    backend.consumed_capacity.reset()
    backend.inject_faults(FaultPlan())
    try:
        probe = Probe.create(id="p1")
        Probe.get(id="p1")
        probe.save()  # an UpdateItem: moto's answer to it reports capacity unasked
        probe.delete()
    finally:
        backend.inject_faults(None)
    assert backend.consumed_capacity.by_operation == {}
