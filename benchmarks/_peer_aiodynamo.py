"""aiodynamo (pure-Python async client, on aiohttp) on the lineup's ``Reading`` items.

aiodynamo has no models: rows are the dicts it decodes. Needs ``pip install aiodynamo
aiohttp``.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import aiohttp
from _dynamo import CREDENTIALS, REGION, pk, sk
from aiodynamo.client import Client
from aiodynamo.credentials import Key, StaticCredentials
from aiodynamo.expressions import F, HashKey, KeyCondition, RangeKey
from aiodynamo.http.aiohttp import AIOHTTP
from aiodynamo.models import ReturnValues
from yarl import URL


async def readings(url: str, table: str, stack: AsyncExitStack, connections: int = 100) -> Any:
    """The contender on ``table`` at ``url``; its HTTP session closes with ``stack``.

    It keeps up to ``connections`` open (aiohttp's default is 100). Must be called on the
    event loop the contender runs on.
    """
    connector = aiohttp.TCPConnector(limit=connections)
    session = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))
    key = Key(CREDENTIALS["aws_access_key_id"], CREDENTIALS["aws_secret_access_key"])
    client = Client(AIOHTTP(session), StaticCredentials(key), REGION, endpoint=URL(url))

    def partition(sensor: str) -> KeyCondition:
        return HashKey("pk", pk(sensor)) & RangeKey("sk").begins_with("Reading#")

    class AiodynamoReadings:
        async def create(self, sensor: str, at: int, value: int) -> None:
            item = {
                "pk": pk(sensor),
                "sk": sk(at),
                "_type": "Reading",
                "sensor": sensor,
                "at": at,
                "value": value,
                "note": "",
            }
            await client.put_item(table, item, condition=F("pk").does_not_exist())

        async def get(self, sensor: str, at: int) -> dict[str, Any]:
            # Raises aiodynamo's ItemNotFound when the row is missing.
            return await client.get_item(
                table, {"pk": pk(sensor), "sk": sk(at)}, consistent_read=True
            )

        async def save(self, row: dict[str, Any], value: int) -> None:
            await client.update_item(
                table,
                {"pk": row["pk"], "sk": row["sk"]},
                F("value").set(value) & F("note").set("saved"),
                return_values=ReturnValues.all_new,
                condition=F("pk").exists(),
            )

        async def delete(self, row: dict[str, Any]) -> None:
            key = {"pk": row["pk"], "sk": row["sk"]}
            await client.delete_item(table, key, condition=F("pk").exists())

        async def query(self, sensor: str) -> list[dict[str, Any]]:
            found = client.query(table, partition(sensor), consistent_read=True)
            return [row async for row in found]

        async def count(self, sensor: str) -> int:
            return await client.count(table, partition(sensor), consistent_read=True)

    return AiodynamoReadings()
