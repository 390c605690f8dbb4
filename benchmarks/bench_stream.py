"""DynamoDB at scale: iterating 50,000 items streams them page by page.

Iterating a query (``for row in Model.where(...)``) must hold one page of DynamoDB's
answer at a time, not every item: its peak memory is compared with what one page of the
same items takes once the client has decoded it, and with ``.all()``, which holds them all.
Runs on the server at ``RESTMACHINE_ORM_BENCH_TRANSACTIONAL_ENDPOINT`` (DynamoDB Local
under ``nox``): the rows are written by ``create_many``, which needs transactions.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Iterable
from typing import Any

from _dynamo import TRANSACTIONAL_VAR, Reading, client, endpoint, new_table, pk
from _goals import NotRun
from _harness import Row, Table

ITEMS = 50_000
PARTITION = "stream"
CONSTANT = 1024 * 1024  # what iterating may hold beyond one page: the client, one row


def _peak(work: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _drain(rows: Iterable[object], expected: int) -> None:
    count = 0
    for _ in rows:
        count += 1
    assert count == expected, count


def run(quick: bool) -> list[Table | NotRun]:
    url = endpoint("Iterating items on DynamoDB Local: peak memory", variable=TRANSACTIONAL_VAR)
    if isinstance(url, NotRun):
        return [url]
    raw = client(url)
    backend = new_table(raw)
    Reading.model_backend = backend
    items = 5_000 if quick else ITEMS
    try:
        for start in range(0, items, 5_000):
            Reading.create_many(
                [{"sensor": PARTITION, "at": i, "value": i} for i in range(start, start + 5_000)]
            )

        def first_page() -> Any:
            return raw.query(
                TableName=backend.table_name,
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": pk(PARTITION)}},
                ConsistentRead=True,
            )

        per_page = len(first_page()["Items"])
        page = _peak(first_page)
        query = _peak(lambda: _drain(Reading.where(sensor=PARTITION), items))
        scan = _peak(lambda: _drain(Reading.where(value__gte=0), items))
        whole = _peak(lambda: len(Reading.where(sensor=PARTITION).all()))
    finally:
        raw.delete_table(TableName=backend.table_name)
    table = Table(
        f"Iterating {items:,} items on DynamoDB Local (pages of {per_page:,}): peak memory",
        "peak while iterating",
        "one decoded page + 1 MiB",
    )
    goal = 1.0  # the peak may not exceed one page plus the constant
    for label, peak in (("Query, iterated", query), ("Scan + filter, iterated", scan)):
        table.rows.append(Row(label, peak, page + CONSTANT, goal=goal, unit="KiB"))
    print(f"(for contrast: .all() on the same Query peaks at {whole / 2**20:.1f} MiB)\n")
    return [table]
