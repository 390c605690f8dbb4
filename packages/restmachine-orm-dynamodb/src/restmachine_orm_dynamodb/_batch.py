"""Batch paths: chunked to DynamoDB's limits, unprocessed entries retried with backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from restmachine_orm import DuplicateKeyError, PartialWriteError
from restmachine_orm.backends.base import Key, Row
from restmachine_orm.schema import ModelSchema

from ._expressions import Expressions
from ._keys import SENTINEL
from ._serialize import AttributeValue, from_item
from ._transactions import RowConditionFailed, Transaction, send_together
from .errors import DynamoDBError

if TYPE_CHECKING:
    from .backend import DynamoDBBackend

__all__ = ["clear", "get_many", "insert_many", "write_batch"]

WRITE_LIMIT = 25  # items per BatchWriteItem
TRANSACTION_LIMIT = 100  # actions per TransactWriteItems
READ_LIMIT = 100  # keys per BatchGetItem
ATTEMPTS = 8
BACKOFF_BASE = 0.02
BACKOFF_CAP = 1.0

ItemKey = dict[str, AttributeValue]


def _backoff(attempt: int) -> None:
    # Full jitter, capped: retries of many clients spread out instead of colliding.
    time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))


def _identity(backend: DynamoDBBackend, key: ItemKey) -> tuple[str, str]:
    return key[backend.keys.pk]["S"], key[backend.keys.sk]["S"]


def write_batch(backend: DynamoDBBackend, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send write requests 25 at a time, retrying what DynamoDB leaves unprocessed.

    Returns:
        The requests still unprocessed after every retry (empty when all were written).
    """
    failed: list[dict[str, Any]] = []
    for start in range(0, len(requests), WRITE_LIMIT):
        pending = requests[start : start + WRITE_LIMIT]
        for attempt in range(ATTEMPTS):
            answer = backend.call_batch(
                "BatchWriteItem", RequestItems={backend.table_name: pending}
            )
            pending = answer.get("UnprocessedItems", {}).get(backend.table_name, [])
            if not pending:
                break
            _backoff(attempt)
        failed += pending
    return failed


def _read_batch(backend: DynamoDBBackend, keys: list[ItemKey]) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for start in range(0, len(keys), READ_LIMIT):
        pending: dict[str, Any] = {
            backend.table_name: {"Keys": keys[start : start + READ_LIMIT], "ConsistentRead": True}
        }
        for attempt in range(ATTEMPTS):
            answer = backend.call_batch("BatchGetItem", RequestItems=pending)
            for item in answer.get("Responses", {}).get(backend.table_name, []):
                found[_identity(backend, item)] = item
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                break
            _backoff(attempt)
        if pending:
            raise PartialWriteError(
                f"BatchGetItem on table {backend.table_name!r} left keys unprocessed after "
                f"{ATTEMPTS} attempts",
                failed=[],
            )
    return found


def get_many(
    backend: DynamoDBBackend, schema: ModelSchema, keys: Sequence[Key]
) -> list[Row | None]:
    """Read rows by key, 100 per ``BatchGetItem``, in the order asked."""
    item_keys = [backend.keys.item_key(schema, key) for key in keys]
    unique_keys = list({_identity(backend, k): k for k in item_keys}.values())
    found = _read_batch(backend, unique_keys)
    items = [found.get(_identity(backend, k)) for k in item_keys]
    return [None if item is None else from_item(schema, item) for item in items]


def insert_many(backend: DynamoDBBackend, schema: ModelSchema, rows: Sequence[Row]) -> None:
    """Check that no key or unique value is taken, then write the rows.

    Rows without unique values go by ``BatchWriteItem``, 25 at a time. Rows with unique
    values go by ``TransactWriteItems``, each row together with its claims (several rows to
    one transaction, up to its 100 actions), so no row is ever stored without its claims and
    no claim without its row, even if the process dies half-way.

    The check and the writes are separate requests: a concurrent writer can slip between
    them. With unique values, the transactions' conditions still refuse it (``DuplicateKeyError``
    if nothing was written yet, else ``PartialWriteError`` naming the rows not stored);
    without them, ``BatchWriteItem`` (which has no conditions) overwrites it.

    Raises:
        DuplicateKeyError: A key or unique value is taken or repeated; nothing is written.
        PartialWriteError: Some rows could not be stored; ``failed`` lists them.
    """
    creations = [backend.creation(schema, row, backend.item(schema, row)) for row in rows]
    claimed = _claimed(backend, schema, rows, creations)
    _refuse_taken(backend, schema, claimed)
    if not schema.unique_fields:
        _write_plain(backend, schema, rows, creations)
    else:
        _write_transactions(backend, schema, rows, creations)


_Claim = tuple[tuple[str, ...], Any, bool, Transaction]


def _claimed(
    backend: DynamoDBBackend, schema: ModelSchema, rows: Sequence[Row], creations: list[Transaction]
) -> dict[tuple[str, str], _Claim]:
    """Every item the rows create, each to what it claims, in the order the reference checks."""
    claimed: dict[tuple[str, str], _Claim] = {}
    for row, creation in zip(rows, creations, strict=True):
        key = schema.key_of(row)
        shown = key[0] if len(key) == 1 else key
        row_claim = (schema.key_fields, shown, False, creation)
        _claim(claimed, _identity(backend, creation.row_key), row_claim, schema)
        for name, value in creation.claims.values():
            sentinel = backend.keys.sentinel_key(schema, name, value)
            _claim(claimed, _identity(backend, sentinel), ((name,), value, True, creation), schema)
    return claimed


def _refuse_taken(
    backend: DynamoDBBackend, schema: ModelSchema, claimed: dict[tuple[str, str], _Claim]
) -> None:
    """Raise for the first claimed item that exists, deleting sentinels that are orphans."""
    existing = _read_batch(backend, [_key_of(backend, identity) for identity in claimed])
    for identity, (fields, value, unique, creation) in claimed.items():
        item = existing.get(identity)
        if item is None:
            continue
        if unique and not creation.held(backend.client, fields[0], value, item):
            continue
        raise DuplicateKeyError(schema.name, fields, value, unique=unique)


def _write_plain(
    backend: DynamoDBBackend, schema: ModelSchema, rows: Sequence[Row], creations: list[Transaction]
) -> None:
    """Write rows without unique values by ``BatchWriteItem``; report the ones lost."""
    items = [creation.actions[0]["Put"]["Item"] for creation in creations]
    failed = write_batch(backend, [{"PutRequest": {"Item": item}} for item in items])
    if failed:
        by_item = {_identity(backend, item): row for item, row in zip(items, rows, strict=True)}
        lost = [by_item[_identity(backend, r["PutRequest"]["Item"])] for r in failed]
        raise PartialWriteError(
            f"{schema.name}: {len(failed)} items stayed unprocessed after {ATTEMPTS} attempts",
            failed=lost,
        )


def _write_transactions(
    backend: DynamoDBBackend, schema: ModelSchema, rows: Sequence[Row], creations: list[Transaction]
) -> None:
    """Write rows with their claims, as many rows to a transaction as its limit allows."""
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


def _claim(
    claimed: dict[tuple[str, str], _Claim],
    identity: tuple[str, str],
    what: _Claim,
    schema: ModelSchema,
) -> None:
    if identity in claimed:
        fields, value, unique, _ = what
        raise DuplicateKeyError(schema.name, fields, value, unique=unique)
    claimed[identity] = what


def _key_of(backend: DynamoDBBackend, identity: tuple[str, str]) -> ItemKey:
    return {backend.keys.pk: {"S": identity[0]}, backend.keys.sk: {"S": identity[1]}}


def clear(backend: DynamoDBBackend, schema: ModelSchema | None) -> None:
    """Delete every item of a model (rows and unique sentinels), or every item."""
    keys = backend.keys
    ex = Expressions()
    request: dict[str, Any] = {
        "ProjectionExpression": f"{ex.name(keys.pk)}, {ex.name(keys.sk)}",
    }
    if schema is not None:
        request["FilterExpression"] = (
            f"{ex.name(keys.entity)} = {ex.value(schema.name)} OR "
            f"({ex.name(keys.sk)} = {ex.value(SENTINEL)} AND "
            f"begins_with({ex.name(keys.pk)}, {ex.value(schema.name + '#')}))"
        )
    request.update(ex.request())
    doomed: list[dict[str, Any]] = []
    while True:
        answer = backend.call("Scan", **request)
        doomed += [
            {"DeleteRequest": {"Key": _key_of(backend, _identity(backend, item))}}
            for item in answer.get("Items", ())
        ]
        last = answer.get("LastEvaluatedKey")
        if not last:
            break
        request["ExclusiveStartKey"] = last
    failed = write_batch(backend, doomed)
    if failed:
        raise PartialWriteError(
            f"clearing table {backend.table_name!r}: {len(failed)} deletes stayed unprocessed",
            failed=[],
        )
