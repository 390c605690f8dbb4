"""``create_many``: refuse taken keys and values first, then write the rows by transaction.

One ``BatchGetItem`` pass checks every key and unique value first, so the common case is
all or nothing: a taken one raises ``DuplicateKeyError`` before anything is written. Then
each row goes in a ``TransactWriteItems`` as a ``Put`` conditioned on its key being free,
with the claims of its unique values; several rows share a transaction, up to its 100
actions and about 4 MB, and the transactions go one after the other.

The check and the writes are separate requests, so a concurrent writer can slip between
them; the conditions then refuse to overwrite what it wrote. Each transaction is atomic, so
a failure leaves whole transactions stored or not: ``DuplicateKeyError`` (or the failure
itself) when nothing was stored, else ``PartialWriteError`` naming the rows that were not.
``BatchWriteItem`` is never used here: it has no conditions, and would overwrite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from restmachine_orm import DuplicateKeyError, PartialWriteError
from restmachine_orm.backends.base import Key, Row
from restmachine_orm.schema import ModelSchema
from restmachine_orm.storable import row_size

from ._batch import read_batch
from ._claims import Hold
from ._flow import Flow
from ._items import live_row
from ._keys import Address
from ._table import Table
from ._transactions import RowConditionFailed, Transaction, creation, key_taken, send_together
from .errors import DynamoDBError

__all__ = ["TRANSACTION_LIMIT", "insert_many"]

TRANSACTION_LIMIT = 100  # actions per TransactWriteItems
TRANSACTION_BYTES = 3_500_000  # DynamoDB refuses transactions of more than 4 MB of items
TRANSACTION_ITEM_RESERVE = 2_048  # per action: its key, names and the sentinel's attributes


@dataclass(frozen=True)
class _Claim:
    """What one item to be created stands for: a row's key, or one of its unique values."""

    key: Key  # the row's key
    unique: tuple[str, Any] | None  # the (field, value) a sentinel claims; None: the row
    creation: Transaction  # the row's transaction

    def taken(self, schema: ModelSchema) -> DuplicateKeyError:
        """The error saying what this item claims is taken."""
        if self.unique is None:
            return key_taken(schema, self.key)
        name, value = self.unique
        return DuplicateKeyError(schema.name, (name,), value, unique=True)


def insert_many(table: Table, schema: ModelSchema, rows: Sequence[Row]) -> Flow[None]:
    """Store new rows: all of them, or none when a key or unique value is taken.

    Raises:
        DuplicateKeyError: A key or unique value is taken or repeated; nothing is written.
        PartialWriteError: Some rows could not be stored; ``failed`` lists them.
    """
    if not rows:
        return
    creations = [creation(table, schema, row, table.keys.item(schema, row)) for row in rows]
    yield from _refuse_taken(table, schema, _claimed(table, schema, rows, creations))
    yield from _write_transactions(table, schema, rows, creations)


def _claimed(
    table: Table, schema: ModelSchema, rows: Sequence[Row], creations: list[Transaction]
) -> dict[Address, _Claim]:
    """Every item the rows create, to what it claims, in the order the reference checks."""
    claimed: dict[Address, _Claim] = {}

    def claim(address: Address, what: _Claim) -> None:
        if address in claimed:  # repeated within the batch
            raise what.taken(schema)
        claimed[address] = what

    for row, transaction in zip(rows, creations, strict=True):
        key = schema.key_of(row)
        claim(table.keys.address(transaction.row_key), _Claim(key, None, transaction))
        for name, value in transaction.claims:
            sentinel = table.keys.sentinel_key(schema, name, value)
            claim(table.keys.address(sentinel), _Claim(key, (name, value), transaction))
    return claimed


def _refuse_taken(table: Table, schema: ModelSchema, claimed: dict[Address, _Claim]) -> Flow[None]:
    """Raise for the first claimed item that exists, deleting sentinels that are orphans."""
    existing = yield from read_batch(table, [table.keys.key_at(address) for address in claimed])
    for address, what in claimed.items():
        item = existing.get(address)
        if item is None or (what.unique is None and live_row(schema, item) is None):
            continue  # free, or an expired row: the create replaces it
        if what.unique is not None:
            hold = yield from what.creation.claimant.hold(*what.unique, item)
            if hold in (Hold.FREED, Hold.ABSENT):
                continue  # an orphan, deleted now (or gone meanwhile): the value is free
        raise what.taken(schema)


def _chunks(rows: Sequence[Row], creations: list[Transaction]) -> list[list[int]]:
    """The rows' indexes grouped into transactions, as many as the limits allow."""
    chunks: list[list[int]] = []
    actions = size = 0
    for index, (row, transaction) in enumerate(zip(rows, creations, strict=True)):
        # Sentinels are small: the rows' own sizes bound the request's.
        weight = row_size(row) + TRANSACTION_ITEM_RESERVE * len(transaction.actions)
        if (
            not chunks
            or actions + len(transaction.actions) > TRANSACTION_LIMIT
            or size + weight > TRANSACTION_BYTES
        ):
            chunks.append([])
            actions = size = 0
        chunks[-1].append(index)
        actions += len(transaction.actions)
        size += weight
    return chunks


def _write_transactions(
    table: Table, schema: ModelSchema, rows: Sequence[Row], creations: list[Transaction]
) -> Flow[None]:
    """Write the rows with their claims, one transaction after the other.

    One at a time, not a few in flight: on a server that applies requests one by one
    (moto), requests queued behind others' long transactions outlive the read timeout, and
    a resent transaction then reports its own rows as taken. A failure stops the call, and
    the error names every row not stored: the failed transaction's and the later ones.
    """
    chunks = _chunks(rows, creations)
    for number, chunk in enumerate(chunks):
        try:
            yield from send_together(table, [creations[index] for index in chunk])
        except RowConditionFailed as taken:
            # A create's only condition is that its row is absent: its key is taken.
            index = next(i for i in chunk if creations[i] is taken.transaction)
            failure: Exception = key_taken(schema, schema.key_of(rows[index]))
        except (DuplicateKeyError, DynamoDBError) as error:
            failure = error
        else:
            continue
        if number == 0:
            raise failure from failure.__cause__
        lost = [rows[index] for later in chunks[number:] for index in later]
        # A failed request may have been applied, its answer lost: say so for that one.
        unsure = (
            ""
            if isinstance(failure, DuplicateKeyError)
            else f" (the {len(chunk)} of the failed transaction were not confirmed: read them)"
        )
        raise PartialWriteError(
            f"{schema.name}: {len(rows) - len(lost)} rows were stored, then {failure}; "
            f"the other {len(lost)} were not{unsure}",
            failed=lost,
        ) from failure
