"""Sending requests: botocore errors become ORM errors naming endpoint and table."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .errors import DynamoDBError, TransactionsUnsupportedError

__all__ = ["cancellation_reasons", "codes_of", "error_code", "translated", "translation"]

_UNSUPPORTED = {"UnknownOperationException", "UnrecognizedClientException"}


def error_code(error: ClientError) -> str:
    """The DynamoDB error code of a client error (``""`` when there is none)."""
    code: str = error.response.get("Error", {}).get("Code", "")
    return code.rsplit("#", 1)[-1]


def cancellation_reasons(error: ClientError) -> list[dict[str, Any]]:
    """One reason per action of a cancelled transaction (``[]`` when the server gave none)."""
    reasons = error.response.get("CancellationReasons") or []
    return [reason if isinstance(reason, dict) else {} for reason in reasons]


def codes_of(reasons: list[dict[str, Any]]) -> list[str]:
    """The code of each reason (``"None"``: that action was fine)."""
    return [str(reason.get("Code", "None")) for reason in reasons]


class translated:  # lower case: used as a function was, `with translated(...)`
    """Turn any botocore failure inside the block into a ``DynamoDBError``.

    Errors the caller handles itself (conditional checks, cancelled transactions) must be
    caught inside the block. The backend's own requests, the hot path, catch errors
    themselves and raise ``translation(...)``, which this block raises too.
    """

    __slots__ = ("client", "operation", "table")

    def __init__(self, client: Any, table: str, operation: str) -> None:
        """Remember what the block sends, for the message."""
        self.client, self.table, self.operation = client, table, operation

    def __enter__(self) -> None:
        """Enter the block."""

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None
    ) -> None:
        """Translate a botocore error leaving the block; anything else passes through."""
        if isinstance(error, (ClientError, BotoCoreError)):
            raise translation(error, self.client, self.table, self.operation) from error


def translation(
    error: ClientError | BotoCoreError, client: Any, table: str, operation: str
) -> DynamoDBError:
    """The ``DynamoDBError`` to raise for a botocore failure of ``operation`` on ``table``."""
    where = f"table {table!r} at {client.meta.endpoint_url}"
    if isinstance(error, BotoCoreError):
        return DynamoDBError(f"{operation} on {where} failed: {error}")
    code = error_code(error)
    if operation == "TransactWriteItems" and code in _UNSUPPORTED:
        return TransactionsUnsupportedError(
            f"{where} does not support TransactWriteItems, which models with unique "
            "fields need to claim their values atomically (dynalite lacks it; use "
            "DynamoDB, DynamoDB Local or moto)"
        )
    return DynamoDBError(f"{operation} on {where} failed: {code}: {error}")
