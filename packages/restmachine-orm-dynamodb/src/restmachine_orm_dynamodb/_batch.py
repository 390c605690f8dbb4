"""Batch requests: chunked to DynamoDB's limits, a few in flight, the unprocessed retried.

Batches read rows (``get_many``, the check of ``create_many``) and delete items (``clear``,
the test driver). New rows are never written by ``BatchWriteItem``, which cannot refuse to
overwrite: ``create_many`` writes them by transaction (``_create_many``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from restmachine_orm.backends.base import Key, Row
from restmachine_orm.schema import ModelSchema

from ._expressions import Expressions
from ._flow import Flow, Together
from ._items import Pages, live_row
from ._keys import SENTINEL, Address, ItemKey
from ._serialize import Item
from ._table import Table, wait
from .errors import IncompleteBatchError

__all__ = ["clear", "delete_items", "get_many", "read_batch"]

WRITE_LIMIT = 25  # items per BatchWriteItem
READ_LIMIT = 100  # keys per BatchGetItem
#: Requests of one call in flight at once: a batch request spends most of its time on the
#: network, so a few overlap well (measured: ``clear`` of 1,000 items 20 ms away took
#: 1.10 s one request at a time, 0.68 s four at a time).
CONCURRENCY = 4

Chunk = TypeVar("Chunk")
Result = TypeVar("Result")


def chunked(items: Sequence[Chunk], size: int) -> list[Sequence[Chunk]]:
    """``items`` in consecutive slices of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def each_chunk(
    work: Callable[[Chunk], Flow[Result]], chunks: Sequence[Chunk]
) -> Flow[list[Result | Exception]]:
    """``work`` on every chunk, up to ``CONCURRENCY`` chunks at a time.

    Returns:
        In chunk order, each chunk's result or the error it raised (one failing chunk
        stops no other).
    """
    outcomes: list[Result | Exception] = yield Together([work(c) for c in chunks], CONCURRENCY)
    return outcomes


def _until_done(
    table: Table, send: Callable[[list[Any]], Flow[list[Any]]], pending: list[Any]
) -> Flow[list[Any]]:
    """Send ``pending``, then what each answer leaves unprocessed, waiting in between.

    Returns:
        What is still unprocessed once ``batch_leftovers`` tries are used (empty when all
        went through).
    """
    for pause in table.retries.batch_leftovers.pauses():
        yield from wait(pause)
        pending = yield from send(pending)
        if not pending:
            break
    return pending


Done = TypeVar("Done")


def _in_batches(
    table: Table,
    operation: str,
    work: Callable[[Sequence[ItemKey]], Flow[tuple[Done, list[ItemKey]]]],
    chunks: list[Sequence[ItemKey]],
) -> Flow[list[Done]]:
    """Run ``work`` on every chunk of keys; it returns what it did and the keys left over.

    Raises:
        IncompleteBatchError: Keys were left over after every try, or their request
            failed outright (then the first such failure is the cause); every other key
            was done.
    """
    done: list[Done] = []
    undone: list[ItemKey] = []
    errors: list[Exception] = []
    outcomes = yield from each_chunk(work, chunks)
    for chunk, outcome in zip(chunks, outcomes, strict=True):
        if isinstance(outcome, Exception):
            # A request that failed may have been applied (its answer lost): not confirmed.
            errors.append(outcome)
            undone.extend(chunk)
        else:
            done.append(outcome[0])
            undone.extend(outcome[1])
    if undone:
        cause = errors[0] if errors else None
        why = (
            f"a request failed: {cause}"
            if cause
            else f"left unprocessed after {table.retries.batch_leftovers.attempts} attempts"
        )
        raise IncompleteBatchError(operation, table.name, undone, why) from cause
    return done


def read_batch(table: Table, item_keys: list[ItemKey]) -> Flow[dict[Address, Item]]:
    """Read items 100 keys at a time, retrying unprocessed keys; found items by address.

    Raises:
        IncompleteBatchError: Some keys could not be read (``.item_keys`` lists them).
    """

    def read(chunk: Sequence[ItemKey]) -> Flow[tuple[list[Item], list[ItemKey]]]:
        found: list[Item] = []

        def send(pending: list[ItemKey]) -> Flow[list[ItemKey]]:
            items, left = yield from table.read_batch(pending)
            found.extend(items)
            return left

        return found, (yield from _until_done(table, send, list(chunk)))

    chunks = chunked(item_keys, READ_LIMIT)
    return {
        table.keys.address(item): item
        for found in (yield from _in_batches(table, "BatchGetItem", read, chunks))
        for item in found
    }


def get_many(table: Table, schema: ModelSchema, keys: Sequence[Key]) -> Flow[list[Row | None]]:
    """Read rows by key, 100 per ``BatchGetItem``, in the order asked."""
    item_keys = [table.keys.item_key(schema, key) for key in keys]
    distinct = list({table.keys.address(k): k for k in item_keys}.values())
    found = yield from read_batch(table, distinct)
    return [live_row(schema, found.get(table.keys.address(k))) for k in item_keys]


def clear(table: Table, schema: ModelSchema | None) -> Flow[None]:
    """Delete every item of a model (rows and unique sentinels), or every item."""
    keys = table.keys
    ex = Expressions()
    request: dict[str, Any] = {"ProjectionExpression": f"{ex.name(keys.pk)}, {ex.name(keys.sk)}"}
    if schema is not None:
        request["FilterExpression"] = (
            f"{ex.name(keys.entity)} = {ex.value(schema.name)} OR "
            f"({ex.name(keys.sk)} = {ex.value(SENTINEL)} AND "
            f"begins_with({ex.name(keys.pk)}, {ex.value(schema.name + '#')}))"
        )
    request.update(ex.request())
    pages = Pages(table, "Scan", request)
    found: list[Address] = []
    while not pages.done:
        found += [keys.address(item) for item in (yield from pages.next()).get("Items", ())]
    yield from delete_items(table, found)


def delete_items(table: Table, addresses: Iterable[Address]) -> Flow[None]:
    """Delete items by ``(pk, sk)``: rows first, then unique-value sentinels.

    If deleting stops half-way, what is left of a row's claims is an orphaned sentinel,
    which the next claim reclaims, never a row without its sentinel.

    Raises:
        IncompleteBatchError: Some deletes were not confirmed (``.item_keys`` lists them).
    """
    rows: list[ItemKey] = []
    sentinels: list[ItemKey] = []
    for address in addresses:
        (sentinels if address[1] == SENTINEL else rows).append(table.keys.key_at(address))
    for doomed in (rows, sentinels):
        yield from _delete(table, doomed)


def _delete(table: Table, item_keys: list[ItemKey]) -> Flow[None]:
    """Delete items 25 a request, retrying what DynamoDB leaves unprocessed."""

    def delete(chunk: Sequence[ItemKey]) -> Flow[tuple[None, list[ItemKey]]]:
        requests = [{"DeleteRequest": {"Key": item_key}} for item_key in chunk]
        left = yield from _until_done(table, table.write_batch, requests)
        return None, [request["DeleteRequest"]["Key"] for request in left]

    yield from _in_batches(table, "BatchWriteItem", delete, chunked(item_keys, WRITE_LIMIT))
