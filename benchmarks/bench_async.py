"""The ORM's sync and async APIs beside raw boto3, pydynox, dynamoxy and aiodynamo (issue 17).

Six operations on dynalite (the fastest server, so that client cost shows): create, get,
save, delete, a query of 100 rows and a count of them. Every contender does each one in the
same interleaved rounds, the async ones awaited one after the other on one event loop, so
that a round's time per operation is one request's cost. The table reads client CPU
(process time: the Rust libraries spend theirs on threads of their own, which it counts)
and wall time, each as a ratio to raw boto3's. Needs ``pip install -r
benchmarks/requirements.txt`` (dynamoxy only on the Pythons it supports).
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from _dynamo import (
    READ_MATCHES,
    READ_PARTITION,
    READ_ROWS,
    OrmReadings,
    RawReadings,
    _partition,
    client,
    endpoint,
    new_table,
)
from _goals import NotRun
from _lineup import Timing, interleaved
from _point_ops import AsyncOrmReadings, close
from _versus import Versus

TITLE = "Point operations, sync and async, on dynalite"
FLOOR = "boto3 (floor)"
ORM, ORM_ASYNC = "restmachine-orm", "restmachine-orm async"
PYDYNOX, PYDYNOX_ASYNC, DYNAMOXY, AIODYNAMO = "pydynox", "pydynox async", "dynamoxy", "aiodynamo"
REQUIRED = ("pydynox", "aiodynamo", "aiohttp")
DYNAMOXY_PYTHON = (3, 12)  # the oldest Python dynamoxy installs on
NOTES = [
    "create: a PutItem conditional on the key being free, in every library.",
    "save: one conditional UpdateItem of `value` and `note`; the ORM, dynamoxy and aiodynamo "
    "ask for the new item back, pydynox for nothing.",
    "delete: a DeleteItem conditional on the row existing.",
    "query 100: every row of one partition (one page), consistent. count 100: the same rows "
    "counted; the floor, the ORM, dynamoxy and aiodynamo send `Select=COUNT`; pydynox counts "
    "only whole tables, so it counts the rows its query yields.",
    "aiodynamo has no models: its rows are the dicts it decodes; it runs on aiohttp. dynamoxy "
    "is configured to send what the others send (no `ReturnConsumedCapacity`, no write ids, "
    "no telemetry).",
]

Runner = Callable[[int], None]


@dataclass(frozen=True)
class Contender:
    """One library's operations: blocking (``loop`` None) or awaited on ``loop``."""

    ops: Any  # _point_ops.PointOps or AsyncPointOps
    loop: asyncio.AbstractEventLoop | None = None

    def call(self, outcome: Any) -> Any:
        """What a call of one of ``ops`` gave: its value, awaited if need be."""
        return self.loop.run_until_complete(outcome) if self.loop else outcome

    def runner(self, step: Callable[[int, int], Any], ops: int) -> Runner:
        """A timed round: ``step(round, i)`` for each of the ``ops`` operations, in turn."""
        loop = self.loop
        if loop is None:

            def run(round_number: int) -> None:
                for i in range(ops):
                    step(round_number, i)

            return run

        async def steps(round_number: int) -> None:
            for i in range(ops):
                await step(round_number, i)

        return lambda round_number: loop.run_until_complete(steps(round_number))


def run(quick: bool) -> list[Versus | NotRun]:
    missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    with_dynamoxy = sys.version_info >= DYNAMOXY_PYTHON
    if with_dynamoxy and importlib.util.find_spec("dynamoxy") is None:
        missing.append("dynamoxy")
    url = endpoint(TITLE, missing)
    if isinstance(url, NotRun):
        return [url]
    notes = list(NOTES)
    if not with_dynamoxy:
        skipped = (
            f"dynamoxy: not measured, it needs Python {'.'.join(map(str, DYNAMOXY_PYTHON))} "
            f"or later and this is {sys.version_info.major}.{sys.version_info.minor}."
        )
        print(f"({TITLE}: {skipped})")
        notes.append(skipped)
    raw = client(url)
    backend = new_table(raw)
    table = backend.table_name
    floor = RawReadings(raw, table)
    loop = asyncio.new_event_loop()
    stack = AsyncExitStack()
    try:
        contenders = loop.run_until_complete(
            _contenders(url, table, loop, stack, floor, OrmReadings(backend), with_dynamoxy)
        )
        rounds, ops, reads = (4, 10, 2) if quick else (32, 50, 5)
        floor.create_many(READ_ROWS)
        lines = lineup(contenders, rounds=rounds, ops=ops, reads=reads)
    finally:
        loop.run_until_complete(close(stack, [backend]))
        loop.close()
        raw.delete_table(TableName=table)
    peers = [name for name in (PYDYNOX, PYDYNOX_ASYNC, DYNAMOXY, AIODYNAMO) if name in contenders]
    notes.append(f"{rounds} rounds of {ops} operations each ({reads} of the query and count).")
    return [Versus(TITLE, FLOOR, [ORM, ORM_ASYNC], peers, lines, notes)]


async def _contenders(
    url: str,
    table: str,
    loop: asyncio.AbstractEventLoop,
    stack: AsyncExitStack,
    floor: RawReadings,
    orm: OrmReadings,
    with_dynamoxy: bool,
) -> dict[str, Contender]:
    """Every contender on ``table``; the async ones' clients made on ``loop``."""
    import _peer_aiodynamo
    import _peer_pydynox

    pydynox, pydynox_async = _peer_pydynox.readings(url, table)
    found = {
        FLOOR: Contender(floor),
        ORM: Contender(orm),  # binds the ORM's Reading model to the table, for both APIs
        ORM_ASYNC: Contender(AsyncOrmReadings(), loop),
        PYDYNOX: Contender(pydynox),
        PYDYNOX_ASYNC: Contender(pydynox_async, loop),
        AIODYNAMO: Contender(await _peer_aiodynamo.readings(url, table, stack), loop),
    }
    if with_dynamoxy:
        import _peer_dynamoxy

        found[DYNAMOXY] = Contender(await _peer_dynamoxy.readings(url, table, stack), loop)
    return found


def lineup(
    contenders: Mapping[str, Contender], *, rounds: int, ops: int, reads: int
) -> dict[str, dict[str, Timing]]:
    """Every operation, timed for every contender in interleaved rounds.

    Each contender creates, reads, saves and deletes ``ops`` fresh rows of its own per
    round; the query and the count read ``READ_PARTITION`` of ``READ_ROWS`` (written
    beforehand) ``reads`` times per round.

    Raises:
        AssertionError: A contender's query or count found the wrong number of rows, so its
            timing would mean nothing.
    """
    loaded: dict[int, list[list[Any]]] = {}

    def load(n: int, contender: Contender) -> None:  # untimed: save and delete need rows
        loaded[n] = [
            [contender.call(contender.ops.get(_partition(n, r), i)) for i in range(ops)]
            for r in range(rounds)
        ]

    steps: dict[str, Callable[[int, Contender], Callable[[int, int], Awaitable[Any] | Any]]] = {
        "create": lambda n, c: lambda r, i: c.ops.create(_partition(n, r), i, i),
        "get": lambda n, c: lambda r, i: c.ops.get(_partition(n, r), i),
        "save": lambda n, c: lambda r, i: c.ops.save(loaded[n][r][i], i + 1),
        "delete": lambda n, c: lambda r, i: c.ops.delete(loaded[n][r][i]),
        f"query {READ_MATCHES}": lambda _n, c: lambda _r, _i: c.ops.query(READ_PARTITION),
        f"count {READ_MATCHES}": lambda _n, c: lambda _r, _i: c.ops.count(READ_PARTITION),
    }
    for name, contender in contenders.items():
        found = len(contender.call(contender.ops.query(READ_PARTITION)))
        counted = contender.call(contender.ops.count(READ_PARTITION))
        assert found == counted == READ_MATCHES, (
            f"{name} found {found} and counted {counted} rows, not {READ_MATCHES}"
        )
    numbered = list(enumerate(contenders.items()))
    timings = {}
    for operation, step in steps.items():
        if operation in ("save", "delete"):
            for n, (_, contender) in numbered:
                load(n, contender)
        each = ops if operation in ("create", "get", "save", "delete") else reads
        runners = {name: c.runner(step(n, c), each) for n, (name, c) in numbered}
        timings[operation] = interleaved(runners, rounds=rounds, ops=each)
    return timings
