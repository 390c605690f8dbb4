"""Which items a client has written: what the test driver deletes to empty its table.

An interceptor on the backend (``DynamoDBBackend.interceptors``) reads each write request
before it is sent, and keeps the address of every item it may create. Emptying the table
then takes one delete per 25 items written, and nothing at all when nothing was, instead of
a Scan of the table.
A request it cannot read sets ``unknown``: then only a Scan can tell what is there.
"""

from __future__ import annotations

import threading
from typing import Any

from ._keys import Address, KeyScheme

__all__ = ["WrittenItems"]


class WrittenItems:
    """The addresses of the items a backend may have created since the last ``take``.

    Attributes:
        table: The table watched; requests on other tables are ignored.
        keys: The table's key scheme.
    """

    def __init__(self, table: str, keys: KeyScheme) -> None:
        """Start knowing nothing: whatever the table holds is unknown until emptied."""
        self.table, self.keys = table, keys
        self._addresses: set[Address] = set()
        self._unknown = True
        self._lock = threading.Lock()  # a sync backend may be used from several threads

    def note(self, operation: str, body: dict[str, Any]) -> None:
        """The interceptor: remember the items a write request may create; send it on."""
        if operation not in _CREATORS:
            return
        try:
            found = list(_CREATORS[operation](self, body))
        except (ValueError, KeyError, TypeError, AttributeError):
            with self._lock:
                self._unknown = True
            return
        with self._lock:
            self._addresses.update(found)

    def take(self) -> tuple[set[Address], bool]:
        """The addresses written, and whether some write could not be read; then forget."""
        with self._lock:
            addresses, unknown = self._addresses, self._unknown
            self._addresses, self._unknown = set(), False
        return addresses, unknown

    def _put(self, body: dict[str, Any]) -> list[Address]:
        return [self.keys.address(body["Item"])] if body.get("TableName") == self.table else []

    def _update(self, body: dict[str, Any]) -> list[Address]:
        return [self.keys.address(body["Key"])] if body.get("TableName") == self.table else []

    def _batch(self, body: dict[str, Any]) -> list[Address]:
        entries = body["RequestItems"].get(self.table, [])
        return [self.keys.address(e["PutRequest"]["Item"]) for e in entries if "PutRequest" in e]

    def _transaction(self, body: dict[str, Any]) -> list[Address]:
        addresses = []
        for action in body["TransactItems"]:
            for kind, part in (("Put", "Item"), ("Update", "Key")):
                if kind in action and action[kind].get("TableName") == self.table:
                    addresses.append(self.keys.address(action[kind][part]))
        return addresses


# Deletes and condition checks create nothing, so they are not listed.
_CREATORS = {
    "PutItem": WrittenItems._put,
    "UpdateItem": WrittenItems._update,
    "BatchWriteItem": WrittenItems._batch,
    "TransactWriteItems": WrittenItems._transaction,
}
