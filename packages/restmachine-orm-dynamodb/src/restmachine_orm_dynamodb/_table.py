"""``Table``: the one object through which every request of the backend reaches DynamoDB.

It holds the client, the table name, the key scheme and the retry config. ``send`` is the
only place that calls the client and the only place that turns botocore's failures into
``DynamoDBError``; ``pause`` is the only place that sleeps. Everything else here shapes
requests and answers around those two: point requests, transactions (whose cancellation
reasons come back typed), batch requests, and table administration.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ._keys import ItemKey, KeyScheme
from ._retries import RetryConfig
from ._serialize import Item
from .errors import DynamoDBError, TransactionsUnsupportedError

__all__ = ["CONDITIONAL_CHECK_FAILED", "CancellationReason", "Refusal", "Table"]

#: The error code of a single request whose condition failed.
CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"
_CANCELLED = "TransactionCanceledException"
_UNSUPPORTED = frozenset({"UnknownOperationException", "UnrecognizedClientException"})
_TABLE_WAIT = 1.0  # seconds between looks at a table being created or indexed
_TABLE_LOOKS = 120


@dataclass(frozen=True)
class CancellationReason:
    """Why DynamoDB cancelled one action of a transaction.

    Attributes:
        code: DynamoDB's reason code, e.g. ``"ConditionalCheckFailed"``; ``None`` when this
            action was fine (another one cancelled the transaction).
        message: DynamoDB's explanation (``""`` when it gave none).
        item: The item in the way, for actions that asked for it on failure.
    """

    code: str | None
    message: str
    item: Item | None

    @property
    def condition_failed(self) -> bool:
        """Whether this action's condition failed (rather than a conflict, throttling...)."""
        return self.code == "ConditionalCheckFailed"

    @classmethod
    def parse(cls, reason: Any) -> CancellationReason:
        """Read one entry of an answer's ``CancellationReasons``."""
        if not isinstance(reason, Mapping):
            return cls(None, "", None)
        code = reason.get("Code")
        return cls(
            None if code in (None, "None") else str(code),
            reason.get("Message") or "",
            reason.get("Item"),
        )


@dataclass(frozen=True)
class Refusal:
    """What ``Table.send`` returns for an error the caller said it expects.

    Attributes:
        answer: DynamoDB's error answer, as botocore parsed it.
    """

    answer: Mapping[str, Any]


def error_code(error: ClientError) -> str:
    """The DynamoDB error code of a client error (``""`` when there is none)."""
    code: str = error.response.get("Error", {}).get("Code", "")
    return code.rsplit("#", 1)[-1]


@functools.cache
def _method_name(operation: str) -> str:
    # Called for every request: the client method of an operation is worked out once.
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


class Table:
    """One DynamoDB table: its client, name, key scheme and retry config.

    Attributes:
        client: The boto3 DynamoDB client every request goes through.
        name: The table's name.
        keys: The single-table key scheme.
        retries: How often the backend's own loops try again, and how long they wait.
    """

    def __init__(self, client: Any, name: str, keys: KeyScheme, retries: RetryConfig) -> None:
        """Talk to table ``name`` through ``client``; nothing is sent yet."""
        self.client = client
        self.name = name
        self.keys = keys
        self.retries = retries
        self._indexes: set[str] | None = None

    # -- sending: the one place that talks to the client --------------------------------

    def send(self, operation: str, request: dict[str, Any], *, refusal: str = "") -> Any:
        """Send one request, e.g. ``send("Query", {...})``, and return DynamoDB's answer.

        Args:
            operation: The DynamoDB operation.
            request: Its parameters, ``TableName`` (or ``RequestItems``) included.
            refusal: An error code the caller handles itself: when DynamoDB answers with
                it, ``send`` returns a ``Refusal`` instead of raising.

        Raises:
            DynamoDBError: The request failed (after botocore's own retries).
        """
        # The hot path: a plain try/except costs less than anything wrapped around it.
        try:
            return getattr(self.client, _method_name(operation))(**request)
        except ClientError as error:
            if refusal and error_code(error) == refusal:
                return Refusal(error.response)
            raise self._failure(error, operation) from error
        except BotoCoreError as error:
            raise self._failure(error, operation) from error

    def _failure(self, error: ClientError | BotoCoreError, operation: str) -> DynamoDBError:
        """The ``DynamoDBError`` telling what failed, where, and why."""
        where = f"table {self.name!r} at {self.client.meta.endpoint_url}"
        if isinstance(error, BotoCoreError):
            return DynamoDBError(f"{operation} on {where} failed: {error}")
        code = error_code(error)
        if operation == "TransactWriteItems" and code in _UNSUPPORTED:
            return TransactionsUnsupportedError(
                f"{where} does not support TransactWriteItems, which create_many and models "
                "with unique fields need to write rows only where none exists and to claim "
                "unique values atomically (dynalite lacks it; use DynamoDB, DynamoDB Local "
                "or moto)"
            )
        return DynamoDBError(f"{operation} on {where} failed: {code}: {error}")

    def pause(self, seconds: float) -> None:
        """Wait before trying again: the one place the backend sleeps."""
        if seconds > 0:
            time.sleep(seconds)

    # -- requests on the table -----------------------------------------------------------

    def call(self, operation: str, **request: Any) -> Any:
        """Send a request on this table, e.g. ``call("Query", KeyConditionExpression=...)``."""
        request["TableName"] = self.name
        return self.send(operation, request)

    def conditional(self, operation: str, **request: Any) -> Any | None:
        """Send a conditional request on this table; ``None`` when its condition failed."""
        request["TableName"] = self.name
        answer = self.send(operation, request, refusal=CONDITIONAL_CHECK_FAILED)
        return None if type(answer) is Refusal else answer

    def read(self, item_key: ItemKey) -> Item | None:
        """The item at ``item_key``, read consistently (``None`` when there is none)."""
        request = {"TableName": self.name, "Key": item_key, "ConsistentRead": True}
        item: Item | None = self.send("GetItem", request).get("Item")
        return item

    def transact(self, actions: list[dict[str, Any]]) -> tuple[CancellationReason, ...] | None:
        """Send one ``TransactWriteItems``: ``None`` once written, else why it was cancelled.

        Returns:
            ``None`` when every action was applied; when the transaction was cancelled
            (nothing applied), one reason per action, or ``()`` if the server gave none.
        """
        answer = self.send("TransactWriteItems", {"TransactItems": actions}, refusal=_CANCELLED)
        if type(answer) is not Refusal:
            return None
        return tuple(map(CancellationReason.parse, answer.answer.get("CancellationReasons") or ()))

    def write_batch(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send one ``BatchWriteItem`` (at most 25 requests); return those left unprocessed."""
        answer = self.send("BatchWriteItem", {"RequestItems": {self.name: requests}})
        left: list[dict[str, Any]] = answer.get("UnprocessedItems", {}).get(self.name, [])
        return left

    def read_batch(self, item_keys: list[ItemKey]) -> tuple[list[Item], list[ItemKey]]:
        """Send one ``BatchGetItem`` (at most 100 keys, consistent reads).

        Returns:
            The items found, and the item keys DynamoDB left unprocessed.
        """
        wanted = {self.name: {"Keys": item_keys, "ConsistentRead": True}}
        answer = self.send("BatchGetItem", {"RequestItems": wanted})
        found: list[Item] = answer.get("Responses", {}).get(self.name, [])
        left: list[ItemKey] = (
            (answer.get("UnprocessedKeys") or {}).get(self.name, {}).get("Keys", [])
        )
        return found, left

    # -- table administration ------------------------------------------------------------

    def create(self, indexed: Iterable[str] = ()) -> None:
        """Create the table (string keys, on-demand) unless it exists; wait until ACTIVE.

        Args:
            indexed: Fields whose global secondary index the table must have (added to an
                existing table that lacks them).
        """
        keys, fields = self.keys, sorted(set(indexed))
        request: dict[str, Any] = {
            "TableName": self.name,
            "AttributeDefinitions": [
                {"AttributeName": keys.pk, "AttributeType": "S"},
                {"AttributeName": keys.sk, "AttributeType": "S"},
                *(self._definition(field) for field in fields),
            ],
            "KeySchema": [
                {"AttributeName": keys.pk, "KeyType": "HASH"},
                {"AttributeName": keys.sk, "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if fields:
            request["GlobalSecondaryIndexes"] = [self._index(field) for field in fields]
        self.send("CreateTable", request, refusal="ResourceInUseException")  # exists: fine
        self._wait_until_active()
        self.add_indexes(fields)
        self._indexes = None  # indexes may still be building: look again when asked

    def describe(self) -> dict[str, Any]:
        """The table's description, as ``DescribeTable`` gives it."""
        table: dict[str, Any] = self.call("DescribeTable")["Table"]
        return table

    def index_names(self) -> set[str]:
        """The table's global secondary indexes (read once, then remembered)."""
        if self._indexes is None:
            self._indexes = set(_index_statuses(self.describe()))
        return self._indexes

    def add_indexes(self, indexed: Iterable[str]) -> None:
        """Add the missing indexes of these fields, one ``UpdateTable`` each, and wait."""
        names = {self.keys.index_name(field): field for field in sorted(set(indexed))}
        if names.keys() <= self.index_names():
            return
        self._indexes = None  # look again: another client may have added some meanwhile
        present = self.index_names()
        for name, field in names.items():
            if name in present:
                continue
            self.call(
                "UpdateTable",
                AttributeDefinitions=[self._definition(field)],
                GlobalSecondaryIndexUpdates=[{"Create": self._index(field)}],
            )
            self._wait_until_active(name)
            present.add(name)

    def _wait_until_active(self, index: str | None = None) -> None:
        """Look at the table until it (and ``index``, if given) is ACTIVE."""
        request = {"TableName": self.name}
        for _ in range(_TABLE_LOOKS):
            # Just after CreateTable, DynamoDB may not know the table yet: look again.
            answer = self.send("DescribeTable", request, refusal="ResourceNotFoundException")
            table = None if type(answer) is Refusal else answer["Table"]
            if (
                table is not None
                and table.get("TableStatus") == "ACTIVE"
                and (index is None or _index_statuses(table).get(index) == "ACTIVE")
            ):
                return
            self.pause(_TABLE_WAIT)
        what = f"index {index!r} of table {self.name!r}" if index else f"table {self.name!r}"
        raise DynamoDBError(f"{what} did not become ACTIVE in {_TABLE_LOOKS * _TABLE_WAIT:.0f} s")

    def _index(self, field: str) -> dict[str, Any]:
        return {
            "IndexName": self.keys.index_name(field),
            "KeySchema": [{"AttributeName": self.keys.index_attribute(field), "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }

    def _definition(self, field: str) -> dict[str, str]:
        return {"AttributeName": self.keys.index_attribute(field), "AttributeType": "S"}


def _index_statuses(table: Mapping[str, Any]) -> dict[str, str]:
    """Each global secondary index of a table description, to its status."""
    indexes = table.get("GlobalSecondaryIndexes", ())
    return {index["IndexName"]: index.get("IndexStatus", "ACTIVE") for index in indexes}
