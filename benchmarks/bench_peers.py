"""restmachine-orm against PynamoDB and dyntastic, with the raw boto3 client as the floor.

All four work on one table, on the same server, on items of one layout: the one the ORM's
single-table design writes (string ``pk``/``sk`` such as ``Reading#s3``, an ``_type``
attribute). PynamoDB and dyntastic get models declaring exactly those attributes, so every
library reads and writes the same items and the requests differ only where the libraries do.
Needs ``pip install -r benchmarks/requirements.txt``.
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
    POINT_GOAL,
    READ_GOALS,
    READ_ROWS,
    REGION,
    OrmReadings,
    RawReadings,
    Readings,
    batch_create,
    client,
    endpoint,
    new_table,
    pk,
    point_operations,
    reads,
    sk,
)
from _lineup import Line, Lineup

FLOOR, ORM, PYNAMODB, DYNTASTIC = "boto3 (floor)", "restmachine-orm", "PynamoDB", "dyntastic"
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
    "reads": [
        "Every read is consistent, over the same 1,000 items; the floor leaves items undecoded.",
        "PynamoDB `count()` refuses a filter without a hash key, so it counts the items of a "
        "filtered `scan()`; dyntastic has no count, so it counts the items `query()` and "
        "`scan()` yield. The others send `Select=COUNT`.",
    ],
    "batch": [
        "One call writes 1,000 new items with BatchWriteItem, 25 a request. The ORM's "
        "`create_many` first reads the 1,000 keys (BatchGetItem, 100 a request) to refuse "
        "taken ones, and sends its requests 4 at a time; the floor, PynamoDB `batch_write()` "
        "and dyntastic `batch_writer()` send theirs one by one and overwrite without checking.",
    ],
}


def pynamodb_readings(url: str, table: str) -> Readings[Any]:
    """PynamoDB: a Model with hash and range keys declared on the ORM's attributes."""
    from pynamodb.attributes import NumberAttribute, UnicodeAttribute
    from pynamodb.models import Model

    class Item(Model):
        class Meta:
            table_name = table
            host = url
            region = REGION
            aws_access_key_id = CREDENTIALS["aws_access_key_id"]
            aws_secret_access_key = CREDENTIALS["aws_secret_access_key"]

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
    from dyntastic import A, Dyntastic
    from pydantic import Field

    # dyntastic builds its boto3 resource from the default session; dynalite takes any key.
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


def run(quick: bool) -> list[Lineup]:
    missing = [name for name in ("pynamodb", "dyntastic") if importlib.util.find_spec(name) is None]
    url = endpoint("peers", missing)
    if not url:
        return []
    raw = client(url)
    backend = new_table(raw)
    floor = RawReadings(raw, backend.table_name)
    contenders: dict[str, Readings[Any]] = {
        FLOOR: floor,
        ORM: OrmReadings(backend),
        PYNAMODB: pynamodb_readings(url, backend.table_name),
        DYNTASTIC: dyntastic_readings(url, backend.table_name),
    }
    rounds, ops, batch_rounds = (4, 20, 2) if quick else (24, 100, 16)
    try:
        point = point_operations(contenders, rounds=rounds, ops=ops)
        floor.create_many(READ_ROWS)
        read = reads(contenders, rounds=rounds)
        batch = batch_create(contenders, rounds=batch_rounds)  # last: it grows the table
    finally:
        raw.delete_table(TableName=backend.table_name)
    return [
        _lineup(
            "Point operations on dynalite",
            [
                Line(name, timings, POINT_GOAL, PEER_MARGIN, CPU_GOAL)
                for name, timings in point.items()
            ],
            NOTES["point"],
        ),
        _lineup(
            "Queries, scans and counts on dynalite",
            [Line(name, timings, READ_GOALS[name]) for name, timings in read.items()],
            NOTES["reads"],
        ),
        _lineup(
            "Batch create on dynalite",
            [Line("batch-create 1,000", batch, BATCH_GOAL)],
            NOTES["batch"],
        ),
    ]


def _lineup(title: str, lines: list[Line], notes: list[str]) -> Lineup:
    return Lineup(title, FLOOR, ORM, PYNAMODB, lines, notes)
