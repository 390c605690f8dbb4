"""Creating the table and its indexes: idempotent, on-demand billing, waits until ACTIVE."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from ._keys import KeyScheme
from ._requests import error_code, translated

__all__ = ["add_indexes", "create_table", "existing_indexes"]

_WAIT = {"Delay": 1, "MaxAttempts": 120}


def _index(keys: KeyScheme, field: str) -> dict[str, Any]:
    return {
        "IndexName": keys.index_name(field),
        "KeySchema": [{"AttributeName": keys.index_attribute(field), "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }


def _definition(keys: KeyScheme, field: str) -> dict[str, str]:
    return {"AttributeName": keys.index_attribute(field), "AttributeType": "S"}


def create_table(client: Any, table: str, keys: KeyScheme, indexed: Iterable[str] = ()) -> None:
    """Create ``table`` (string ``pk``/``sk``, one GSI per indexed field) unless it exists."""
    fields = sorted(set(indexed))
    request: dict[str, Any] = {
        "TableName": table,
        "AttributeDefinitions": [
            {"AttributeName": keys.pk, "AttributeType": "S"},
            {"AttributeName": keys.sk, "AttributeType": "S"},
            *(_definition(keys, field) for field in fields),
        ],
        "KeySchema": [
            {"AttributeName": keys.pk, "KeyType": "HASH"},
            {"AttributeName": keys.sk, "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if fields:
        request["GlobalSecondaryIndexes"] = [_index(keys, field) for field in fields]
    with translated(client, table, "CreateTable"):
        try:
            client.create_table(**request)
        except ClientError as error:
            if error_code(error) != "ResourceInUseException":
                raise
        client.get_waiter("table_exists").wait(TableName=table, WaiterConfig=_WAIT)
    add_indexes(client, table, keys, fields)


def existing_indexes(client: Any, table: str) -> set[str]:
    """The names of the table's global secondary indexes."""
    with translated(client, table, "DescribeTable"):
        described = client.describe_table(TableName=table)["Table"]
    return {index["IndexName"] for index in described.get("GlobalSecondaryIndexes", [])}


def _wait_until_active(client: Any, table: str, name: str) -> None:
    for _ in range(_WAIT["MaxAttempts"]):
        described = client.describe_table(TableName=table)["Table"]
        statuses = {
            index["IndexName"]: index.get("IndexStatus", "ACTIVE")
            for index in described.get("GlobalSecondaryIndexes", [])
        }
        if statuses.get(name) == "ACTIVE" and described.get("TableStatus") == "ACTIVE":
            return
        time.sleep(_WAIT["Delay"])
    raise TimeoutError(f"index {name!r} of table {table!r} did not become ACTIVE")


def add_indexes(client: Any, table: str, keys: KeyScheme, indexed: Iterable[str]) -> None:
    """Add the missing indexes of these fields, one ``UpdateTable`` each, and wait for them."""
    present = existing_indexes(client, table)
    for field in sorted(set(indexed)):
        if keys.index_name(field) in present:
            continue
        with translated(client, table, "UpdateTable"):
            client.update_table(
                TableName=table,
                AttributeDefinitions=[_definition(keys, field)],
                GlobalSecondaryIndexUpdates=[{"Create": _index(keys, field)}],
            )
            _wait_until_active(client, table, keys.index_name(field))
