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
from restmachine_orm.backends.base import Row
from restmachine_orm.schema import ModelSchema

from ._batch import ATTEMPTS, identity, key_of, read_batch, write_batch
from ._serialize import AttributeValue
from ._transactions import RowConditionFailed, Transaction, send_together
from .errors import DynamoDBError

if TYPE_CHECKING:
    from .backend import DynamoDBBackend

__all__ = ["TRANSACTION_LIMIT", "insert_many"]

TRANSACTION_LIMIT = 100  # actions per TransactWriteItems

Item = dict[str, AttributeValue]


@dataclass(frozen=True)
class _Claim:
    """What one item to be created stands for: a row's key, or a row's unique value."""

    fields: tuple[str, ...]
    value: Any
    unique: bool
    creation: Transaction | None  # the row's transaction, for claims of unique values


def insert_many(backend: DynamoDBBackend, schema: ModelSchema, rows: Sequence[Row]) -> None:
    """Store new rows: all of them, or none when a key or unique value is taken.

    Raises:
        DuplicateKeyError: A key or unique value is taken or repeated; nothing is written.
        PartialWriteError: Some rows could not be stored; ``failed`` lists them.
    """
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
            raise DuplicateKeyError(schema.name, what.fields, what.value, unique=what.unique)
        claimed[pair] = what

    for index, (row, item) in enumerate(zip(rows, items, strict=True)):
        key = schema.key_of(row)
        creation = None if creations is None else creations[index]
        claim(identity(backend, item), _Claim(schema.key_fields, _shown(key), False, creation))
        for name, value in () if creation is None else creation.claims.values():
            sentinel = backend.keys.sentinel_key(schema, name, value)
            claim(identity(backend, sentinel), _Claim((name,), value, True, creation))
    return claimed


def _shown(key: tuple[Any, ...]) -> Any:
    return key[0] if len(key) == 1 else key


def _refuse_taken(
    backend: DynamoDBBackend, schema: ModelSchema, claimed: dict[tuple[str, str], _Claim]
) -> None:
    """Raise for the first claimed item that exists, deleting sentinels that are orphans."""
    existing = read_batch(backend, [key_of(backend, pair) for pair in claimed])
    for pair, what in claimed.items():
        item = existing.get(pair)
        if item is None:
            continue
        creation = what.creation
        if creation is not None and what.unique:
            held = creation.held(backend.client, what.fields[0], what.value, item)
            if not held:
                continue  # an orphan, deleted now: the value is free
        raise DuplicateKeyError(schema.name, what.fields, what.value, unique=what.unique)


def _write_plain(
    backend: DynamoDBBackend, schema: ModelSchema, rows: Sequence[Row], items: list[Item]
) -> None:
    """Write rows without unique values by ``BatchWriteItem``; report the ones lost."""
    failed = write_batch(backend, [{"PutRequest": {"Item": item}} for item in items])
    if failed:
        by_item = {identity(backend, item): row for item, row in zip(items, rows, strict=True)}
        lost = [by_item[identity(backend, r["PutRequest"]["Item"])] for r in failed]
        raise PartialWriteError(
            f"{schema.name}: {len(failed)} items stayed unprocessed after {ATTEMPTS} attempts",
            failed=lost,
        )


def _write_transactions(
    backend: DynamoDBBackend, schema: ModelSchema, rows: Sequence[Row], creations: list[Transaction]
) -> None:
    """Write rows with their claims, as many rows to a transaction as its limit allows.

    Transactions go one after the other, so that a failure can say which rows were stored.
    """
    chunks: list[list[int]] = [[]]
    actions = 0
    for index, creation in enumerate(creations):
        if actions + len(creation.actions) > TRANSACTION_LIMIT:
            chunks.append([])
            actions = 0
        chunks[-1].append(index)
        actions += len(creation.actions)
    for number, chunk in enumerate(chunks):
        try:
            send_together(backend.client, [creations[index] for index in chunk])
        except RowConditionFailed as taken:
            # A create's only condition is that its row is absent: its key is taken.
            row = rows[creations.index(taken.transaction or creations[chunk[0]])]
            failure: Exception = backend.key_taken(schema, schema.key_of(row))
        except (DuplicateKeyError, DynamoDBError) as error:
            failure = error
        else:
            continue
        if number == 0:
            raise failure from None
        lost = [rows[index] for later in chunks[number:] for index in later]
        raise PartialWriteError(
            f"{schema.name}: {len(rows) - len(lost)} rows were stored, then {failure}; "
            f"the other {len(lost)} were not",
            failed=lost,
        ) from failure
