"""dynamoxy (async ORM, Rust core; Python 3.12 and later) on the lineup's ``Reading`` items.

Configured to send what the others send: no ``ReturnConsumedCapacity``, no write ids
(``_wid``), no telemetry. Needs ``pip install dynamoxy``.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import dynamoxy
from _dynamo import CREDENTIALS, REGION, pk, sk
from dynamoxy import Attr, field, partition_key, sort_key


async def readings(url: str, table: str, stack: AsyncExitStack) -> Any:
    """The contender on ``table`` at ``url``; its client closes with ``stack``."""
    client = dynamoxy.Client(
        region=REGION,
        endpoint_url=url,
        credentials=dynamoxy.Credentials(
            CREDENTIALS["aws_access_key_id"], CREDENTIALS["aws_secret_access_key"]
        ),
        consumed_capacity="NONE",
        telemetry=None,
    )
    await stack.enter_async_context(client)

    class Item(dynamoxy.Model, table=table, write_ids=False):
        pk: Attr[str] = partition_key()
        sk: Attr[str] = sort_key()
        entity: Attr[str] = field(default="Reading", attribute_name="_type")
        sensor: Attr[str]
        at: Attr[int]
        value: Attr[int] = field(default=0)
        note: Attr[str] = field(default="")

    items = client.repository(Item)

    def partition(sensor: str) -> Any:
        return items.query(pk=pk(sensor), consistent=True).where(Item.sk.begins_with("Reading#"))

    class DynamoxyReadings:
        async def create(self, sensor: str, at: int, value: int) -> None:
            row = Item(pk=pk(sensor), sk=sk(at), sensor=sensor, at=at, value=value)
            await items.create(row)

        async def get(self, sensor: str, at: int) -> Item:
            row = await items.get(pk(sensor), sk(at), consistent=True)
            if row is None:
                raise LookupError(f"no dynamoxy Item {sensor}/{at}")
            return row

        async def save(self, row: Item, value: int) -> None:
            # One conditional UpdateItem; the instance is refreshed from the new item.
            await items.update(row, Item.value.set(value), Item.note.set("saved"))

        async def delete(self, row: Item) -> None:
            await items.delete(row, condition=Item.pk.exists())

        async def query(self, sensor: str) -> list[Item]:
            return await partition(sensor).all()

        async def count(self, sensor: str) -> int:
            return await partition(sensor).count()

    return DynamoxyReadings()
