"""Writes that claim or release unique values: one ``TransactWriteItems`` each.

A row and the sentinels of its unique values change together or not at all. The row's own
action always comes first, conditioned on the row being as the caller believes; when that
condition fails the caller reads the row and rebuilds the transaction.

No write of this backend leaves a sentinel without its row, but one can still be orphaned
from outside it: a process killed in the middle of ``clear()``, an item deleted by hand. A
claim that meets a sentinel therefore checks it: a sentinel whose owner row no longer holds
the value is deleted (atomically with that check) and the claim retried, so a value is never
left claimed by nobody.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from restmachine_orm import DuplicateKeyError, ModelSchema

from ._expressions import Expressions
from ._keys import SENTINEL, KeyScheme
from ._requests import error_code, translated
from ._serialize import AttributeValue
from .errors import DynamoDBError

__all__ = ["RowConditionFailed", "Transaction", "send_together", "unique_condition"]

_ATTEMPTS = 6


class RowConditionFailed(Exception):
    """The row's action failed its condition: missing, present, or changed meanwhile.

    Attributes:
        transaction: The transaction whose row it is (set when sent together with others).
    """

    transaction: Transaction | None = None


@dataclass
class Transaction:
    """The actions of one ``TransactWriteItems`` for one row of one model.

    Attributes:
        keys: The table's key scheme.
        schema: The model written.
        table: The table name.
        row_key: The table key of the row.
        row_exists: Whether the row's action requires the row to exist (update, delete)
            or to be absent (insert); how a failure is explained when reasons are missing.
        actions: The request's ``TransactItems``; the row's own action is added first.
        claims: Action index to the (field, value) whose sentinel it creates.
    """

    keys: KeyScheme
    schema: ModelSchema
    table: str
    row_key: dict[str, AttributeValue]
    row_exists: bool
    actions: list[dict[str, Any]] = field(default_factory=list)
    claims: dict[int, tuple[str, Any]] = field(default_factory=dict)

    @property
    def owner(self) -> AttributeValue:
        """What a sentinel carries to name the row that claimed it: the row's table key."""
        return {"M": self.row_key}

    def add(self, kind: str, **request: Any) -> None:
        """Add an action (``Put``, ``Update``, ``Delete``) on the table."""
        self.actions.append({kind: {"TableName": self.table, **request}})

    def claim(self, name: str, value: Any) -> None:
        """Create the sentinel of ``name=value``; the transaction fails if it exists."""
        self.claims[len(self.actions)] = (name, value)
        item = {
            **self.keys.sentinel_key(self.schema, name, value),
            self.keys.entity: {"S": SENTINEL},
            self.keys.owner: self.owner,
        }
        self.add(
            "Put",
            Item=item,
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": self.keys.pk},
            # A refused claim returns the sentinel in its way: who owns it, without a read.
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def release(self, name: str, value: Any) -> None:
        """Delete the sentinel of ``name=value``."""
        self.add("Delete", Key=self.keys.sentinel_key(self.schema, name, value))

    def send(self, client: Any) -> None:
        """Send it, retrying conflicts with concurrent transactions.

        Raises:
            DuplicateKeyError: A claimed unique value belongs to another row.
            RowConditionFailed: The row's own condition failed.
        """
        send_together(client, [self])

    def diagnose(self, client: Any, reasons: list[dict[str, Any]], *, alone: bool) -> None:
        """Raise what a failed condition means; return if it was only an orphan, now freed.

        ``reasons`` are this transaction's own cancellation reasons (empty when the server
        gave none). ``alone`` says whether it was sent alone: then a failure nothing else
        explains is the row's own condition.
        """
        # The row's own condition is reported first, as the in-memory backend checks the
        # key before unique values.
        if reasons:
            failed = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
            if 0 in failed:
                raise RowConditionFailed()
        elif self._row_present(client) != self.row_exists:
            raise RowConditionFailed()
        else:
            failed = list(self.claims)  # some local servers give no reasons: check every claim
        freed = False
        for index in failed:
            if index not in self.claims:
                continue
            name, value = self.claims[index]
            sentinel = reasons[index].get("Item") if reasons else None
            held = self.held(client, name, value, sentinel)
            if held:
                raise DuplicateKeyError(self.schema.name, (name,), value, unique=True)
            freed = freed or held is False
        if alone and not freed and not reasons:
            raise RowConditionFailed()

    def held(
        self, client: Any, name: str, value: Any, sentinel: dict[str, Any] | None
    ) -> bool | None:
        """Whether another row holds ``name=value``, deleting the sentinel if it is an orphan.

        Args:
            client: The boto3 client.
            name: The unique field.
            value: Its value.
            sentinel: The sentinel item, when the caller has it already.

        Returns:
            ``True`` if a row holds the value, ``False`` if the sentinel was an orphan and is
            now deleted, ``None`` if there is no sentinel (any more).
        """
        key = self.keys.sentinel_key(self.schema, name, value)
        if sentinel is None:
            with translated(client, self.table, "GetItem"):
                sentinel = client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get(
                    "Item"
                )
        if sentinel is None:
            return None
        owner = sentinel.get(self.keys.owner)
        if not isinstance(owner, dict) or "M" not in owner:
            return True  # no owner recorded: nothing proves it an orphan
        # One atomic step: delete the sentinel only if its owner row does not hold the value.
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
        mine = Expressions()
        delete = {
            "TableName": self.table,
            "Key": key,
            "ConditionExpression": f"{mine.name(self.keys.owner)} = {mine.encoded(owner)}",
            **mine.request(),
        }
        with translated(client, self.table, "TransactWriteItems"):
            try:
                client.transact_write_items(
                    TransactItems=[{"ConditionCheck": check}, {"Delete": delete}]
                )
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                codes = [str(reason.get("Code", "None")) for reason in _reasons(error)]
                # The owner holds the value (or, without reasons, assume so: never steal).
                return not codes or codes[0] == "ConditionalCheckFailed"
        return False

    def _row_present(self, client: Any) -> bool:
        with translated(client, self.table, "GetItem"):
            found = client.get_item(TableName=self.table, Key=self.row_key, ConsistentRead=True)
        return "Item" in found


def send_together(client: Any, transactions: list[Transaction]) -> None:
    """Send the actions of several rows' transactions as one atomic ``TransactWriteItems``.

    Conflicts with concurrent transactions and orphaned claims are retried with backoff.

    Raises:
        DuplicateKeyError: A claimed unique value belongs to another row.
        RowConditionFailed: A row's own condition failed (``.transaction`` says whose).
    """
    first = transactions[0]
    actions = [action for transaction in transactions for action in transaction.actions]
    for attempt in range(_ATTEMPTS):
        with translated(client, first.table, "TransactWriteItems"):
            try:
                client.transact_write_items(TransactItems=actions)
                return
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                reasons = _reasons(error)
        codes = [reason.get("Code") for reason in reasons]
        if "ConditionalCheckFailed" in codes or not codes:
            start = 0
            for transaction in transactions:
                own = reasons[start : start + len(transaction.actions)]
                start += len(transaction.actions)
                if own and "ConditionalCheckFailed" not in [r.get("Code") for r in own]:
                    continue
                try:
                    transaction.diagnose(client, own, alone=len(transactions) == 1)
                except RowConditionFailed as failed:
                    failed.transaction = transaction
                    raise
        # Conflicts with other transactions, or an orphaned claim freed: nothing was
        # written, try again.
        time.sleep(random.uniform(0, 0.005 * 2**attempt))
    raise DynamoDBError(
        f"{first.schema.name}: TransactWriteItems on table {first.table!r} kept conflicting "
        f"with concurrent writes after {_ATTEMPTS} attempts"
    )


def _reasons(error: ClientError) -> list[dict[str, Any]]:
    reasons = error.response.get("CancellationReasons") or []
    return [reason if isinstance(reason, dict) else {} for reason in reasons]


def unique_condition(
    ex: Expressions, keys: KeyScheme, schema: ModelSchema, old: dict[str, Any]
) -> str:
    """A condition that the row exists and still holds the unique values in ``old``."""
    parts = [f"attribute_exists({ex.name(keys.pk)})"]
    for name in schema.unique_fields:
        value = old.get(name)
        path = ex.name(name)
        parts.append(
            f"attribute_not_exists({path})" if value is None else f"{path} = {ex.value(value)}"
        )
    return " AND ".join(parts)
