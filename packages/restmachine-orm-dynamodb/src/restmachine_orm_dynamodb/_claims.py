"""Who holds a unique value: reading a sentinel, and reclaiming one its owner let go of.

No write of this backend leaves a sentinel without its row, but one can still be orphaned
from outside it: a process killed in the middle of ``clear()``, an item deleted by hand. So
a sentinel found in the way of a claim is checked: if the row it names no longer holds the
value, it is deleted, in one transaction with that check, so that a row claiming the value
at the same moment can never lose its sentinel.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from restmachine_orm import ModelSchema

from ._expiry import absent
from ._expressions import Expressions
from ._flow import Flow
from ._keys import ItemKey
from ._serialize import AttributeValue, Item
from ._table import CancellationReason, Table, wait

__all__ = ["Claimant", "Hold", "owner_condition"]


class Hold(enum.Enum):
    """What stands in the way of claiming a value."""

    OTHER = "another row holds it"
    OWN = "this row's own sentinel: the row is not as the writer believed"
    FREED = "an orphaned sentinel, deleted now"
    ABSENT = "nothing (any more)"
    UNSURE = "the sentinel kept changing while it was looked at"


def owner_condition(table: Table, owner: AttributeValue) -> dict[str, Any]:
    """The condition parameters of a sentinel write that only ``owner``'s sentinel passes."""
    ex = Expressions()
    return {
        "ConditionExpression": f"{ex.name(table.keys.owner)} = {ex.encoded(owner)}",
        **ex.request(),
    }


@dataclass(frozen=True)
class Claimant:
    """A row that wants a unique value: what it needs to look at the value's sentinel.

    Attributes:
        table: The table.
        schema: The row's model.
        owner: What the row's own sentinels carry as owner (its table key, as a map).
    """

    table: Table
    schema: ModelSchema
    owner: AttributeValue

    def sentinel_key(self, name: str, value: Any) -> ItemKey:
        """The table key of the sentinel of ``name=value``."""
        return self.table.keys.sentinel_key(self.schema, name, value)

    def owns(self, sentinel: Item | None) -> bool:
        """Whether a sentinel item names this row as its owner."""
        return sentinel is not None and sentinel.get(self.table.keys.owner) == self.owner

    def hold(self, name: str, value: Any, sentinel: Item | None = None) -> Flow[Hold]:
        """Look at the sentinel of ``name=value`` (``sentinel`` if the caller has it).

        An orphaned sentinel is deleted; one that changes meanwhile is read again, as often
        as the table's ``claim_contention`` allows.
        """
        item_key = self.sentinel_key(name, value)
        for pause in self.table.retries.claim_contention.pauses():
            yield from wait(pause)
            if sentinel is None:
                sentinel = yield from self.table.read(item_key)
            if sentinel is None:
                return Hold.ABSENT
            owner = sentinel.get(self.table.keys.owner)
            if not isinstance(owner, dict) or "M" not in owner:
                return Hold.OTHER  # no owner recorded: nothing proves it an orphan
            # Even this row's own sentinel is an orphan if the row does not hold the value
            # (the row was deleted from outside, and is being created again).
            reasons = yield from self._reclaim(item_key, owner, name, value)
            if reasons is None:
                return Hold.FREED
            if not reasons or reasons[0].condition_failed:
                # The owner holds the value (or, without reasons, assume so: never steal).
                return Hold.OWN if owner == self.owner else Hold.OTHER
            sentinel = None  # it changed owner, or a concurrent write got in the way
        return Hold.UNSURE

    def _reclaim(
        self, item_key: ItemKey, owner: AttributeValue, name: str, value: Any
    ) -> Flow[tuple[CancellationReason, ...] | None]:
        """Delete the sentinel if its owner row does not hold the value (or has expired).

        Returns:
            ``None`` once deleted, else the cancellation reasons of the attempt.
        """
        ex = Expressions()
        field = ex.name(name)
        let_go = f"attribute_not_exists({field}) OR {field} <> {ex.value(value)}"
        check = {
            "TableName": self.table.name,
            "Key": owner["M"],
            # An expired owner is absent: its values are free, as on every backend.
            "ConditionExpression": f"{absent(ex, self.table.keys.pk, self.schema)} OR {let_go}",
            **ex.request(),
        }
        delete = {
            "TableName": self.table.name,
            "Key": item_key,
            **owner_condition(self.table, owner),
        }
        return self.table.transact([{"ConditionCheck": check}, {"Delete": delete}])
