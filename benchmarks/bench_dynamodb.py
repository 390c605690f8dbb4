"""The DynamoDB backend against the raw boto3 client sending the same requests.

Runs on the server at ``RESTMACHINE_ORM_BENCH_ENDPOINT`` (``nox -s benchmarks`` starts
dynalite, the fastest local server, so that client overhead shows).
"""

from __future__ import annotations

from typing import Any

from _dynamo import (
    POINT_GOAL,
    READ_GOALS,
    READ_ROWS,
    OrmReadings,
    RawReadings,
    Readings,
    client,
    endpoint,
    new_table,
    point_operations,
    reads,
)
from _goals import NotRun
from _harness import Row, Table

TITLE = "DynamoDB backend on dynalite (model without unique fields)"

REQUESTS = {
    "create": "PutItem",
    "get": "GetItem",
    "save, 2 fields": "UpdateItem",
    "delete": "DeleteItem",
}


def run(quick: bool) -> list[Table | NotRun]:
    url = endpoint(TITLE)
    if isinstance(url, NotRun):
        return [url]
    raw = client(url)
    backend = new_table(raw)
    floor = RawReadings(raw, backend.table_name)
    contenders: dict[str, Readings[Any]] = {"orm": OrmReadings(backend), "floor": floor}
    # At 9 rounds the query's ratio moved between 1.02x and 1.22x from run to run, more
    # than its 1.20x goal leaves room for.
    rounds, ops = (3, 30) if quick else (16, 100)
    try:
        point = point_operations(contenders, rounds=rounds, ops=ops)
        floor.create_many(READ_ROWS)
        read = reads(contenders, rounds=rounds * 2)
    finally:
        raw.delete_table(TableName=backend.table_name)

    table = Table(TITLE, "ORM", "raw boto3 (same requests)")
    for name, timings in point.items():
        orm, base = timings["orm"], timings["floor"]
        label = f"{name} ({REQUESTS[name]})"
        table.rows.append(Row(label, orm.wall, base.wall, goal=POINT_GOAL, unit="ms"))
    for name, timings in read.items():
        orm, base = timings["orm"], timings["floor"]
        table.rows.append(Row(name, orm.wall, base.wall, goal=READ_GOALS[name], unit="ms"))

    # Client CPU is in the peers lineup (bench_peers), measured in the same kind of rounds.
    return [table]
