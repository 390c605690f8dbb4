"""What the DynamoDB benchmark groups share: server, table, items and the timed workloads.

Every contender is a ``Readings``: one client library's way of doing each measured
operation on the same ``Reading`` items (the layout the ORM's single-table design writes),
so that all of them send comparable requests for the same data.
"""

from __future__ import annotations

import os
import uuid
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar

import boto3
from _goals import NotRun
from _lineup import Timing, interleaved
from _sdk_meter import SdkMeter

from restmachine_orm import F, Field, Model, transaction
from restmachine_orm_dynamodb import DEFAULT_CONFIG, DynamoDBBackend

ENDPOINT_VAR = "RESTMACHINE_ORM_BENCH_ENDPOINT"  # dynalite under nox: the fastest server
#: A server with transactions (DynamoDB Local under nox), which dynalite lacks.
TRANSACTIONAL_VAR = "RESTMACHINE_ORM_BENCH_TRANSACTIONAL_ENDPOINT"
REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}

#: The rows every read is measured over: 1,000 items, 100 in each of 10 partitions.
READ_ROWS = [(f"s{i % 10}", i, i) for i in range(1000)]
READ_PARTITION = "s3"  # holds 100 of READ_ROWS
READ_AT_LEAST = 900  # 100 of READ_ROWS have a value at least this
READ_MATCHES = 100

#: Goals of issue 9 for the ORM: ratio to the floor (wall), and client CPU added per op
#: ("<= +0.05 ms per operation over raw boto3": the process's CPU in all).
POINT_GOAL = 1.10
READ_GOALS = {
    "query 100 in a partition": 1.20,
    "scan + filter over 1,000": 1.20,
    "count in a partition": 1.10,
    "count with a filter": 1.10,
}
BATCH_GOAL = 1.15
BATCH_SIZE = 1000  # rows per timed batch create
CPU_GOAL = 0.05e-3

RowT = TypeVar("RowT")
Runner = Callable[[int], None]


class Reading(Model):
    sensor: str = Field(partition_key=True)
    at: int = Field(sort_key=True)
    value: int = 0
    note: str = ""


def endpoint(title: str, missing: Sequence[str] = (), variable: str = ENDPOINT_VAR) -> str | NotRun:
    """The server to measure the table ``title`` on, as ``nox -s benchmarks`` exports it.

    A ``NotRun`` saying why, when ``variable`` is unset or ``missing`` lists packages the
    table needs.
    """
    url = os.environ.get(variable)
    if url and not missing:
        return url
    reason = f"pip install {' '.join(missing)}" if missing else f"set {variable}"
    return NotRun(title, f"{reason}, as `nox -s benchmarks` does")


def client(url: str) -> Any:
    """A boto3 DynamoDB client on ``url``, configured as the ORM configures its own."""
    return boto3.client(
        "dynamodb", endpoint_url=url, region_name=REGION, config=DEFAULT_CONFIG, **CREDENTIALS
    )


def new_table(raw: Any) -> DynamoDBBackend:
    """Create a table no earlier run used (deleting one takes a while) and its backend."""
    backend = DynamoDBBackend(f"bench-{uuid.uuid4().hex[:12]}", client=raw)
    backend.create_table()
    return backend


def pk(sensor: str) -> str:
    """The partition key value the ORM gives a Reading of ``sensor``."""
    return f"Reading#{sensor}"


def sk(at: int) -> str:
    """The sort key value the ORM gives a Reading taken ``at``."""
    return f"Reading#{at}"


def key(sensor: str, at: int) -> dict[str, dict[str, str]]:
    """The item key of one Reading."""
    return {"pk": {"S": pk(sensor)}, "sk": {"S": sk(at)}}


def item(sensor: str, at: int, value: int) -> dict[str, dict[str, str]]:
    """The whole item of one Reading, as the ORM stores it."""
    return {
        **key(sensor, at),
        "_type": {"S": "Reading"},
        "sensor": {"S": sensor},
        "at": {"N": str(at)},
        "value": {"N": str(value)},
        "note": {"S": ""},
    }


class Readings(ABC, Generic[RowT]):
    """One client library doing each measured operation on Reading items.

    Point operations raise when the row is missing, as every library's own ``get`` does.
    """

    @abstractmethod
    def create(self, sensor: str, at: int, value: int) -> None:
        """Store a new row, refused if its key is taken."""

    @abstractmethod
    def get(self, sensor: str, at: int) -> RowT:
        """Read one row by key (consistent read)."""

    @abstractmethod
    def save(self, row: RowT, value: int) -> None:
        """Change two fields of a loaded row (``value``, ``note``) and store them."""

    @abstractmethod
    def delete(self, row: RowT) -> None:
        """Delete a loaded row, refused if it is already gone."""

    @abstractmethod
    def query(self, sensor: str) -> Sequence[object]:
        """Every row of one partition."""

    @abstractmethod
    def scan(self, at_least: int) -> Sequence[object]:
        """Every row whose value is at least ``at_least``, across partitions."""

    @abstractmethod
    def count(self, sensor: str) -> int:
        """How many rows one partition holds."""

    @abstractmethod
    def count_filtered(self, at_least: int) -> int:
        """How many rows have a value of at least ``at_least``."""

    @abstractmethod
    def create_many(self, rows: Iterable[tuple[str, int, int]]) -> None:
        """Store many new ``(sensor, at, value)`` rows with batch writes."""

    def save_if(self, row: RowT, value: int, at_least: int) -> None:
        """Set ``value`` (one field) only if the stored one is at least ``at_least``."""
        raise NotImplementedError(f"{type(self).__name__} has no conditional save")

    def increment(self, sensor: str, at: int) -> None:
        """Add 1 to the stored ``value`` of a row known by its key, reading nothing first."""
        raise NotImplementedError(f"{type(self).__name__} has no atomic increment")

    def transfer(self, sensor: str, source: int, target: int) -> None:
        """Move 1 of ``value`` from one row to another in one transaction, if ``source`` has it."""
        raise NotImplementedError(f"{type(self).__name__} has no transactions")


ABSENT = {
    "ConditionExpression": "attribute_not_exists(#k)",
    "ExpressionAttributeNames": {"#k": "pk"},
}
PRESENT = {"ConditionExpression": "attribute_exists(#k)", "ExpressionAttributeNames": {"#k": "pk"}}
BATCH_LIMIT = 25  # items per BatchWriteItem
READ_LIMIT = 100  # keys per BatchGetItem
TRANSACTION_LIMIT = 100  # actions per TransactWriteItems


@dataclass(frozen=True)
class BatchPlan:
    """How a batch create sends its rows."""

    check_read: bool  # first reads every key (BatchGetItem), refusing if one is taken
    transactions: bool  # TransactWriteItems of puts conditional on the key being free;
    # else BatchWriteItem, which has no conditions and overwrites

    def describe(self) -> str:
        """The requests, in words."""
        read = (
            f"BatchGetItem of every key first ({READ_LIMIT} a request, consistent), then "
            if self.check_read
            else ""
        )
        if self.transactions:
            return (
                f"{read}TransactWriteItems of {TRANSACTION_LIMIT} puts a request, each "
                "conditional on `attribute_not_exists` of the key"
            )
        return f"{read}BatchWriteItem of {BATCH_LIMIT} puts a request, unconditional"


#: BatchWriteItem alone: the fastest way to write many new items, and the one that
#: overwrites a concurrent create.
OVERWRITE = BatchPlan(check_read=False, transactions=False)


class RawReadings(Readings[dict[str, Any]]):
    """The floor: the boto3 client sending the requests by hand, items left undecoded.

    ``batch`` says which requests ``create_many`` sends.
    """

    def __init__(self, raw: Any, table_name: str, batch: BatchPlan = OVERWRITE) -> None:
        self.raw = raw
        self.table_name = table_name
        self.batch = batch

    def create(self, sensor: str, at: int, value: int) -> None:
        self.raw.put_item(TableName=self.table_name, Item=item(sensor, at, value), **ABSENT)

    def get(self, sensor: str, at: int) -> dict[str, Any]:
        answer = self.raw.get_item(
            TableName=self.table_name, Key=key(sensor, at), ConsistentRead=True
        )
        found: dict[str, Any] = answer["Item"]
        return found

    def save(self, row: dict[str, Any], value: int) -> None:
        self.raw.update_item(
            TableName=self.table_name,
            Key={"pk": row["pk"], "sk": row["sk"]},
            ReturnValues="ALL_NEW",
            UpdateExpression="SET #v = :v, #n = :n",
            ConditionExpression="attribute_exists(#k)",
            ExpressionAttributeNames={"#v": "value", "#n": "note", "#k": "pk"},
            ExpressionAttributeValues={":v": {"N": str(value)}, ":n": {"S": "saved"}},
        )

    def delete(self, row: dict[str, Any]) -> None:
        self.raw.delete_item(
            TableName=self.table_name, Key={"pk": row["pk"], "sk": row["sk"]}, **PRESENT
        )

    def save_if(self, row: dict[str, Any], value: int, at_least: int) -> None:
        self.raw.update_item(
            TableName=self.table_name,
            Key={"pk": row["pk"], "sk": row["sk"]},
            ReturnValues="ALL_NEW",
            UpdateExpression="SET #v = :v",
            ConditionExpression="attribute_exists(#k) AND #v >= :least",
            ExpressionAttributeNames={"#v": "value", "#k": "pk"},
            ExpressionAttributeValues={":v": {"N": str(value)}, ":least": {"N": str(at_least)}},
        )

    def increment(self, sensor: str, at: int) -> None:
        self.raw.update_item(
            TableName=self.table_name,
            Key=key(sensor, at),
            ReturnValues="ALL_NEW",
            UpdateExpression="SET #v = if_not_exists(#v, :zero) + :one",
            ConditionExpression="attribute_exists(#k)",
            ExpressionAttributeNames={"#v": "value", "#k": "pk"},
            ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
        )

    def transfer(self, sensor: str, source: int, target: int) -> None:
        # What the ORM sends: the two updates in one transaction, then the rows read back.
        self.raw.transact_write_items(
            TransactItems=[self._move(sensor, source, -1), self._move(sensor, target, 1)],
            ClientRequestToken=str(uuid.uuid4()),
        )
        self.raw.batch_get_item(
            RequestItems={
                self.table_name: {
                    "Keys": [key(sensor, source), key(sensor, target)],
                    "ConsistentRead": True,
                }
            }
        )

    def _move(self, sensor: str, at: int, amount: int) -> dict[str, Any]:
        condition = "attribute_exists(#k)" + (" AND #v >= :least" if amount < 0 else "")
        values = {":zero": {"N": "0"}, ":amount": {"N": str(amount)}}
        if amount < 0:
            values[":least"] = {"N": str(-amount)}
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": key(sensor, at),
                "UpdateExpression": "SET #v = if_not_exists(#v, :zero) + :amount",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#v": "value", "#k": "pk"},
                "ExpressionAttributeValues": values,
            }
        }

    def query(self, sensor: str) -> list[dict[str, Any]]:
        return [i for page in self._partition(sensor) for i in page["Items"]]

    def scan(self, at_least: int) -> list[dict[str, Any]]:
        return [i for page in self._filtered(at_least) for i in page["Items"]]

    def count(self, sensor: str) -> int:
        return sum(page["Count"] for page in self._partition(sensor, Select="COUNT"))

    def count_filtered(self, at_least: int) -> int:
        return sum(page["Count"] for page in self._filtered(at_least, Select="COUNT"))

    def create_many(self, rows: Iterable[tuple[str, int, int]]) -> None:
        items = [item(*row) for row in rows]
        if self.batch.check_read:
            self._refuse_taken(items)
        if self.batch.transactions:
            for start in range(0, len(items), TRANSACTION_LIMIT):
                puts = items[start : start + TRANSACTION_LIMIT]
                self.raw.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": self.table_name, "Item": put, **ABSENT}}
                        for put in puts
                    ]
                )
            return
        requests = [{"PutRequest": {"Item": put}} for put in items]
        for start in range(0, len(requests), BATCH_LIMIT):
            pending = {self.table_name: requests[start : start + BATCH_LIMIT]}
            while pending:
                pending = self.raw.batch_write_item(RequestItems=pending)["UnprocessedItems"]

    def _refuse_taken(self, items: list[dict[str, Any]]) -> None:
        keys = [{"pk": put["pk"], "sk": put["sk"]} for put in items]
        for start in range(0, len(keys), READ_LIMIT):
            pending = {
                self.table_name: {"Keys": keys[start : start + READ_LIMIT], "ConsistentRead": True}
            }
            while pending:
                answer = self.raw.batch_get_item(RequestItems=pending)
                if answer["Responses"].get(self.table_name):
                    raise LookupError(f"a key of the batch is taken in {self.table_name}")
                pending = answer["UnprocessedKeys"]

    def _partition(self, sensor: str, **extra: object) -> list[dict[str, Any]]:
        return self._pages(
            "query",
            **extra,
            KeyConditionExpression="#k = :k AND begins_with(#s, :m)",
            ExpressionAttributeNames={"#k": "pk", "#s": "sk"},
            ExpressionAttributeValues={":k": {"S": pk(sensor)}, ":m": {"S": "Reading#"}},
        )

    def _filtered(self, at_least: int, **extra: object) -> list[dict[str, Any]]:
        return self._pages(
            "scan",
            **extra,
            FilterExpression="#t = :t AND #v >= :v",
            ExpressionAttributeNames={"#t": "_type", "#v": "value"},
            ExpressionAttributeValues={":t": {"S": "Reading"}, ":v": {"N": str(at_least)}},
        )

    def _pages(self, operation: str, **request: Any) -> list[dict[str, Any]]:
        send = getattr(self.raw, operation)
        request.update(TableName=self.table_name, ConsistentRead=True)
        pages = [send(**request)]
        while "LastEvaluatedKey" in pages[-1]:
            pages.append(send(**request, ExclusiveStartKey=pages[-1]["LastEvaluatedKey"]))
        return pages


class OrmReadings(Readings[Reading]):
    """restmachine-orm: the Reading model on a DynamoDBBackend."""

    def __init__(self, backend: DynamoDBBackend) -> None:
        Reading.model_backend = backend

    def create(self, sensor: str, at: int, value: int) -> None:
        Reading.create(sensor=sensor, at=at, value=value)

    def get(self, sensor: str, at: int) -> Reading:
        row = Reading.get(sensor=sensor, at=at)
        if row is None:
            raise LookupError(f"no Reading {sensor}/{at}")
        return row

    def save(self, row: Reading, value: int) -> None:
        row.value = value
        row.note = "saved"
        row.save()

    def delete(self, row: Reading) -> None:
        row.delete()

    def save_if(self, row: Reading, value: int, at_least: int) -> None:
        row.value = value
        row.save(condition={"value__gte": at_least})

    def increment(self, sensor: str, at: int) -> None:
        Reading.update_by_key({"sensor": sensor, "at": at}, value=F("value") + 1)

    def transfer(self, sensor: str, source: int, target: int) -> None:
        with transaction() as tx:
            tx.update(
                Reading.model_construct(sensor=sensor, at=source),
                value=F("value") - 1,
                condition={"value__gte": 1},
            )
            tx.update(Reading.model_construct(sensor=sensor, at=target), value=F("value") + 1)

    def query(self, sensor: str) -> list[Reading]:
        return Reading.where(sensor=sensor).all()

    def scan(self, at_least: int) -> list[Reading]:
        return Reading.where(value__gte=at_least).all()

    def count(self, sensor: str) -> int:
        return Reading.where(sensor=sensor).count()

    def count_filtered(self, at_least: int) -> int:
        return Reading.where(value__gte=at_least).count()

    def create_many(self, rows: Iterable[tuple[str, int, int]]) -> None:
        Reading.create_many([{"sensor": s, "at": at, "value": v} for s, at, v in rows])


# -- workloads: each returns, per operation, every contender's timing -------------------


def _partition(contender: int, round_number: int) -> str:
    # Every contender and round writes its own fresh keys.
    return f"c{contender}r{round_number}"


def _repeat(ops: int, step: Callable[[int, int], object]) -> Runner:
    """A timed round: ``step(round, i)`` for each of the ``ops`` operations."""

    def run(round_number: int) -> None:
        for i in range(ops):
            step(round_number, i)

    return run


def _timed(runners: Mapping[str, Runner], *, rounds: int, ops: int) -> dict[str, Timing]:
    """``interleaved``, with the CPU each contender spends inside botocore told apart."""
    with SdkMeter() as meter:
        return interleaved(runners, rounds=rounds, ops=ops, sdk=meter.reading)


def point_operations(
    contenders: Mapping[str, Readings[Any]], *, rounds: int, ops: int
) -> dict[str, dict[str, Timing]]:
    """Create, get, save and delete ``ops`` fresh rows per contender and round."""
    lineup = list(contenders.values())
    loaded: list[list[list[Any]]] = []

    def load() -> None:  # outside the timed rounds: save and delete start from loaded rows
        loaded[:] = [
            [[c.get(_partition(n, r), i) for i in range(ops)] for r in range(rounds)]
            for n, c in enumerate(lineup)
        ]

    steps: dict[str, Callable[[int, Readings[Any]], Callable[[int, int], object]]] = {
        "create": lambda n, c: lambda r, i: c.create(_partition(n, r), i, i),
        "get": lambda n, c: lambda r, i: c.get(_partition(n, r), i),
        "save, 2 fields": lambda n, c: lambda r, i: c.save(loaded[n][r][i], i + 1),
        "delete": lambda n, c: lambda r, i: c.delete(loaded[n][r][i]),
    }
    timings = {}
    for operation, step in steps.items():
        if operation in ("save, 2 fields", "delete"):
            load()
        runners = {name: _repeat(ops, step(n, c)) for n, (name, c) in enumerate(contenders.items())}
        timings[operation] = _timed(runners, rounds=rounds, ops=ops)
    return timings


def conditional_writes(
    contenders: Mapping[str, Readings[Any]], *, rounds: int, ops: int
) -> dict[str, dict[str, Timing]]:
    """A conditional save and an atomic increment of ``ops`` rows per contender and round.

    The rows are created and loaded before the timed rounds; every condition holds.
    """
    lineup = list(contenders.values())
    for n, c in enumerate(lineup):
        for r in range(rounds):
            for i in range(ops):
                c.create(_atomic_partition(n, r), i, i)
    loaded = [
        [[c.get(_atomic_partition(n, r), i) for i in range(ops)] for r in range(rounds)]
        for n, c in enumerate(lineup)
    ]
    steps: dict[str, Callable[[int, Readings[Any]], Callable[[int, int], object]]] = {
        "conditional save": lambda n, c: lambda r, i: c.save_if(loaded[n][r][i], i + 1, i),
        "increment": lambda n, c: lambda r, i: c.increment(_atomic_partition(n, r), i),
    }
    return {
        operation: _timed(
            {name: _repeat(ops, step(n, c)) for n, (name, c) in enumerate(contenders.items())},
            rounds=rounds,
            ops=ops,
        )
        for operation, step in steps.items()
    }


def transactions(
    contenders: Mapping[str, Readings[Any]], *, rounds: int, ops: int
) -> dict[str, dict[str, Timing]]:
    """``ops`` transfers between two rows of a partition per contender and round.

    The rows are created before the timed rounds, each with enough to give; every condition
    holds.
    """
    for n, c in enumerate(contenders.values()):
        for r in range(rounds):
            for i in range(2 * ops):
                c.create(_transfer_partition(n, r), i, 10)

    def step(n: int, c: Readings[Any]) -> Callable[[int, int], object]:
        return lambda r, i: c.transfer(_transfer_partition(n, r), i, ops + i)

    runners = {name: _repeat(ops, step(n, c)) for n, (name, c) in enumerate(contenders.items())}
    return {"2-action transaction": _timed(runners, rounds=rounds, ops=ops)}


def _transfer_partition(contender: int, round_number: int) -> str:
    return f"t{contender}r{round_number}"


def consumed_units(raw: Any, table: str, sensor: str) -> dict[str, float]:
    """The capacity units the measured writes consume, asked of the server.

    Sent by the floor's client with ``ReturnConsumedCapacity``, the same requests the ORM
    sends (the benchmark checks they are the same): a transfer's transaction and read
    back, a conditional save, an increment; on rows created here.
    """
    floor = RawReadings(raw, table)
    for at in (0, 1):
        floor.create(sensor, at, 10)
    total = {"ReturnConsumedCapacity": "TOTAL"}
    transfer = raw.transact_write_items(
        TransactItems=[floor._move(sensor, 0, -1), floor._move(sensor, 1, 1)], **total
    )
    read = raw.batch_get_item(
        RequestItems={table: {"Keys": [key(sensor, 0), key(sensor, 1)], "ConsistentRead": True}},
        **total,
    )
    save = raw.update_item(
        TableName=table,
        Key=key(sensor, 0),
        UpdateExpression="SET #v = :v",
        ConditionExpression="attribute_exists(#k) AND #v >= :least",
        ExpressionAttributeNames={"#v": "value", "#k": "pk"},
        ExpressionAttributeValues={":v": {"N": "5"}, ":least": {"N": "1"}},
        ReturnValues="ALL_NEW",
        **total,
    )
    increment = raw.update_item(
        TableName=table,
        Key=key(sensor, 1),
        UpdateExpression="SET #v = if_not_exists(#v, :zero) + :one",
        ConditionExpression="attribute_exists(#k)",
        ExpressionAttributeNames={"#v": "value", "#k": "pk"},
        ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
        **total,
    )

    def units(answer: dict[str, Any]) -> float:
        spent = answer["ConsumedCapacity"]
        entries = spent if isinstance(spent, list) else [spent]
        return float(sum(entry.get("CapacityUnits", 0.0) for entry in entries))

    return {
        "transfer (TransactWriteItems)": units(transfer),
        "transfer (BatchGetItem read back)": units(read),
        "conditional save": units(save),
        "increment": units(increment),
    }


def _atomic_partition(contender: int, round_number: int) -> str:
    return f"a{contender}r{round_number}"


def reads(contenders: Mapping[str, Readings[Any]], *, rounds: int) -> dict[str, dict[str, Timing]]:
    """Query, scan and count over ``READ_ROWS`` (written beforehand, e.g. by the floor).

    Raises:
        AssertionError: A contender's answer is wrong, so its timing would mean nothing.
    """
    operations: dict[str, Callable[[Readings[Any]], int]] = {
        "query 100 in a partition": lambda c: len(c.query(READ_PARTITION)),
        "scan + filter over 1,000": lambda c: len(c.scan(READ_AT_LEAST)),
        "count in a partition": lambda c: c.count(READ_PARTITION),
        "count with a filter": lambda c: c.count_filtered(READ_AT_LEAST),
    }
    timings = {}
    for operation, matches in operations.items():
        for name, c in contenders.items():
            found = matches(c)
            assert found == READ_MATCHES, f"{name}, {operation}: {found}, not {READ_MATCHES}"
        runners = {name: _repeat(1, _bind(matches, c)) for name, c in contenders.items()}
        timings[operation] = _timed(runners, rounds=rounds, ops=1)
    return timings


def _bind(
    operation: Callable[[Readings[Any]], int], readings: Readings[Any]
) -> Callable[[int, int], int]:
    return lambda _r, _i: operation(readings)


def batch_create(
    contenders: Mapping[str, Readings[Any]],
    *,
    rounds: int,
    witness: Readings[Any],
    size: int = BATCH_SIZE,
) -> dict[str, Timing]:
    """Write ``size`` new rows in one batch call, over 10 partitions, per contender and round.

    Every contender writes one batch before the timed rounds: a server in Java (DynamoDB
    Local) runs its first requests of a kind slowly, and none should pay for it alone.

    Raises:
        AssertionError: ``witness`` (counting by itself) does not find every row a contender
            wrote, so that contender's timing would mean nothing.
    """

    def write(n: int, readings: Readings[Any]) -> Runner:
        return lambda r: readings.create_many(_batch_rows(_partition(n, r), size))

    runners = {name: write(n, c) for n, (name, c) in enumerate(contenders.items())}
    for runner in runners.values():
        runner(-1)
    timings = _timed(runners, rounds=rounds, ops=1)
    for n, name in enumerate(contenders):
        for r in range(-1, rounds):
            sensors = {sensor for sensor, _, _ in _batch_rows(_partition(n, r), size)}
            stored = sum(witness.count(sensor) for sensor in sensors)
            assert stored == size, f"{name}, batch of round {r}: {stored} rows stored, not {size}"
    return timings


def _batch_rows(prefix: str, size: int) -> list[tuple[str, int, int]]:
    return [(f"{prefix}p{i % 10}", i, i) for i in range(size)]


class RequestLog:
    """The requests one client sends while entered, each with its shape (``_shape``).

    A boto3 client's are read through botocore's public events; a ``DynamoDBBackend``'s,
    which do not go through botocore, through its ``interceptors``.
    """

    def __init__(self, sender: Any) -> None:
        self.sender = sender
        #: Each request's operation and shape, taken as it is sent: a caller may reuse the
        #: parameters it passed for its next request.
        self.requests: list[tuple[str, tuple[object, ...]]] = []

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests.append((model.name, _shape(model.name, params)))

    def _intercept(self, operation: str, body: dict[str, Any]) -> None:
        self.requests.append((operation, _shape(operation, body)))

    def __enter__(self) -> RequestLog:
        if isinstance(self.sender, DynamoDBBackend):
            self.sender.interceptors.append(self._intercept)
        else:
            self.sender.meta.events.register("provide-client-params.dynamodb", self._record)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None
    ) -> None:
        if isinstance(self.sender, DynamoDBBackend):
            self.sender.interceptors.remove(self._intercept)
        else:
            self.sender.meta.events.unregister("provide-client-params.dynamodb", self._record)

    def shapes(self) -> Counter[tuple[object, ...]]:
        """What the requests ask of the server, leaving out key values and placeholders."""
        return Counter(shape for _, shape in self.requests)


def _shape(operation: str, params: dict[str, Any]) -> tuple[object, ...]:
    """A request's operation, sizes and conditions, comparable across clients."""
    if operation == "BatchGetItem":
        reads = params["RequestItems"].values()
        return operation, tuple((len(r["Keys"]), r.get("ConsistentRead", False)) for r in reads)
    if operation == "BatchWriteItem":
        writes = params["RequestItems"].values()
        return operation, _counted(_action(w) for ws in writes for w in ws)
    if operation == "TransactWriteItems":
        return operation, _counted(_action(a) for a in params["TransactItems"])
    return operation, _action({operation: params})


def _counted(actions: Iterable[tuple[object, ...]]) -> tuple[tuple[object, int], ...]:
    """Each distinct action with how many times the request holds it."""
    return tuple(sorted(Counter(actions).items(), key=repr))


def _action(action: dict[str, Any]) -> tuple[object, ...]:
    """One write: its kind, attributes, condition (placeholders resolved) and extras."""
    ((kind, body),) = action.items()
    condition = body.get("ConditionExpression", "")
    names = body.get("ExpressionAttributeNames", {})
    for placeholder in sorted(names, key=len, reverse=True):  # "#k1" before "#k"
        condition = condition.replace(placeholder, names[placeholder])
    values = tuple(
        sorted((k, repr(v)) for k, v in body.get("ExpressionAttributeValues", {}).items())
    )
    kept = ("ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues")
    extras = tuple(
        sorted((k, repr(v)) for k, v in body.items() if k not in (*kept, "Item", "TableName"))
    )
    return kind, tuple(sorted(body.get("Item", {}))), condition, values, extras


def matching_floor(
    raw: Any, backend: DynamoDBBackend, subject: Readings[Any], size: int = BATCH_SIZE
) -> RawReadings:
    """The floor sending what ``subject``'s batch create sends, by hand.

    One batch of ``subject`` is recorded first (before the timed rounds): whether it reads
    the keys first, whether it writes by transactions. The floor built from that then writes
    a batch of its own, and the two must have sent the same requests, sizes and conditions.

    Raises:
        AssertionError: The requests differ, so the floor would not be doing the same work.
    """
    with RequestLog(backend) as sent:
        subject.create_many(_batch_rows("probe-subject", size))
    operations = {operation for operation, _ in sent.requests}
    plan = BatchPlan("BatchGetItem" in operations, "TransactWriteItems" in operations)
    floor = RawReadings(raw, backend.table_name, plan)
    with RequestLog(raw) as copied:
        floor.create_many(_batch_rows("probe-floor", size))
    missing, extra = sent.shapes() - copied.shapes(), copied.shapes() - sent.shapes()
    assert not missing and not extra, (
        f"the floor ({plan.describe()}) does not send what the batch create sends: "
        f"only the batch create sent {dict(missing)}; only the floor sent {dict(extra)}"
    )
    return floor
