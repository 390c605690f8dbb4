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

if TYPE_CHECKING:
    from .backend import DynamoDBBackend

__all__ = ["clear", "get_many", "insert_many", "write_batch"]

WRITE_LIMIT = 25  # items per BatchWriteItem
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
    """Check that no key or unique value is taken, then write rows and sentinels in batches.

    The check and the write are separate requests: a concurrent writer can slip between
    them, which ``create`` (one conditional request) does not allow.

    Raises:
        DuplicateKeyError: A key or unique value is taken or repeated; nothing is written.
        PartialWriteError: Some rows stayed unprocessed after every retry.
    """
    keys = backend.keys
    requests: list[dict[str, Any]] = []
    claimed: dict[tuple[str, str], tuple[tuple[str, ...], Any, bool]] = {}
    rows_by_item: dict[tuple[str, str], Row] = {}
    for row in rows:
        key = schema.key_of(row)
        item = backend.item(schema, row)
        identity = _identity(backend, item)
        shown = key[0] if len(key) == 1 else key
        _claim(claimed, identity, (schema.key_fields, shown, False), schema)
        rows_by_item[identity] = row
        requests.append({"PutRequest": {"Item": item}})
        for name in schema.unique_fields:
            if row[name] is None:
                continue
            sentinel = keys.sentinel_key(schema, name, row[name])
            _claim(claimed, _identity(backend, sentinel), ((name,), row[name], True), schema)
            owner = {"M": backend.keys.item_key(schema, key)}
            requests.append(
                {
                    "PutRequest": {
                        "Item": {
                            **sentinel,
                            keys.entity: {"S": SENTINEL},
                            keys.owner: owner,
                        }
                    }
                }
            )
    existing = _read_batch(backend, [_key_of(backend, i) for i in claimed])
    for identity in existing:
        fields, value, unique = claimed[identity]
        raise DuplicateKeyError(schema.name, fields, value, unique=unique)
    failed = write_batch(backend, requests)
    if failed:
        lost = [
            rows_by_item[_identity(backend, r["PutRequest"]["Item"])]
            for r in failed
            if _identity(backend, r["PutRequest"]["Item"]) in rows_by_item
        ]
        raise PartialWriteError(
            f"{schema.name}: {len(failed)} items stayed unprocessed after {ATTEMPTS} attempts",
            failed=lost,
        )


def _claim(
    claimed: dict[tuple[str, str], tuple[tuple[str, ...], Any, bool]],
    identity: tuple[str, str],
    what: tuple[tuple[str, ...], Any, bool],
    schema: ModelSchema,
) -> None:
    if identity in claimed:
        fields, value, unique = what
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
