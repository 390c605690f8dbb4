"""pydynox (Rust core), sync and async, on the lineup's ``Reading`` items.

One ``DynamoDBClient`` serves both: pydynox's sync methods are its ``sync_*`` twins of the
async ones. Needs ``pip install pydynox``.
"""

from __future__ import annotations

from typing import Any

from _dynamo import CREDENTIALS, REGION, pk, sk
from pydynox import DynamoDBClient, Model, ModelConfig
from pydynox.attributes import NumberAttribute, StringAttribute

PREFIX = "Reading#"  # every sort key of a Reading begins so


def readings(url: str, table: str) -> tuple[Any, Any]:
    """The sync and the async contender, on ``table`` at ``url``."""
    client = DynamoDBClient(
        region=REGION,
        endpoint_url=url,
        access_key=CREDENTIALS["aws_access_key_id"],
        secret_key=CREDENTIALS["aws_secret_access_key"],
    )

    class Item(Model):
        model_config = ModelConfig(table=table, client=client, consistent_read=True)

        pk = StringAttribute(partition_key=True)
        sk = StringAttribute(sort_key=True)
        entity = StringAttribute(alias="_type", default="Reading")
        sensor = StringAttribute()
        at = NumberAttribute()
        value = NumberAttribute(default=0)
        note = StringAttribute(default="")

    def new(sensor: str, at: int, value: int) -> Item:
        return Item(pk=pk(sensor), sk=sk(at), sensor=sensor, at=at, value=value)

    def missing(sensor: str, at: int) -> LookupError:
        return LookupError(f"no pydynox Item {sensor}/{at}")

    def changed(row: Item, value: int) -> Item:
        # pydynox saves a loaded row as one UpdateItem of the fields that changed.
        row.value = value
        row.note = "saved"
        return row

    def partition(sensor: str) -> dict[str, Any]:
        return {"partition_key": pk(sensor), "sort_key_condition": Item.sk.begins_with(PREFIX)}

    class SyncReadings:
        def create(self, sensor: str, at: int, value: int) -> None:
            new(sensor, at, value).sync_save(condition=Item.pk.not_exists())

        def get(self, sensor: str, at: int) -> Item:
            row = Item.sync_get(pk=pk(sensor), sk=sk(at))
            if row is None:
                raise missing(sensor, at)
            return row

        def save(self, row: Item, value: int) -> None:
            changed(row, value).sync_save(condition=Item.pk.exists())

        def delete(self, row: Item) -> None:
            row.sync_delete(condition=Item.pk.exists())

        def query(self, sensor: str) -> list[Item]:
            return list(Item.sync_query(**partition(sensor)))

        def count(self, sensor: str) -> int:
            # pydynox counts only whole tables (a Scan): a partition's rows are counted here.
            return sum(1 for _ in Item.sync_query(**partition(sensor)))

    class AsyncReadings:
        async def create(self, sensor: str, at: int, value: int) -> None:
            await new(sensor, at, value).save(condition=Item.pk.not_exists())

        async def get(self, sensor: str, at: int) -> Item:
            row = await Item.get(pk=pk(sensor), sk=sk(at))
            if row is None:
                raise missing(sensor, at)
            return row

        async def save(self, row: Item, value: int) -> None:
            await changed(row, value).save(condition=Item.pk.exists())

        async def delete(self, row: Item) -> None:
            await row.delete(condition=Item.pk.exists())

        async def query(self, sensor: str) -> list[Item]:
            return [row async for row in Item.query(**partition(sensor))]

        async def count(self, sensor: str) -> int:
            return sum([1 async for _ in Item.query(**partition(sensor))])

    return SyncReadings(), AsyncReadings()
