"""``create_many``: refuse taken keys and values first, then write the rows in batches.

Rows without unique values go by ``BatchWriteItem``, 25 at a time. Rows with unique values
go by ``TransactWriteItems``, each row together with its claims (several rows to one
transaction, up to its 100 actions), so no row is ever stored without its claims and no
claim without its row, even if the process dies half-way.

The check and the writes are separate requests, so a concurrent writer can slip between
them. With unique values, the transactions' conditions still refuse it (``DuplicateKeyError``
if nothing was written yet, else ``PartialWriteError`` naming the rows not stored); without
them, ``BatchWriteItem``, which has no conditions, overwrites it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from restmachine_orm import DuplicateKeyError, PartialWriteError
from restmachine_orm.backends.base import Key, Row
from restmachine_orm.schema import ModelSchema
from restmachine_orm.storable import row_size

from ._batch import ATTEMPTS, PartialWriteRequests, identity, key_of, read_batch, write_batch
from ._claims import Hold
from ._serialize import AttributeValue
from ._transactions import RowConditionFailed, Transaction, send_together
from .errors import DynamoDBError

if TYPE_CHECKING:
    from .backend import DynamoDBBackend

__all__ = ["TRANSACTION_LIMIT", "insert_many"]

TRANSACTION_LIMIT = 100  # actions per TransactWriteItems
TRANSACTION_BYTES = 3_500_000  # DynamoDB refuses transactions of more than 4 MB of items
TRANSACTION_ITEM_RESERVE = 2_048  # per action: its key, names and the sentinel's attributes

Item = dict[str, AttributeValue]


@dataclass(frozen=True)
class _Claim:
    """What one item to be created stands for: a row's key, or one of its unique values."""

    key: Key  # the row's key
    unique: tuple[str, Any] | None  # the (field, value) a sentinel claims; None: the row
    creation: Transaction | None  # the row's transaction, for claims of unique values

    def taken(self, backend: DynamoDBBackend, schema: ModelSchema) -> DuplicateKeyError:
        """The error saying what this item claims is taken."""
        if self.unique is None:
            return backend.key_taken(schema, self.key)
        name, value = self.unique
        return DuplicateKeyError(schema.name, (name,), value, unique=True)


def insert_many(backend: DynamoDBBackend, schema: ModelSchema, rows: Sequence[Row]) -> None:
    """Store new rows: all of them, or none when a key or unique value is taken.

    Raises:
        DuplicateKeyError: A key or unique value is taken or repeated; nothing is written.
        PartialWriteError: Some rows could not be stored; ``failed`` lists them.
    """
    if not rows:
        return
    items = [backend.item(schema, row) for row in rows]
    if not schema.unique_fields:
        _refuse_taken(backend, schema, _claimed(backend, schema, rows, items, None))
        _write_plain(backend, schema, rows, items)
        return
    creations = [backend.creation(schema, row, item) for row, item in zip(rows, items, strict=True)]
    _refuse_taken(backend, schema, _claimed(backend, schema, rows, items, creations))
    _write_transactions(backend, schema, rows, creations)


def _claimed(
    backend: DynamoDBBackend,
    schema: ModelSchema,
    rows: Sequence[Row],
    items: list[Item],
    creations: list[Transaction] | None,
) -> dict[tuple[str, str], _Claim]:
    """Every item the rows create, to what it claims, in the order the reference checks."""
    claimed: dict[tuple[str, str], _Claim] = {}

    def claim(pair: tuple[str, str], what: _Claim) -> None:
        if pair in claimed:  # repeated within the batch
            raise what.taken(backend, schema)
        claimed[pair] = what

    for index, (row, item) in enumerate(zip(rows, items, strict=True)):
        key = schema.key_of(row)
        creation = None if creations is None else creations[index]
        claim(identity(backend, item), _Claim(key, None, creation))
        for name, value in () if creation is None else creation.claims.values():
            sentinel = backend.keys.sentinel_key(schema, name, value)
            claim(identity(backend, sentinel), _Claim(key, (name, value), creation))
    return claimed


def _refuse_taken(
    backend: DynamoDBBackend, schema: ModelSchema, claimed: dict[tuple[str, str], _Claim]
) -> None:
    """Raise for the first claimed item that exists, deleting sentinels that are orphans."""
    existing = read_batch(backend, [key_of(backend, pair) for pair in claimed])
    for pair, what in claimed.items():
        item = existing.get(pair)
        if item is None:
            continue
        if what.unique is not None and what.creation is not None:
            hold = what.creation.claimant.hold(backend.client, *what.unique, item)
            if hold in (Hold.FREED, Hold.ABSENT):
                continue  # an orphan, deleted now (or gone meanwhile): the value is free
        raise what.taken(backend, schema)


def _write_plain(
    backend: DynamoDBBackend, schema: ModelSchema, rows: Sequence[Row], items: list[Item]
) -> None:
    """Write rows without unique values by ``BatchWriteItem``; report the ones lost."""
    try:
        write_batch(backend, [{"PutRequest": {"Item": item}} for item in items])
    except PartialWriteRequests as partial:
        cause = partial.__cause__
        by_item = {identity(backend, item): row for item, row in zip(items, rows, strict=True)}
        lost = [by_item[identity(backend, r["PutRequest"]["Item"])] for r in partial.requests]
        why = f"failed ({cause})" if cause else f"stayed unprocessed after {ATTEMPTS} attempts"
        raise PartialWriteError(
            f"{schema.name}: {len(lost)} of {len(rows)} rows were not confirmed stored: "
            f"their requests {why}",
            failed=lost,
        ) from cause


def _write_transactions(
    backend: DynamoDBBackend, schema: ModelSchema, rows: Sequence[Row], creations: list[Transaction]
) -> None:
    """Write rows with their claims, as many rows to a transaction as its limits allow.

    Transactions go one after the other, so that a failure can say which rows were stored.
    """
    chunks: list[list[int]] = []
    actions = size = 0
    for index, (row, creation) in enumerate(zip(rows, creations, strict=True)):
        # Sentinels are small: the rows' own sizes bound the request's.
        weight = row_size(row) + TRANSACTION_ITEM_RESERVE * len(creation.actions)
        if (
            not chunks
            or actions + len(creation.actions) > TRANSACTION_LIMIT
            or (size + weight > TRANSACTION_BYTES)
        ):
            chunks.append([])
            actions = size = 0
        chunks[-1].append(index)
        actions += len(creation.actions)
        size += weight
    for number, chunk in enumerate(chunks):
        try:
            send_together(backend.client, [creations[index] for index in chunk])
        except RowConditionFailed as taken:
            # A create's only condition is that its row is absent: its key is taken.
            index = next(i for i in chunk if creations[i] is taken.transaction)
            failure: Exception = backend.key_taken(schema, schema.key_of(rows[index]))
        except (DuplicateKeyError, DynamoDBError) as error:
            failure = error
        else:
            continue
        if number == 0:
            raise failure from None
        lost = [rows[index] for later in chunks[number:] for index in later]
        # A failed request may have been applied, its answer lost: say so for that one.
        unsure = (
            ""
            if isinstance(failure, DuplicateKeyError)
            else (f" (the {len(chunk)} of the failed transaction were not confirmed: read them)")
        )
        raise PartialWriteError(
            f"{schema.name}: {len(rows) - len(lost)} rows were stored, then {failure}; "
            f"the other {len(lost)} were not{unsure}",
            failed=lost,
        ) from failure
