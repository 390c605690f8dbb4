"""Sending requests: botocore errors become ORM errors naming endpoint and table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .errors import DynamoDBError, TransactionsUnsupportedError

__all__ = ["error_code", "translated"]

_UNSUPPORTED = {"UnknownOperationException", "UnrecognizedClientException"}


def error_code(error: ClientError) -> str:
    """The DynamoDB error code of a client error (``""`` when there is none)."""
    code: str = error.response.get("Error", {}).get("Code", "")
    return code.rsplit("#", 1)[-1]


@contextmanager
def translated(client: Any, table: str, operation: str) -> Iterator[None]:
    """Turn any botocore failure inside the block into a ``DynamoDBError``.

    Errors the caller handles itself (conditional checks, cancelled transactions) must be
    caught inside the block.
    """
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        where = f"table {table!r} at {client.meta.endpoint_url}"
        if operation == "TransactWriteItems" and code in _UNSUPPORTED:
            raise TransactionsUnsupportedError(
                f"{where} does not support TransactWriteItems, which models with unique "
                "fields need to claim their values atomically (dynalite lacks it; use "
                "DynamoDB, DynamoDB Local or moto)"
            ) from error
        raise DynamoDBError(f"{operation} on {where} failed: {code}: {error}") from error
    except BotoCoreError as error:
        raise DynamoDBError(
            f"{operation} on table {table!r} at {client.meta.endpoint_url} failed: {error}"
        ) from error
