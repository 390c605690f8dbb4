"""Writes that claim or release unique values: one ``TransactWriteItems`` each.

A row and the sentinels of its unique values change together or not at all. The row's own
action always comes first, conditioned on the row being as the caller believes; when that
condition fails the caller reads the row and rebuilds the transaction. A sentinel in the
way of a claim is looked at (``_claims``): another row's means ``DuplicateKeyError``, an
orphan is deleted and the claim sent again. A release deletes a sentinel only while this
row owns it; one that another row reclaimed meanwhile (or that is gone) is left alone, its
release dropped and the rest sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from restmachine_orm import DuplicateKeyError, ModelSchema
from restmachine_orm.backends.base import Key, Row

from ._claims import Claimant, Hold, owner_condition
from ._expiry import absent, expiry_attribute, present
from ._expressions import Expressions
from ._flow import Flow
from ._items import live_row
from ._keys import SENTINEL, ItemKey, KeyScheme
from ._serialize import AttributeValue, Item
from ._table import CancellationReason, Table, wait
from .errors import DynamoDBError

__all__ = [
    "Diagnosis",
    "RowConditionFailed",
    "Transaction",
    "creation",
    "key_taken",
    "send_together",
    "unique_condition",
]

_THROTTLED = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})
# Cancellation codes worth sending the same transaction again for; any other is final.
_RETRYABLE = frozenset({None, "TransactionConflict"}) | _THROTTLED


class RowConditionFailed(Exception):
    """The row's action failed its condition: missing, present, or changed meanwhile.

    Attributes:
        transaction: The transaction whose row it is (set when sent together with others).
    """

    transaction: Transaction | None = None


@dataclass(frozen=True)
class _Action:
    """One entry of ``TransactItems``, and which unique value it claims or releases."""

    request: dict[str, Any]
    claim: tuple[str, Any] | None = None
    release: tuple[str, Any] | None = None


@dataclass
class Transaction:
    """The actions of one ``TransactWriteItems`` for one row of one model.

    Attributes:
        table: The table written.
        schema: The model written.
        row_key: The table key of the row.
        row_exists: Whether the row's action requires the row to exist (update, delete)
            or to be absent (insert); how a failure is explained when reasons are missing.
        expiry: The TTL attribute the row is written with, which the sentinels it claims
            carry too (``None``: it does not expire).
        actions: The actions; the row's own action is added first.
    """

    table: Table
    schema: ModelSchema
    row_key: ItemKey
    row_exists: bool = field(kw_only=True)
    expiry: AttributeValue | None = field(default=None, kw_only=True)
    actions: list[_Action] = field(default_factory=list)

    @property
    def owner(self) -> AttributeValue:
        """What a sentinel carries to name the row that claimed it: the row's table key."""
        return {"M": self.row_key}

    @property
    def claimant(self) -> Claimant:
        """This row, as the claimant of its unique values."""
        return Claimant(self.table, self.schema, self.owner)

    @property
    def claims(self) -> list[tuple[str, Any]]:
        """The ``(field, value)`` pairs whose sentinels this transaction creates."""
        return [action.claim for action in self.actions if action.claim is not None]

    def add(self, kind: str, **request: Any) -> None:
        """Add the row's action (``Put``, ``Update``, ``Delete``) on the table."""
        self.actions.append(_Action({kind: {"TableName": self.table.name, **request}}))

    def _sentinel(self, name: str, value: Any) -> Item:
        """The sentinel item by which this row holds ``name=value`` (with its expiry)."""
        keys = self.table.keys
        item = {
            **keys.sentinel_key(self.schema, name, value),
            keys.entity: {"S": SENTINEL},
            keys.owner: self.owner,
        }
        if self.expiry is not None:
            item[keys.expiry] = self.expiry
        return item

    def claim(self, name: str, value: Any) -> None:
        """Create the sentinel of ``name=value``; the transaction fails if it exists."""
        put = {
            "TableName": self.table.name,
            "Item": self._sentinel(name, value),
            **self.table.keys.if_absent(),
            # A refused claim returns the sentinel in its way: who owns it, without a read.
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        self.actions.append(_Action({"Put": put}, claim=(name, value)))

    def retime(self, name: str, value: Any) -> None:
        """Write again the sentinel of ``name=value``, which this row keeps, with its expiry.

        A sentinel must never expire (and be deleted by DynamoDB) before its row. The row's
        own compare-and-set on the value guarantees this row holds it; the condition lets
        the write through for this row's sentinel, or for none (one deleted from outside,
        which this puts back), never over another row's.
        """
        ex = Expressions()
        keys = self.table.keys
        put = {
            "TableName": self.table.name,
            "Item": self._sentinel(name, value),
            "ConditionExpression": f"attribute_not_exists({ex.name(keys.pk)}) OR "
            f"{ex.name(keys.owner)} = {ex.encoded(self.owner)}",
            **ex.request(),
        }
        self.actions.append(_Action({"Put": put}))

    def release(self, name: str, value: Any) -> None:
        """Delete the sentinel of ``name=value``, provided this row still owns it."""
        delete = {
            "TableName": self.table.name,
            "Key": self.table.keys.sentinel_key(self.schema, name, value),
            **owner_condition(self.table, self.owner),
        }
        self.actions.append(_Action({"Delete": delete}, release=(name, value)))

    def send(self) -> Flow[None]:
        """Send it, retrying conflicts with concurrent transactions.

        Always as a transaction, even of the row's action alone: its client token makes a
        resend after a lost answer apply once, and conflicts are retried.

        Raises:
            DuplicateKeyError: A claimed unique value belongs to another row.
            RowConditionFailed: The row's own condition failed.
        """
        return send_together(self.table, [self])

    def diagnose(self, reasons: tuple[CancellationReason, ...], *, alone: bool) -> Flow[None]:
        """Raise what a failed condition means; return when sending again may succeed.

        ``reasons`` are this transaction's own cancellation reasons (empty when the server
        gave none). ``alone`` says whether it was sent alone: then a failure nothing else
        explains is the row's own condition. Releases of sentinels this row no longer owns
        are dropped, to be sent again without them.

        Raises:
            DuplicateKeyError: Another row holds a claimed value.
            RowConditionFailed: The row is not as the caller believed.
        """
        # The row's own condition is reported first, as the in-memory backend checks the
        # key before unique values.
        if reasons:
            failed = [i for i, reason in enumerate(reasons) if reason.condition_failed]
            if 0 in failed:
                raise RowConditionFailed()
        elif (live_row(self.schema, (yield from self.table.read(self.row_key))) is not None) != (
            self.row_exists
        ):
            raise RowConditionFailed()
        else:
            failed = list(range(1, len(self.actions)))  # no reasons: look at every sentinel
        claimant = self.claimant
        freed = False
        stale: list[int] = []
        for index in failed:
            action = self.actions[index]
            if action.claim is not None:
                name, value = action.claim
                hold = yield from claimant.hold(
                    name, value, reasons[index].item if reasons else None
                )
                if hold is Hold.OTHER:
                    raise DuplicateKeyError(self.schema.name, (name,), value, unique=True)
                if hold is Hold.OWN:
                    raise RowConditionFailed()  # the row holds it already: read the row again
                freed = freed or hold is Hold.FREED
            elif action.release is None:
                # A sentinel rewritten with the row's expiry (``retime``), refused: another
                # row holds the value now (this one expired meanwhile): read the row again.
                if reasons:
                    raise RowConditionFailed()
            elif reasons or not claimant.owns(
                (yield from self.table.read(claimant.sentinel_key(*action.release)))
            ):
                stale.append(index)  # another row's claim now, or gone: never delete it
        for index in reversed(stale):
            del self.actions[index]
        if alone and not (freed or stale or reasons):
            raise RowConditionFailed()


def creation(table: Table, schema: ModelSchema, row: Row, item: Item) -> Transaction:
    """The transaction creating a row: its item if absent, and a claim per unique value."""
    transaction = Transaction(
        table,
        schema,
        table.keys.item_key(schema, schema.key_of(row)),
        row_exists=False,
        expiry=expiry_attribute(schema, row),
    )
    ex = Expressions()
    transaction.add(
        "Put", Item=item, ConditionExpression=absent(ex, table.keys.pk, schema), **ex.request()
    )
    for name in schema.unique_fields:
        if row[name] is not None:
            transaction.claim(name, row[name])
    return transaction


def key_taken(schema: ModelSchema, key: Key) -> DuplicateKeyError:
    """The error of a create whose key another row has."""
    shown = key[0] if len(key) == 1 else key
    return DuplicateKeyError(schema.name, schema.key_fields, shown, unique=False)


Diagnosis = Callable[[list[Transaction], tuple[CancellationReason, ...]], Flow[None]]
"""Explains a cancellation with failed conditions: raises, or returns to send again."""


def send_together(
    table: Table, transactions: list[Transaction], diagnose: Diagnosis | None = None
) -> Flow[None]:
    """Send the actions of several rows' transactions as one atomic ``TransactWriteItems``.

    Conflicts with concurrent transactions, throttling, orphaned claims and stale releases
    are retried with backoff (the table's ``RetryConfig``); any other cancellation is final.
    A cancellation with failed conditions (or without reasons) is explained by
    ``diagnose``: by default, each row's own diagnosis (``Transaction.diagnose``).

    Raises:
        DuplicateKeyError: A claimed unique value belongs to another row.
        RowConditionFailed: A row's own condition failed (``.transaction`` says whose).
        DynamoDBError: The transaction was refused, or kept being cancelled.
    """
    if not transactions:
        raise ValueError("send_together() needs at least one transaction")
    first = transactions[0]
    conflicts = table.retries.transaction_conflicts.pauses()
    throttles = table.retries.transaction_throttling.pauses()
    next(conflicts), next(throttles)  # the first send waits for nothing
    sends = 0
    while True:
        reasons = yield from table.transact([a.request for t in transactions for a in t.actions])
        sends += 1
        if reasons is None:
            return
        codes = {reason.code for reason in reasons}
        if not reasons or any(reason.condition_failed for reason in reasons):
            yield from (diagnose or _diagnose_each)(transactions, reasons)
        elif not codes <= _RETRYABLE:
            raise DynamoDBError(
                f"{first.schema.name}: TransactWriteItems on table {table.name!r} was "
                f"cancelled: {_codes(reasons)}"
            )
        # Nothing was written: wait (longer when throttled) and send it again.
        pause = next(throttles if codes & _THROTTLED else conflicts, None)
        if pause is None:
            raise DynamoDBError(
                f"{first.schema.name}: TransactWriteItems on table {table.name!r} kept being "
                f"cancelled ({_codes(reasons) or 'no reasons given'}) after {sends} attempts"
            )
        yield from wait(pause)


def _codes(reasons: tuple[CancellationReason, ...]) -> str:
    """The reasons' codes as DynamoDB spells them (``None``: that action was fine)."""
    return ", ".join(reason.code or "None" for reason in reasons)


def _diagnose_each(
    transactions: list[Transaction], reasons: tuple[CancellationReason, ...]
) -> Flow[None]:
    start = 0
    for transaction in transactions:
        own = reasons[start : start + len(transaction.actions)]
        start += len(transaction.actions)
        if own and not any(reason.condition_failed for reason in own):
            continue
        try:
            yield from transaction.diagnose(own, alone=len(transactions) == 1)
        except RowConditionFailed as failed:
            failed.transaction = transaction
            raise


def unique_condition(ex: Expressions, keys: KeyScheme, schema: ModelSchema, old: Row) -> str:
    """A condition that the row exists (live) and still holds the unique values in ``old``."""
    parts = [present(ex, keys.pk, schema)]
    for name in schema.unique_fields:
        value = old.get(name)
        path = ex.name(name)
        parts.append(
            f"attribute_not_exists({path})" if value is None else f"{path} = {ex.value(value)}"
        )
    return " AND ".join(parts)
