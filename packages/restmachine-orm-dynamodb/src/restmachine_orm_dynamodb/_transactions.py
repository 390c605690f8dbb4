"""Writes that claim or release unique values: one ``TransactWriteItems`` each.

A row and the sentinels of its unique values change together or not at all. The row's own
action always comes first, conditioned on the row being as the caller believes; when that
condition fails the caller reads the row and rebuilds the transaction. A sentinel in the
way of a claim is looked at (``_claims``): another row's means ``DuplicateKeyError``, an
orphan is deleted and the claim sent again.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from restmachine_orm import DuplicateKeyError, ModelSchema

from ._claims import Claimant, Hold
from ._expressions import Expressions
from ._keys import SENTINEL, KeyScheme
from ._requests import cancellation_reasons, codes_of, error_code, translated
from ._serialize import AttributeValue
from .errors import DynamoDBError

__all__ = ["RowConditionFailed", "Transaction", "send_together", "unique_condition"]

_ATTEMPTS = 6
# Cancellation codes worth sending the same transaction again for; any other is final.
_CONFLICTS = frozenset({"TransactionConflict", "None"})
_THROTTLED = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})


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
            **self.keys.if_absent(),
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

    @property
    def claimant(self) -> Claimant:
        """This row, as the claimant of its unique values."""
        return Claimant(self.keys, self.schema, self.table, self.owner)

    def diagnose(self, client: Any, reasons: list[dict[str, Any]], *, alone: bool) -> None:
        """Raise what a failed condition means; return when sending again may succeed.

        ``reasons`` are this transaction's own cancellation reasons (empty when the server
        gave none). ``alone`` says whether it was sent alone: then a failure nothing else
        explains is the row's own condition.

        Raises:
            DuplicateKeyError: Another row holds a claimed value.
            RowConditionFailed: The row is not as the caller believed.
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
        claimant = self.claimant
        freed = False
        for index in failed:
            if index not in self.claims:
                continue
            name, value = self.claims[index]
            hold = claimant.hold(
                client, name, value, reasons[index].get("Item") if reasons else None
            )
            if hold is Hold.OTHER:
                raise DuplicateKeyError(self.schema.name, (name,), value, unique=True)
            if hold is Hold.OWN:
                raise RowConditionFailed()  # the row holds it already: read the row again
            freed = freed or hold is Hold.FREED
        if alone and not freed and not reasons:
            raise RowConditionFailed()

    def _row_present(self, client: Any) -> bool:
        with translated(client, self.table, "GetItem"):
            found = client.get_item(TableName=self.table, Key=self.row_key, ConsistentRead=True)
        return "Item" in found


def send_together(client: Any, transactions: list[Transaction]) -> None:
    """Send the actions of several rows' transactions as one atomic ``TransactWriteItems``.

    Conflicts with concurrent transactions, throttling and orphaned claims are retried with
    backoff; any other cancellation is final.

    Raises:
        DuplicateKeyError: A claimed unique value belongs to another row.
        RowConditionFailed: A row's own condition failed (``.transaction`` says whose).
        DynamoDBError: The transaction was refused, or kept conflicting.
    """
    if not transactions:
        raise ValueError("send_together() needs at least one transaction")
    first = transactions[0]
    actions = [action for transaction in transactions for action in transaction.actions]
    codes: list[str] = []
    for attempt in range(_ATTEMPTS):
        with translated(client, first.table, "TransactWriteItems"):
            try:
                client.transact_write_items(TransactItems=actions)
                return
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                reasons = cancellation_reasons(error)
        codes = codes_of(reasons)
        if "ConditionalCheckFailed" in codes or not codes:
            _diagnose_each(client, transactions, reasons)
        elif not set(codes) <= _CONFLICTS | _THROTTLED:
            raise DynamoDBError(
                f"{first.schema.name}: TransactWriteItems on table {first.table!r} was "
                f"cancelled: {', '.join(codes)}"
            )
        # Nothing was written: back off (longer when throttled) and send it again.
        scale = 0.05 if _THROTTLED & set(codes) else 0.005
        time.sleep(random.uniform(0, scale * 2**attempt))
    raise DynamoDBError(
        f"{first.schema.name}: TransactWriteItems on table {first.table!r} kept being "
        f"cancelled ({', '.join(codes) or 'no reasons given'}) after {_ATTEMPTS} attempts"
    )


def _diagnose_each(
    client: Any, transactions: list[Transaction], reasons: list[dict[str, Any]]
) -> None:
    start = 0
    for transaction in transactions:
        own = reasons[start : start + len(transaction.actions)]
        start += len(transaction.actions)
        if own and "ConditionalCheckFailed" not in codes_of(own):
            continue
        try:
            transaction.diagnose(client, own, alone=len(transactions) == 1)
        except RowConditionFailed as failed:
            failed.transaction = transaction
            raise


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
