"""Creating the table: idempotent, on-demand billing, waits until it is ACTIVE."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ._keys import KeyScheme
from ._requests import error_code, translated

__all__ = ["create_table"]


def create_table(client: Any, table: str, keys: KeyScheme) -> None:
    """Create ``table`` with string ``pk``/``sk`` keys unless it exists, then wait for it."""
    with translated(client, table, "CreateTable"):
        try:
            client.create_table(
                TableName=table,
                AttributeDefinitions=[
                    {"AttributeName": keys.pk, "AttributeType": "S"},
                    {"AttributeName": keys.sk, "AttributeType": "S"},
                ],
                KeySchema=[
                    {"AttributeName": keys.pk, "KeyType": "HASH"},
                    {"AttributeName": keys.sk, "KeyType": "RANGE"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        except ClientError as error:
            if error_code(error) != "ResourceInUseException":
                raise
        client.get_waiter("table_exists").wait(
            TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
