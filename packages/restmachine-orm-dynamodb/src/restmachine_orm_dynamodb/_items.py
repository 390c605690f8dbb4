"""Item reads under every query: one item by key, and a request read page by page.

The readers above (``_reads`` for queries, ``_batch`` for batches, ``_collect``, the
writes that read a row first) build on these, so this module imports none of them.
"""

from __future__ import annotations

from typing import Any

from restmachine_orm.backends.base import Row
from restmachine_orm.query.expiry import is_live
from restmachine_orm.schema import ModelSchema

from ._flow import Flow
from ._keys import ItemKey
from ._serialize import Item, from_item
from ._table import Table

__all__ = ["Pages", "get_row", "live_row"]


class Pages:
    """A Query or Scan read page by page, following ``LastEvaluatedKey`` to the end.

    Attributes:
        done: Whether the last page has been read.
    """

    def __init__(self, table: Table, operation: str, request: dict[str, Any]) -> None:
        """Read ``operation`` with ``request`` (without ``TableName``); nothing sent yet."""
        self._table, self._operation, self._request = table, operation, request
        self.done = False

    def next(self) -> Flow[dict[str, Any]]:
        """Send the request of the next page and return its answer."""
        answer: dict[str, Any] = yield from self._table.call(self._operation, **self._request)
        last = answer.get("LastEvaluatedKey")
        if last:
            self._request = {**self._request, "ExclusiveStartKey": last}
        else:
            self.done = True
        return answer


def get_row(
    table: Table, schema: ModelSchema, item_key: ItemKey, *, expired: bool = False
) -> Flow[Row | None]:
    """The row at ``item_key``, read with one consistent ``GetItem`` (``None``: no row).

    An expired row is no row (``live_row``), unless ``expired`` asks for it too.
    """
    request = {"TableName": table.name, "Key": item_key, "ConsistentRead": True}
    item = (yield from table.send("GetItem", request)).get("Item")
    if expired:
        return None if item is None else from_item(schema, item)
    return live_row(schema, item)


def live_row(schema: ModelSchema, item: Item | None) -> Row | None:
    """The row an item stores, or ``None``: no item, or a row that has expired."""
    if item is None:
        return None
    row = from_item(schema, item)
    return row if is_live(schema, row) else None
