"""Batch requests: chunked to DynamoDB's limits, a few in flight, the unprocessed retried."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from restmachine_orm import PartialWriteError
from restmachine_orm.backends.base import Key, Row
from restmachine_orm.schema import ModelSchema

from ._expressions import Expressions
from ._keys import SENTINEL
from ._reads import pages
from ._serialize import AttributeValue, from_item

if TYPE_CHECKING:
    from .backend import DynamoDBBackend

__all__ = [
    "PartialWriteRequests",
    "clear",
    "delete_keys",
    "get_many",
    "identity",
    "key_of",
    "read_batch",
    "write_batch",
]

WRITE_LIMIT = 25  # items per BatchWriteItem
READ_LIMIT = 100  # keys per BatchGetItem
#: Batch requests of one call in flight at once: the client waits on the network for most
#: of a request, so a few overlap well (boto3 clients are safe to share between threads).
CONCURRENCY = 4
ATTEMPTS = 8
BACKOFF_BASE = 0.02
BACKOFF_CAP = 1.0

ItemKey = dict[str, AttributeValue]


def _backoff(attempt: int) -> None:
    # Full jitter, capped: retries of many clients spread out instead of colliding.
    time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))


Pending = TypeVar("Pending")


def _drain(send: Callable[[Pending], Pending], pending: Pending) -> Pending:
    """Send ``pending``, then what each answer leaves unprocessed, backing off between.

    Returns:
        What is still unprocessed after ``ATTEMPTS`` sends (empty when all went through).
    """
    for attempt in range(ATTEMPTS):
        pending = send(pending)
        if not pending:
            break
        _backoff(attempt)
    return pending


def identity(backend: DynamoDBBackend, key: ItemKey) -> tuple[str, str]:
    """An item's table key as a hashable ``(pk, sk)`` pair."""
    return key[backend.keys.pk]["S"], key[backend.keys.sk]["S"]


def key_of(backend: DynamoDBBackend, pair: tuple[str, str]) -> ItemKey:
    """The table key of a ``(pk, sk)`` pair."""
    return {backend.keys.pk: {"S": pair[0]}, backend.keys.sk: {"S": pair[1]}}


Chunk = TypeVar("Chunk")
Result = TypeVar("Result")


def _each(work: Callable[[Chunk], Result], chunks: list[Chunk]) -> list[Result | BaseException]:
    """``work`` on every chunk, up to ``CONCURRENCY`` at a time.

    Returns:
        In chunk order, each chunk's result or the error it raised (one failing chunk does
        not stop the others).
    """

    def attempt(chunk: Chunk) -> Result | BaseException:
        try:
            return work(chunk)
        except Exception as error:  # the caller decides what a failed chunk means
            return error

    if len(chunks) <= 1:
        return [attempt(chunk) for chunk in chunks]
    with ThreadPoolExecutor(min(CONCURRENCY, len(chunks))) as pool:
        return list(pool.map(attempt, chunks))


def write_batch(backend: DynamoDBBackend, requests: list[dict[str, Any]]) -> None:
    """Send write requests 25 at a time, retrying what DynamoDB leaves unprocessed.

    Raises:
        PartialWriteRequests: Some requests stayed unprocessed or failed outright (then the
            first failure is the cause); every other request was written.
    """

    def send(pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        answer = backend.call_batch("BatchWriteItem", RequestItems={backend.table_name: pending})
        left: list[dict[str, Any]] = answer.get("UnprocessedItems", {}).get(backend.table_name, [])
        return left

    chunks = [requests[i : i + WRITE_LIMIT] for i in range(0, len(requests), WRITE_LIMIT)]
    outcomes = _each(lambda chunk: _drain(send, chunk), chunks)
    # A request that failed may have been applied (its answer lost): not confirmed either.
    failed = [
        request
        for outcome, chunk in zip(outcomes, chunks, strict=True)
        for request in (chunk if isinstance(outcome, BaseException) else outcome)
    ]
    if failed:
        errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        raise PartialWriteRequests(failed) from (errors[0] if errors else None)


class PartialWriteRequests(Exception):
    """Some batch write requests were not confirmed written: ``requests`` lists them.

    The cause, if any, is the first request that failed outright; the others stayed
    unprocessed after every retry.
    """

    def __init__(self, requests: list[dict[str, Any]]) -> None:
        """Keep the requests not confirmed."""
        super().__init__(f"{len(requests)} write requests not confirmed")
        self.requests = requests


def read_batch(backend: DynamoDBBackend, keys: list[ItemKey]) -> dict[tuple[str, str], Any]:
    """Read items 100 keys at a time, retrying unprocessed keys; found items by identity.

    Raises:
        PartialWriteError: Keys stayed unprocessed after every retry.
    """

    def read(chunk: list[ItemKey]) -> list[Any]:
        found: list[Any] = []

        def send(pending: dict[str, Any]) -> dict[str, Any]:
            answer = backend.call_batch("BatchGetItem", RequestItems=pending)
            found.extend(answer.get("Responses", {}).get(backend.table_name, []))
            left: dict[str, Any] = answer.get("UnprocessedKeys") or {}
            return left

        if _drain(send, {backend.table_name: {"Keys": chunk, "ConsistentRead": True}}):
            raise PartialWriteError(
                f"BatchGetItem on table {backend.table_name!r} left keys unprocessed after "
                f"{ATTEMPTS} attempts",
                failed=[],
            )
        return found

    chunks = [keys[i : i + READ_LIMIT] for i in range(0, len(keys), READ_LIMIT)]
    found: dict[tuple[str, str], Any] = {}
    for outcome in _each(read, chunks):
        if isinstance(outcome, BaseException):
            raise outcome  # reads change nothing: the first failure is the answer
        found.update((identity(backend, item), item) for item in outcome)
    return found


def get_many(
    backend: DynamoDBBackend, schema: ModelSchema, keys: Sequence[Key]
) -> list[Row | None]:
    """Read rows by key, 100 per ``BatchGetItem``, in the order asked."""
    item_keys = [backend.keys.item_key(schema, key) for key in keys]
    unique_keys = list({identity(backend, k): k for k in item_keys}.values())
    found = read_batch(backend, unique_keys)
    items = [found.get(identity(backend, k)) for k in item_keys]
    return [None if item is None else from_item(schema, item) for item in items]


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
    found = [
        identity(backend, item)
        for answer in pages(backend, "Scan", request)
        for item in answer.get("Items", ())
    ]
    delete_keys(backend, found)


def delete_keys(backend: DynamoDBBackend, pairs: Iterable[tuple[str, str]]) -> None:
    """Delete items by ``(pk, sk)``: rows first, then unique-value sentinels.

    If deleting stops half-way, what is left of a row's claims is an orphaned sentinel,
    which the next claim reclaims, never a row without its sentinel.

    Raises:
        PartialWriteError: Some deletes were not confirmed.
    """
    rows: list[dict[str, Any]] = []
    sentinels: list[dict[str, Any]] = []
    for pair in pairs:
        (sentinels if pair[1] == SENTINEL else rows).append(
            {"DeleteRequest": {"Key": key_of(backend, pair)}}
        )
    for doomed in (rows, sentinels):
        try:
            write_batch(backend, doomed)
        except PartialWriteRequests as partial:
            raise PartialWriteError(
                f"deleting from table {backend.table_name!r}: {len(partial.requests)} deletes "
                "were not confirmed",
                failed=[],
            ) from partial.__cause__
