"""What exactly-once writes cost: a marked write beside the same write without its mark.

Every ``PutItem`` and ``UpdateItem`` of a row carries a write mark (see
``restmachine_orm_dynamodb._once``): one more attribute set, a lane taken and given back;
the guarding condition is sent only on a retry after a lost answer. The baseline is the
same backend with marks turned off (``Table.lanes = None``, which only benchmarks do): the
very same requests minus the mark.

The goal is the issue's: a marked write takes at most 1.05x the plain write's time. A
write's time is measured as production sees it, through the 10 ms latency proxy in front
of the local server (``_latency_proxy``): straight to a local server, the server's own CPU,
on the client's two cores, swamps the difference and moves it by tens of percent from run
to run. Each row also gives the client's CPU per write, marked and plain (no goal).
Runs on the server at ``RESTMACHINE_ORM_BENCH_ENDPOINT`` (dynalite under ``nox -s
benchmarks``).
"""

from __future__ import annotations

from collections.abc import Callable

from _dynamo import Reading, client, endpoint, new_table
from _goals import NotRun
from _harness import Row, Table
from _latency_proxy import latency_proxy
from _lineup import interleaved

from restmachine_orm import F
from restmachine_orm_dynamodb import DynamoDBBackend

TITLE = "Exactly-once writes: a marked write against the same write unmarked (10 ms away)"
GOAL = 1.05


def run(quick: bool) -> list[Table | NotRun]:
    url = endpoint(TITLE)
    if isinstance(url, NotRun):
        return [url]
    made = new_table(client(url))
    rounds, ops = (3, 10) if quick else (9, 30)
    try:
        with latency_proxy(url) as far:
            backend = DynamoDBBackend(made.table_name, client=client(far))
            Reading.model_backend = backend
            return [_measured(backend, rounds, ops)]
    finally:
        made.client.delete_table(TableName=made.table_name)


def _measured(backend: DynamoDBBackend, rounds: int, ops: int) -> Table:
    table = backend._table  # the benchmark's own switch: marks on, or off
    lanes = table.lanes

    def contender(marked: bool, step: Callable[[str, int], object]) -> Callable[[int], None]:
        def run_round(round_number: int) -> None:
            table.lanes = lanes if marked else None
            sensor = f"{'m' if marked else 'p'}{round_number}"
            for i in range(ops):
                step(sensor, i)

        return run_round

    def create(sensor: str, i: int) -> None:
        Reading.create(sensor=sensor, at=i, value=i)

    def increment(sensor: str, i: int) -> None:
        Reading.update_by_key({"sensor": sensor, "at": i}, value=F("value") + 1)

    def upsert(sensor: str, i: int) -> None:
        Reading.upsert(sensor=sensor, at=i, value=-i)

    result = Table(TITLE, "marked", "unmarked (same requests)")
    try:
        for name, step in (
            ("create (PutItem)", create),
            ("increment by key (UpdateItem)", increment),
            ("upsert (UpdateItem)", upsert),
        ):
            timings = interleaved(
                {"marked": contender(True, step), "plain": contender(False, step)},
                rounds=rounds,
                ops=ops,
            )
            marked, plain = timings["marked"], timings["plain"]
            cpu = f"client CPU {marked.cpu * 1e3:.3f} vs {plain.cpu * 1e3:.3f} ms"
            result.rows.append(Row(name, marked.wall, plain.wall, goal=GOAL, unit="ms", detail=cpu))
    finally:
        table.lanes = lanes
    return result
