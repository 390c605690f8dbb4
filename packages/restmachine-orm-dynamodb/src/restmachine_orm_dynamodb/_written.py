"""Which items a client has written: what the test driver deletes to empty its table.

A handler on botocore's ``before-send`` event reads each write request the client sends
and keeps the key of every item it may create. Emptying the table then takes one delete
per 25 items written, and nothing at all when nothing was, instead of a Scan of the table.
A request it cannot read sets ``unknown``: then only a Scan can tell what is there.
"""

from __future__ import annotations

import json
import threading
from typing import Any

__all__ = ["WrittenItems"]

ItemKey = tuple[str, str]


class WrittenItems:
    """The keys of the items one table's client may have created since the last ``take``.

    Attributes:
        table: The table watched; requests on other tables are ignored.
        pk: The table's partition key attribute.
        sk: The table's sort key attribute.
    """

    def __init__(self, table: str, pk: str, sk: str) -> None:
        """Start knowing nothing: whatever the table holds is unknown until emptied."""
        self.table, self.pk, self.sk = table, pk, sk
        self._keys: set[ItemKey] = set()
        self._unknown = True
        self._lock = threading.Lock()  # batch requests are sent from several threads

    def note(self, request: Any, **_: Any) -> None:
        """The ``before-send`` handler: remember the items a write request may create."""
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else str(target)).split(".")[-1]
        if operation not in _CREATORS:
            return
        try:
            found = list(_CREATORS[operation](self, json.loads(request.body)))
        except (ValueError, KeyError, TypeError, AttributeError):
            with self._lock:
                self._unknown = True
            return
        with self._lock:
            self._keys.update(found)

    def take(self) -> tuple[set[ItemKey], bool]:
        """The keys written, and whether some write could not be read; then forget them."""
        with self._lock:
            keys, unknown = self._keys, self._unknown
            self._keys, self._unknown = set(), False
        return keys, unknown

    def _key(self, item: dict[str, Any]) -> ItemKey:
        return item[self.pk]["S"], item[self.sk]["S"]

    def _put(self, body: dict[str, Any]) -> list[ItemKey]:
        return [self._key(body["Item"])] if body.get("TableName") == self.table else []

    def _update(self, body: dict[str, Any]) -> list[ItemKey]:
        return [self._key(body["Key"])] if body.get("TableName") == self.table else []

    def _batch(self, body: dict[str, Any]) -> list[ItemKey]:
        entries = body["RequestItems"].get(self.table, [])
        return [self._key(e["PutRequest"]["Item"]) for e in entries if "PutRequest" in e]

    def _transaction(self, body: dict[str, Any]) -> list[ItemKey]:
        keys = []
        for action in body["TransactItems"]:
            for kind, part in (("Put", "Item"), ("Update", "Key")):
                if kind in action and action[kind].get("TableName") == self.table:
                    keys.append(self._key(action[kind][part]))
        return keys


# Deletes and condition checks create nothing, so they are not listed.
_CREATORS = {
    "PutItem": WrittenItems._put,
    "UpdateItem": WrittenItems._update,
    "BatchWriteItem": WrittenItems._batch,
    "TransactWriteItems": WrittenItems._transaction,
}
