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

from botocore.exceptions import ClientError

from restmachine_orm import ModelSchema

from ._expressions import Expressions
from ._keys import KeyScheme
from ._requests import cancellation_reasons, codes_of, error_code, translated
from ._serialize import AttributeValue

__all__ = ["Claimant", "Hold"]

_LOOKS = 3  # a sentinel that changes under us is looked at again, this many times in all


class Hold(enum.Enum):
    """What stands in the way of claiming a value."""

    OTHER = "another row holds it"
    OWN = "this row's own sentinel: the row is not as the writer believed"
    FREED = "an orphaned sentinel, deleted now"
    ABSENT = "nothing (any more)"
    UNSURE = "the sentinel kept changing while it was looked at"


@dataclass(frozen=True)
class Claimant:
    """A row that wants a unique value: what it needs to look at the value's sentinel.

    Attributes:
        keys: The table's key scheme.
        schema: The row's model.
        table: The table name.
        owner: What the row's own sentinels carry as owner (its table key, as a map).
    """

    keys: KeyScheme
    schema: ModelSchema
    table: str
    owner: AttributeValue

    def hold(
        self, client: Any, name: str, value: Any, sentinel: dict[str, Any] | None = None
    ) -> Hold:
        """Look at the sentinel of ``name=value`` (``sentinel`` if the caller has it).

        An orphaned sentinel is deleted; one that changes meanwhile is read again.
        """
        key = self.keys.sentinel_key(self.schema, name, value)
        for _ in range(_LOOKS):
            if sentinel is None:
                with translated(client, self.table, "GetItem"):
                    found = client.get_item(TableName=self.table, Key=key, ConsistentRead=True)
                sentinel = found.get("Item")
            if sentinel is None:
                return Hold.ABSENT
            owner = sentinel.get(self.keys.owner)
            if not isinstance(owner, dict) or "M" not in owner:
                return Hold.OTHER  # no owner recorded: nothing proves it an orphan
            # Even this row's own sentinel is an orphan if the row does not hold the value
            # (the row was deleted from outside, and is being created again).
            codes = self._reclaim(client, key, owner, name, value)
            if codes is None:
                return Hold.FREED
            if not codes or codes[0] == "ConditionalCheckFailed":
                # The owner holds the value (or, without reasons, assume so: never steal).
                return Hold.OWN if owner == self.owner else Hold.OTHER
            sentinel = None  # it changed owner, or a concurrent write got in the way
        return Hold.UNSURE

    def _reclaim(
        self,
        client: Any,
        key: dict[str, AttributeValue],
        owner: AttributeValue,
        name: str,
        value: Any,
    ) -> list[str] | None:
        """Delete the sentinel if its owner row does not hold the value.

        Returns:
            ``None`` once deleted, else the cancellation codes of the attempt.
        """
        ex = Expressions()
        pk, field = ex.name(self.keys.pk), ex.name(name)
        check = {
            "TableName": self.table,
            "Key": owner["M"],
            "ConditionExpression": (
                f"attribute_not_exists({pk}) OR attribute_not_exists({field}) "
                f"OR {field} <> {ex.value(value)}"
            ),
            **ex.request(),
        }
        same = Expressions()
        delete = {
            "TableName": self.table,
            "Key": key,
            "ConditionExpression": f"{same.name(self.keys.owner)} = {same.encoded(owner)}",
            **same.request(),
        }
        with translated(client, self.table, "TransactWriteItems"):
            try:
                client.transact_write_items(
                    TransactItems=[{"ConditionCheck": check}, {"Delete": delete}]
                )
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                return codes_of(cancellation_reasons(error))
        return None
