"""``Table``: the one object through which every request of the backend reaches DynamoDB.

It holds the protocol layer, the table name, the key scheme and the retry config. Every
request it sends is a flow (see ``_flow``): ``answer = yield from table.send(...)``. The
protocol layer builds, signs and decodes requests and turns failures into ``DynamoDBError``;
the runner that drives the flow does the sending and the sleeping. Everything here shapes
requests and answers around ``send``: point requests, transactions (whose cancellation
reasons come back typed), batch requests, and table administration.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._definition import TTL_ON, Billing, TableDefinition
from ._flow import Flow, Pause
from ._keys import Gsi, ItemKey, KeyScheme
from ._once import Lanes
from ._protocol import Protocol, Refusal
from ._retries import RetryConfig
from ._serialize import Item
from .errors import DynamoDBError

__all__ = [
    "CONDITIONAL_CHECK_FAILED",
    "CancellationReason",
    "Creation",
    "Refusal",
    "Table",
    "wait",
]

#: The error code of a single request whose condition failed.
CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"
_CANCELLED = "TransactionCanceledException"
_TABLE_WAIT = 1.0  # seconds between looks at a table being created or indexed
_TABLE_LOOKS = 120


def wait(seconds: float) -> Flow[None]:
    """Wait before trying again (a backoff); no step at all for a wait of 0."""
    if seconds > 0:
        yield Pause(seconds)


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
class Creation:
    """What ``Table.create`` did.

    Attributes:
        created: The table was made now (it did not exist).
        indexes_added: The indexes added to a table that lacked them.
        ttl_enabled: TTL was off, and is now being turned on.
    """

    created: bool
    indexes_added: tuple[str, ...]
    ttl_enabled: bool


class Table:
    """One DynamoDB table: the protocol its requests go through, its name, key scheme, retries.

    Every method that sends a request is a flow (``answer = yield from table.read(key)``),
    run by ``_flow.run`` or ``_flow.arun``: the table never sends or sleeps itself.

    Attributes:
        protocol: The protocol layer every request goes through.
        name: The table's name.
        keys: The single-table key scheme.
        retries: How often the backend's own loops try again, and how long they wait.
    """

    def __init__(
        self, protocol: Protocol, name: str, keys: KeyScheme, retries: RetryConfig
    ) -> None:
        """Talk to table ``name`` through ``protocol``; nothing is sent yet."""
        self.protocol = protocol
        self.name = name
        self.keys = keys
        self.retries = retries
        self._indexes: set[str] | None = None
        #: The lanes of this table's marked writes (see ``_once``; ``None``: unmarked).
        self.lanes: Lanes | None = Lanes()
        #: ``send(operation, request, *, refusal="")``: the flow of one request, returning
        #: DynamoDB's answer, or a ``Refusal`` when it answers with the ``refusal`` error
        #: code. The protocol's own method, bound here: the hot path has no layer around it.
        self.send: Callable[..., Flow[Any]] = protocol.call

    # -- requests on the table -----------------------------------------------------------

    def call(self, operation: str, **request: Any) -> Flow[Any]:
        """Send a request on this table, e.g. ``call("Query", KeyConditionExpression=...)``."""
        request["TableName"] = self.name
        return self.send(operation, request)

    def conditional(self, operation: str, **request: Any) -> Flow[Any | None]:
        """Send a conditional request on this table; ``None`` when its condition failed."""
        request["TableName"] = self.name
        answer = yield from self.send(operation, request, refusal=CONDITIONAL_CHECK_FAILED)
        return None if type(answer) is Refusal else answer

    def read(self, item_key: ItemKey) -> Flow[Item | None]:
        """The item at ``item_key``, read consistently (``None`` when there is none)."""
        request = {"TableName": self.name, "Key": item_key, "ConsistentRead": True}
        answer = yield from self.send("GetItem", request)
        item: Item | None = answer.get("Item")
        return item

    def transact(
        self, actions: list[dict[str, Any]]
    ) -> Flow[tuple[CancellationReason, ...] | None]:
        """Send one ``TransactWriteItems``: ``None`` once written, else why it was cancelled.

        Returns:
            ``None`` when every action was applied; when the transaction was cancelled
            (nothing applied), one reason per action, or ``()`` if the server gave none.
        """
        # The token makes a resent request (its answer lost) idempotent on servers that
        # honour it, as botocore's own token did: each call gets one, its retries keep it.
        request = {"TransactItems": actions, "ClientRequestToken": str(uuid.uuid4())}
        answer = yield from self.send("TransactWriteItems", request, refusal=_CANCELLED)
        if type(answer) is not Refusal:
            return None
        return tuple(map(CancellationReason.parse, answer.answer.get("CancellationReasons") or ()))

    def write_batch(self, requests: list[dict[str, Any]]) -> Flow[list[dict[str, Any]]]:
        """Send one ``BatchWriteItem`` (at most 25 requests); return those left unprocessed."""
        answer = yield from self.send("BatchWriteItem", {"RequestItems": {self.name: requests}})
        left: list[dict[str, Any]] = answer.get("UnprocessedItems", {}).get(self.name, [])
        return left

    def read_batch(self, item_keys: list[ItemKey]) -> Flow[tuple[list[Item], list[ItemKey]]]:
        """Send one ``BatchGetItem`` (at most 100 keys, consistent reads).

        Returns:
            The items found, and the item keys DynamoDB left unprocessed.
        """
        wanted = {self.name: {"Keys": item_keys, "ConsistentRead": True}}
        answer = yield from self.send("BatchGetItem", {"RequestItems": wanted})
        found: list[Item] = answer.get("Responses", {}).get(self.name, [])
        left: list[ItemKey] = (
            (answer.get("UnprocessedKeys") or {}).get(self.name, {}).get("Keys", [])
        )
        return found, left

    # -- table administration ------------------------------------------------------------

    def create(
        self,
        indexes: Iterable[Gsi] = (),
        *,
        expiring: bool = False,
        billing: Billing | None = None,
    ) -> Flow[Creation]:
        """Create the table unless it exists; wait until ACTIVE; add what it lacks.

        The request is ``TableDefinition.request()``, the one the CLI's ``plan`` prints.

        Args:
            indexes: The global secondary indexes the table must have (added to an
                existing table that lacks them).
            expiring: Enable DynamoDB's TTL on the expiry attribute, unless it is already.
            billing: How a table made now, and each index added, is billed (on-demand if
                omitted). An existing table keeps its own.

        Returns:
            What was done: whether the table was made, the indexes added, TTL turned on.
        """
        definition = TableDefinition.of(
            self.name, self.keys, indexes, expiring=expiring, billing=billing
        )
        # A table that exists already is fine.
        answer = yield from self.send(
            "CreateTable", definition.request(), refusal="ResourceInUseException"
        )
        yield from self._wait_until_active()
        added = yield from self.add_indexes(definition.indexes, billing=definition.billing)
        self._indexes = None  # indexes may still be building: look again when asked
        ttl = (yield from self._enable_ttl()) if expiring else False
        return Creation(type(answer) is not Refusal, tuple(added), ttl)

    def _enable_ttl(self) -> Flow[bool]:
        """Turn DynamoDB's TTL on for the expiry attribute (a table has at most one).

        Returns:
            Whether it was off (and is now being turned on).
        """
        answer = yield from self.call("DescribeTimeToLive")
        current = answer.get("TimeToLiveDescription", {})
        if current.get("TimeToLiveStatus") in TTL_ON:
            if current.get("AttributeName") != self.keys.expiry:
                raise DynamoDBError(
                    f"table {self.name!r} expires items by {current.get('AttributeName')!r}, "
                    f"not by {self.keys.expiry!r} which this backend writes; a table has one "
                    "TTL attribute: disable the other one first"
                )
            return False
        yield from self.call(
            "UpdateTimeToLive",
            TimeToLiveSpecification={"Enabled": True, "AttributeName": self.keys.expiry},
        )
        return True

    def describe(self) -> Flow[dict[str, Any]]:
        """The table's description, as ``DescribeTable`` gives it."""
        answer = yield from self.call("DescribeTable")
        table: dict[str, Any] = answer["Table"]
        return table

    def index_names(self) -> Flow[set[str]]:
        """The table's global secondary indexes (read once, then remembered)."""
        if self._indexes is None:
            self._indexes = set(_index_statuses((yield from self.describe())))
        return self._indexes

    def add_indexes(
        self, indexes: Iterable[Gsi], *, billing: Billing | None = None
    ) -> Flow[list[str]]:
        """Add the missing ones of these indexes, one ``UpdateTable`` each, and wait.

        Args:
            indexes: The indexes the table must have.
            billing: The capacity of each index added (none: on-demand).

        Returns:
            The names of the indexes added.
        """
        definition = TableDefinition.of(self.name, self.keys, indexes, billing=billing)
        names = {gsi.name: gsi for gsi in definition.indexes}
        if names.keys() <= (yield from self.index_names()):
            return []
        self._indexes = None  # look again: another client may have added some meanwhile
        present = yield from self.index_names()
        added = []
        for name, gsi in names.items():
            if name in present:
                continue
            yield from self.call(
                "UpdateTable",
                AttributeDefinitions=definition.attributes(gsi),
                GlobalSecondaryIndexUpdates=[{"Create": definition.index(gsi)}],
            )
            yield from self._wait_until_active(name)
            present.add(name)
            added.append(name)
        return added

    def _wait_until_active(self, index: str | None = None) -> Flow[None]:
        """Look at the table until it (and ``index``, if given) is ACTIVE."""
        request = {"TableName": self.name}
        for _ in range(_TABLE_LOOKS):
            # Just after CreateTable, DynamoDB may not know the table yet: look again.
            answer = yield from self.send(
                "DescribeTable", request, refusal="ResourceNotFoundException"
            )
            table = None if type(answer) is Refusal else answer["Table"]
            if (
                table is not None
                and table.get("TableStatus") == "ACTIVE"
                and (index is None or _index_statuses(table).get(index) == "ACTIVE")
            ):
                return
            yield Pause(_TABLE_WAIT)
        what = f"index {index!r} of table {self.name!r}" if index else f"table {self.name!r}"
        raise DynamoDBError(f"{what} did not become ACTIVE in {_TABLE_LOOKS * _TABLE_WAIT:.0f} s")


def _index_statuses(table: Mapping[str, Any]) -> dict[str, str]:
    """Each global secondary index of a table description, to its status."""
    indexes = table.get("GlobalSecondaryIndexes", ())
    return {index["IndexName"]: index.get("IndexStatus", "ACTIVE") for index in indexes}
