"""restmachine-orm against PynamoDB and dyntastic, with the raw boto3 client as the floor.

All four work on one table, on the same server, on items of one layout: the one the ORM's
single-table design writes (string ``pk``/``sk`` such as ``Reading#s3``, an ``_type``
attribute). PynamoDB and dyntastic get models declaring exactly those attributes, so every
library reads and writes the same items and the requests differ only where the libraries do.
Point operations and reads run on dynalite, the fastest server; the batch create runs on
DynamoDB Local, as the ORM may write it with transactions, against a floor built to send
what the ORM sends (``_dynamo.matching_floor``). Needs ``pip install -r
benchmarks/requirements.txt``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from typing import Any

import boto3
from _dynamo import (
    BATCH_GOAL,
    CPU_GOAL,
    CREDENTIALS,
    OVERWRITE,
    POINT_GOAL,
    READ_GOALS,
    READ_ROWS,
    REGION,
    TRANSACTIONAL_VAR,
    OrmReadings,
    RawReadings,
    Readings,
    RequestLog,
    batch_create,
    client,
    conditional_writes,
    consumed_units,
    endpoint,
    matching_floor,
    new_table,
    pk,
    point_operations,
    reads,
    sk,
    transactions,
)
from _goals import NotRun
from _lineup import Line, Lineup

from restmachine_orm_dynamodb import DynamoDBBackend

FLOOR, ORM, PYNAMODB, DYNTASTIC = "boto3 (floor)", "restmachine-orm", "PynamoDB", "dyntastic"
BATCH_WRITE = "boto3 BatchWriteItem"  # the batch create's former floor, for information
TITLES = {
    "point": "Point operations on dynalite",
    "reads": "Queries, scans and counts on dynalite",
    "atomic": "Conditional writes and atomic updates on dynalite",
    "batch": "Batch create on DynamoDB Local",
    "transactions": "Transactions on DynamoDB Local",
}
PEER_MARGIN = 1.03  # point operations: at most 3% slower than PynamoDB
NOTES = {
    "point": [
        "create: conditional PutItem (`attribute_not_exists`) in every library.",
        "save: one conditional UpdateItem setting `value` and `note`. PynamoDB `update(actions, "
        "condition)` and the ORM ask for the new item back (`ALL_NEW`); dyntastic is run "
        "with `update(..., refresh=False)` - its default re-reads the item with a second "
        "request.",
        "delete: DeleteItem conditional on the item existing.",
    ],
    "atomic": [
        "conditional save: one UpdateItem setting `value`, conditional on the item existing "
        "and on `value >= n` (which holds); the new item asked back (`ALL_NEW`) by all three. "
        "The ORM: `row.save(condition={'value__gte': n})`; PynamoDB: `update(actions, "
        "condition)`.",
        "increment: one UpdateItem adding 1 to `value` of a row known by its key, nothing "
        "read first, conditional on the item existing, `ALL_NEW`. The ORM: "
        "`Reading.update_by_key(key, value=F('value') + 1)` (`SET v = if_not_exists(v, 0) + "
        "1`); PynamoDB: `Item(key).update(actions=[Item.value.add(1)], condition)` (`ADD`).",
        "dyntastic is left out: it has no conditional update of a loaded row.",
    ],
    "transactions": [
        "A transfer: one TransactWriteItems of two UpdateItem actions on rows known by their "
        "keys, nothing read first: `value - 1` conditional on the row existing and holding "
        "at least 1, `value + 1` conditional on the row existing. The ORM: two `tx.update` "
        "with `F` expressions in `with transaction() as tx:`, and then one consistent "
        "BatchGetItem reading the two rows back into the instances; the floor sends the "
        "same two requests (checked against the ORM's before the timed rounds). PynamoDB "
        "`TransactWrite` with two `update(actions, condition)` sends the transaction only. "
        "On DynamoDB Local: dynalite has no transactions.",
        "Consumed capacity of each measured write, as DynamoDB Local reports it "
        "(`ReturnConsumedCapacity=TOTAL` on the same requests): {units}.",
    ],
    "reads": [
        "Every read is consistent, over the same 1,000 items; the floor leaves items undecoded.",
        "PynamoDB `count()` refuses a filter without a hash key, so it counts the items of a "
        "filtered `scan()`; dyntastic has no count, so it counts the items `query()` and "
        "`scan()` yield. The others send `Select=COUNT`.",
    ],
    "batch": [
        "One call writes 1,000 new items, over 10 partitions. On DynamoDB Local: dynalite has "
        "no transactions.",
        "The floor sends, by hand and one request after the other, what the ORM's "
        "`create_many` was recorded sending on a trial batch before the timed rounds (the two "
        "trial batches were checked to send the same requests, sizes and conditions): {plan}.",
        f"{BATCH_WRITE}: the former floor, for information: BatchWriteItem of 25 puts a "
        "request, no check read; it overwrites items created meanwhile. PynamoDB "
        "`batch_write()` and dyntastic `batch_writer()` send the same requests.",
    ],
}


def pynamodb_readings(url: str, table: str, pool: int = 10) -> Readings[Any]:
    """PynamoDB: a Model with hash and range keys declared on the ORM's attributes.

    ``pool`` is how many connections it keeps open (PynamoDB's default is 10).
    """
    from pynamodb.attributes import NumberAttribute, UnicodeAttribute
    from pynamodb.models import Model
    from pynamodb.transactions import TransactWrite

    class Item(Model):
        class Meta:
            table_name = table
            host = url
            region = REGION
            aws_access_key_id = CREDENTIALS["aws_access_key_id"]
            aws_secret_access_key = CREDENTIALS["aws_secret_access_key"]
            max_pool_connections = pool

        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        entity = UnicodeAttribute(attr_name="_type", default="Reading")
        sensor = UnicodeAttribute()
        at = NumberAttribute()
        value = NumberAttribute(default=0)
        note = UnicodeAttribute(default="")

    def new(sensor: str, at: int, value: int) -> Item:
        return Item(pk=pk(sensor), sk=sk(at), sensor=sensor, at=at, value=value)

    class PynamoReadings(Readings[Item]):
        def create(self, sensor: str, at: int, value: int) -> None:
            new(sensor, at, value).save(condition=Item.pk.does_not_exist())

        def get(self, sensor: str, at: int) -> Item:
            return Item.get(pk(sensor), sk(at), consistent_read=True)

        def save(self, row: Item, value: int) -> None:
            row.update(
                actions=[Item.value.set(value), Item.note.set("saved")],
                condition=Item.pk.exists(),
            )

        def delete(self, row: Item) -> None:
            row.delete(condition=Item.pk.exists())

        def save_if(self, row: Item, value: int, at_least: int) -> None:
            row.update(
                actions=[Item.value.set(value)],
                condition=Item.pk.exists() & (Item.value >= at_least),
            )

        def increment(self, sensor: str, at: int) -> None:
            Item(pk(sensor), sk(at)).update(actions=[Item.value.add(1)], condition=Item.pk.exists())

        def transfer(self, sensor: str, source: int, target: int) -> None:
            # The model's own connection: its endpoint, region and credentials.
            connection = Item._get_connection().connection
            with TransactWrite(connection=connection) as tx:
                tx.update(
                    Item(pk(sensor), sk(source)),
                    actions=[Item.value.add(-1)],
                    condition=Item.pk.exists() & (Item.value >= 1),
                )
                tx.update(
                    Item(pk(sensor), sk(target)),
                    actions=[Item.value.add(1)],
                    condition=Item.pk.exists(),
                )

        def query(self, sensor: str) -> list[Item]:
            return list(
                Item.query(pk(sensor), Item.sk.startswith("Reading#"), consistent_read=True)
            )

        def scan(self, at_least: int) -> list[Item]:
            return list(Item.scan(self._filter(at_least), consistent_read=True))

        def count(self, sensor: str) -> int:
            return Item.count(pk(sensor), Item.sk.startswith("Reading#"), consistent_read=True)

        def count_filtered(self, at_least: int) -> int:
            return sum(1 for _ in Item.scan(self._filter(at_least), consistent_read=True))

        def create_many(self, rows: Iterable[tuple[str, int, int]]) -> None:
            with Item.batch_write() as batch:
                for row in rows:
                    batch.save(new(*row))

        def _filter(self, at_least: int) -> Any:
            return (Item.entity == "Reading") & (Item.value >= at_least)

    return PynamoReadings()


def dyntastic_readings(url: str, table: str) -> Readings[Any]:
    """dyntastic: a pydantic model with ``__hash_key__``/``__range_key__`` on the same items."""
    from dyntastic import A as attribute
    from dyntastic import Dyntastic
    from pydantic import Field

    A: Any = attribute  # its condition builders are untyped

    # dyntastic builds its boto3 resource from the default session. The local servers take
    # any key; DynamoDB Local keeps a database per key, so every library uses the same one.
    boto3.setup_default_session(region_name=REGION, **CREDENTIALS)

    class Doc(Dyntastic):
        __table_name__ = table
        __table_host__ = url
        __table_region__ = REGION
        __hash_key__ = "pk"
        __range_key__ = "sk"

        pk: str
        sk: str
        entity: str = Field("Reading", alias="_type")
        sensor: str
        at: int
        value: int = 0
        note: str = ""

    def new(sensor: str, at: int, value: int) -> Doc:
        return Doc(pk=pk(sensor), sk=sk(at), sensor=sensor, at=at, value=value)

    class DyntasticReadings(Readings[Doc]):
        def create(self, sensor: str, at: int, value: int) -> None:
            new(sensor, at, value).save(condition=A.pk.not_exists())

        def get(self, sensor: str, at: int) -> Doc:
            return Doc.get(pk(sensor), sk(at), consistent_read=True)

        def save(self, row: Doc, value: int) -> None:
            row.update(
                A.value.set(value),
                A.note.set("saved"),
                condition=A.pk.exists(),
                require_condition=True,
                refresh=False,
            )

        def delete(self, row: Doc) -> None:
            row.delete(condition=A.pk.exists())

        def query(self, sensor: str) -> list[Doc]:
            return list(
                Doc.query(
                    pk(sensor),
                    range_key_condition=A.sk.begins_with("Reading#"),
                    consistent_read=True,
                )
            )

        def scan(self, at_least: int) -> list[Doc]:
            return list(Doc.scan(self._filter(at_least), consistent_read=True))

        def count(self, sensor: str) -> int:
            found = Doc.query(
                pk(sensor), range_key_condition=A.sk.begins_with("Reading#"), consistent_read=True
            )
            return sum(1 for _ in found)

        def count_filtered(self, at_least: int) -> int:
            return sum(1 for _ in Doc.scan(self._filter(at_least), consistent_read=True))

        def create_many(self, rows: Iterable[tuple[str, int, int]]) -> None:
            with Doc.batch_writer():
                for row in rows:
                    new(*row).save()

        def _filter(self, at_least: int) -> Any:
            return (A("_type") == "Reading") & (A.value >= at_least)

    return DyntasticReadings()


def run(quick: bool) -> list[Lineup | NotRun]:
    missing = [name for name in ("pynamodb", "dyntastic") if importlib.util.find_spec(name) is None]
    # The batch create goes first: it stops the group at once if its floor cannot send what
    # the ORM sends, before the long point operations.
    url = endpoint(TITLES["batch"], missing, TRANSACTIONAL_VAR)
    batch = url if isinstance(url, NotRun) else _batch(url, quick)
    transacted = url if isinstance(url, NotRun) else _transactions(url, quick)
    url = endpoint(TITLES["point"], missing)
    if isinstance(url, NotRun):
        return [url, NotRun(TITLES["reads"], url.reason), batch, transacted]
    return [*_on_dynalite(url, quick), batch, transacted]


def _contenders(url: str, backend: DynamoDBBackend, floor: RawReadings) -> dict[str, Readings[Any]]:
    """The floor and the three libraries on the backend's table (the ORM's model bound to it)."""
    return {
        FLOOR: floor,
        ORM: OrmReadings(backend),
        PYNAMODB: pynamodb_readings(url, backend.table_name),
        DYNTASTIC: dyntastic_readings(url, backend.table_name),
    }


def _on_dynalite(url: str, quick: bool) -> list[Lineup]:
    """Point operations, then reads, on dynalite: the fastest server, so client cost shows."""
    raw = client(url)
    backend = new_table(raw)
    floor = RawReadings(raw, backend.table_name)
    contenders = _contenders(url, backend, floor)
    # The CPU goal is +0.05 ms, and one round's CPU over the floor's moves by 0.05 to 0.14 ms
    # (standard deviation, garbage collector on): at 16 rounds the median's 95% interval
    # was up to 0.12 ms wide, at 48 rounds 0.005 to 0.065 ms wide. The table prints it.
    rounds, ops = (4, 20) if quick else (64, 100)
    try:
        point = point_operations(contenders, rounds=rounds, ops=ops)
        floor.create_many(READ_ROWS)
        read = reads(contenders, rounds=rounds)
        # After the reads: the rows it writes would be scanned too.
        atomic = conditional_writes(
            {name: c for name, c in contenders.items() if name != DYNTASTIC},
            rounds=rounds,
            ops=ops,
        )
    finally:
        raw.delete_table(TableName=backend.table_name)
    return [
        _lineup(
            TITLES["point"],
            [
                Line(name, timings, POINT_GOAL, PEER_MARGIN, CPU_GOAL)
                for name, timings in point.items()
            ],
            NOTES["point"],
        ),
        _lineup(
            TITLES["atomic"],
            [Line(name, timings, POINT_GOAL, None, CPU_GOAL) for name, timings in atomic.items()],
            NOTES["atomic"],
        ),
        _lineup(
            TITLES["reads"],
            [Line(name, timings, READ_GOALS[name]) for name, timings in read.items()],
            NOTES["reads"],
        ),
    ]


def _batch(url: str, quick: bool) -> Lineup:
    """Batch create on a server with transactions, against a floor sending the same requests."""
    raw = client(url)
    backend = new_table(raw)
    try:
        floor = matching_floor(raw, backend, OrmReadings(backend))
        contenders = {
            **_contenders(url, backend, floor),
            BATCH_WRITE: RawReadings(raw, backend.table_name, OVERWRITE),
        }
        timings = batch_create(contenders, rounds=2 if quick else 16, witness=floor)
    finally:
        raw.delete_table(TableName=backend.table_name)
    lines = [
        Line("batch-create 1,000", timings, BATCH_GOAL),
        Line(f"the same, read against {BATCH_WRITE}", timings, None, against=BATCH_WRITE),
    ]
    notes = [note.format(plan=floor.batch.describe()) for note in NOTES["batch"]]
    return _lineup(TITLES["batch"], lines, notes)


def _transactions(url: str, quick: bool) -> Lineup:
    """A 2-action transaction on a server with transactions, next to the same requests."""
    raw = client(url)
    backend = new_table(raw)
    try:
        contenders = {
            name: c
            for name, c in _contenders(url, backend, RawReadings(raw, backend.table_name)).items()
            if name != DYNTASTIC
        }
        _check_same_requests(raw, backend, contenders)
        units = consumed_units(raw, backend.table_name, "units")
        rounds, ops = (2, 10) if quick else (32, 50)
        timings = transactions(contenders, rounds=rounds, ops=ops)
    finally:
        raw.delete_table(TableName=backend.table_name)
    shown = ", ".join(f"{what} {spent:g}" for what, spent in units.items())
    notes = [note.format(units=shown) for note in NOTES["transactions"]]
    lines = [Line(name, t, POINT_GOAL, None, CPU_GOAL) for name, t in timings.items()]
    return _lineup(TITLES["transactions"], lines, notes)


def _check_same_requests(raw: Any, backend: DynamoDBBackend, contenders: dict[str, Any]) -> None:
    """The floor's transfer sends what the ORM's sends: the same operations and shapes."""
    for n, reader in enumerate((contenders[ORM], contenders[FLOOR])):
        for at in (0, 1):
            reader.create(f"probe{n}", at, 10)
    with RequestLog(backend) as orm:
        contenders[ORM].transfer("probe0", 0, 1)
    with RequestLog(raw) as floor:
        contenders[FLOOR].transfer("probe1", 0, 1)
    assert [op for op, _ in orm.requests] == [op for op, _ in floor.requests], (
        orm.requests,
        floor.requests,
    )


def _lineup(title: str, lines: list[Line], notes: list[str]) -> Lineup:
    return Lineup(title, FLOOR, ORM, PYNAMODB, lines, notes)
