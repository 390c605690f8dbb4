"""What the DynamoDB benchmark groups share: server, table, items and the timed workloads.

Every contender is a ``Readings``: one client library's way of doing each measured
operation on the same ``Reading`` items (the layout the ORM's single-table design writes),
so that all of them send comparable requests for the same data.
"""

from __future__ import annotations

import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import boto3
from _lineup import Timing, interleaved
from _sdk_meter import SdkMeter

from restmachine_orm import Field, Model
from restmachine_orm_dynamodb import DEFAULT_CONFIG, DynamoDBBackend

ENDPOINT_VAR = "RESTMACHINE_ORM_BENCH_ENDPOINT"
REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}

#: The rows every read is measured over: 1,000 items, 100 in each of 10 partitions.
READ_ROWS = [(f"s{i % 10}", i, i) for i in range(1000)]
READ_PARTITION = "s3"  # holds 100 of READ_ROWS
READ_AT_LEAST = 900  # 100 of READ_ROWS have a value at least this
READ_MATCHES = 100

#: Goals of issue 9 for the ORM: ratio to the floor (wall), and client CPU added per op.
POINT_GOAL = 1.10
READ_GOALS = {
    "query 100 in a partition": 1.20,
    "scan + filter over 1,000": 1.20,
    "count in a partition": 1.10,
    "count with a filter": 1.10,
}
BATCH_GOAL = 1.15
CPU_GOAL = 0.05e-3

RowT = TypeVar("RowT")
Runner = Callable[[int], None]


class Reading(Model):
    sensor: str = Field(partition_key=True)
    at: int = Field(sort_key=True)
    value: int = 0
    note: str = ""


def endpoint(group: str, missing: Sequence[str] = ()) -> str | None:
    """The server to measure on, as ``nox -s benchmarks`` exports it (dynalite).

    ``None``, having said why the group does not run, when it is unset or ``missing``
    lists packages the group needs.
    """
    url = os.environ.get(ENDPOINT_VAR)
    if not url or missing:
        reason = f"pip install {' '.join(missing)}" if missing else f"set {ENDPOINT_VAR}"
        print(f"({group} group not run: {reason}, as `nox -s benchmarks` does)\n")
        return None
    return url


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


ABSENT = {
    "ConditionExpression": "attribute_not_exists(#k)",
    "ExpressionAttributeNames": {"#k": "pk"},
}
PRESENT = {"ConditionExpression": "attribute_exists(#k)", "ExpressionAttributeNames": {"#k": "pk"}}
BATCH_LIMIT = 25  # items per BatchWriteItem


class RawReadings(Readings[dict[str, Any]]):
    """The floor: the boto3 client sending the requests by hand, items left undecoded."""

    def __init__(self, raw: Any, table_name: str) -> None:
        self.raw = raw
        self.table_name = table_name

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

    def query(self, sensor: str) -> list[dict[str, Any]]:
        return [i for page in self._partition(sensor) for i in page["Items"]]

    def scan(self, at_least: int) -> list[dict[str, Any]]:
        return [i for page in self._filtered(at_least) for i in page["Items"]]

    def count(self, sensor: str) -> int:
        return sum(page["Count"] for page in self._partition(sensor, Select="COUNT"))

    def count_filtered(self, at_least: int) -> int:
        return sum(page["Count"] for page in self._filtered(at_least, Select="COUNT"))

    def create_many(self, rows: Iterable[tuple[str, int, int]]) -> None:
        requests = [{"PutRequest": {"Item": item(*row)}} for row in rows]
        for start in range(0, len(requests), BATCH_LIMIT):
            pending = {self.table_name: requests[start : start + BATCH_LIMIT]}
            while pending:
                pending = self.raw.batch_write_item(RequestItems=pending)["UnprocessedItems"]

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
    contenders: Mapping[str, Readings[Any]], *, rounds: int, size: int = 1000
) -> dict[str, Timing]:
    """Write ``size`` new rows in one batch call, over 10 partitions, per contender and round."""

    def write(n: int, readings: Readings[Any]) -> Runner:
        return lambda r: readings.create_many(
            (f"{_partition(n, r)}p{i % 10}", i, i) for i in range(size)
        )

    runners = {name: write(n, c) for n, (name, c) in enumerate(contenders.items())}
    return _timed(runners, rounds=rounds, ops=1)
