"""Many gets at once over a network's latency: the ORM's async API, threads, and aiodynamo.

Deployed, DynamoDB answers in milliseconds over a network and the client waits; a local
server answers at once, on the same two cores as the client, so concurrency gains nothing
there. A latency proxy (``_latency_proxy``: 10 ms a request, in a process of its own) in
front of DynamoDB Local puts the network back. Two tables:

- 200 gets: the ORM's sync API one by one, its async API with 32 in flight on one event
  loop, PynamoDB on a pool of 32 threads (with 32 connections), and aiodynamo with 32 in
  flight; wall time of the 200, in interleaved rounds.
- Event-loop lag: a ticker task sleeps 1 ms over and over and records how late it wakes,
  while 200 tasks keep a get each in flight; the lag is the work that runs between two
  awaits. The ORM's async API against aiodynamo, at the same load.

Needs ``pip install -r benchmarks/requirements.txt`` and DynamoDB Local (as ``nox -s
benchmarks`` starts it).
"""

from __future__ import annotations

import asyncio
import importlib.util
import statistics
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from typing import Any

import boto3
from _dynamo import (
    CREDENTIALS,
    READ_ROWS,
    REGION,
    TRANSACTIONAL_VAR,
    OrmReadings,
    RawReadings,
    client,
    endpoint,
    new_table,
)
from _goals import NotRun
from _latency_proxy import DELAY, latency_proxy
from _lineup import Timing, interleaved
from _point_ops import AsyncOrmReadings, close
from _standings import Claim, Standings
from _versus import round_ratio
from botocore.config import Config

from restmachine_orm_dynamodb import DEFAULT_CONFIG, DynamoDBBackend

TITLES = {
    "gets": f"200 gets through a {DELAY * 1e3:.0f} ms latency proxy, on DynamoDB Local",
    "lag": "Event-loop lag with 200 gets in flight, through the same proxy",
}
GETS = 200
IN_FLIGHT = 32
KEYS = [(sensor, at) for sensor, at, _ in READ_ROWS[:GETS]]
TICK = 0.001  # the ticker's sleep, seconds
#: Connections each async client may keep open (aiohttp's default): under the lag's load of
#: 200, the ORM and aiodynamo queue their requests for the same number of connections.
CONNECTIONS = 100
ORM_SYNC = "restmachine-orm, one by one"
ORM_ASYNC = f"restmachine-orm async, {IN_FLIGHT} in flight"
PYNAMODB = f"PynamoDB, {IN_FLIGHT} threads"
AIODYNAMO = f"aiodynamo, {IN_FLIGHT} in flight"
LAG_ORM, LAG_AIODYNAMO = "restmachine-orm async", "aiodynamo"
REQUIRED = ("pynamodb", "aiodynamo", "aiohttp")

Get = Callable[[str, int], Awaitable[Any]]


def run(quick: bool) -> list[Standings | NotRun]:
    missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    url = endpoint(TITLES["gets"], missing, TRANSACTIONAL_VAR)
    if isinstance(url, NotRun):
        return [url, NotRun(TITLES["lag"], url.reason)]
    import _peer_aiodynamo
    from bench_peers import pynamodb_readings

    raw = client(url)
    backend = new_table(raw)
    table = backend.table_name
    RawReadings(raw, table).create_many(READ_ROWS[:GETS])
    loop = asyncio.new_event_loop()
    stack = AsyncExitStack()
    backends = [backend]
    try:
        with latency_proxy(url) as proxied, ThreadPoolExecutor(IN_FLIGHT) as threads:
            backends.append(DynamoDBBackend(table, client=_pooled(proxied)))
            orm = OrmReadings(backends[-1])  # binds the ORM's Reading model, for both APIs
            orm_get = AsyncOrmReadings().get
            pynamodb = pynamodb_readings(proxied, table, pool=IN_FLIGHT)
            aiodynamo = loop.run_until_complete(
                _peer_aiodynamo.readings(proxied, table, stack, CONNECTIONS)
            )

            def threaded(_: int) -> None:
                list(threads.map(lambda key: pynamodb.get(*key), KEYS))

            gets = {
                ORM_SYNC: lambda _: [orm.get(*key) for key in KEYS],
                ORM_ASYNC: lambda _: loop.run_until_complete(_in_flight(orm_get, IN_FLIGHT)),
                PYNAMODB: threaded,
                AIODYNAMO: lambda _: loop.run_until_complete(_in_flight(aiodynamo.get, IN_FLIGHT)),
            }
            for warm_up in gets.values():  # connections opened, the server's code warmed
                warm_up(-1)
            timings = interleaved(gets, rounds=2 if quick else 7, ops=GETS)
            waited = timings[ORM_SYNC].wall
            assert waited >= DELAY, (
                f"a get one by one took {waited * 1e3:.2f} ms, less than the proxy holds each "
                "request: the requests did not go through it"
            )
            lags = _lags(
                loop,
                {LAG_ORM: orm_get, LAG_AIODYNAMO: aiodynamo.get},
                # The 99th percentile needs ticks by the thousand: a round of 1,600 gets
                # gives each contender about 70 (the loop is busy between them).
                rounds=3 if quick else 20,
                each=2 if quick else 8,
            )
    finally:
        loop.run_until_complete(close(stack, backends))
        loop.close()
        raw.delete_table(TableName=table)
    return [_gets_table(timings), _lag_table(lags)]


def _pooled(url: str) -> Any:
    """A boto3 client configured as the ORM's own, keeping up to ``CONNECTIONS`` open."""
    pooled = DEFAULT_CONFIG.merge(Config(max_pool_connections=CONNECTIONS))
    return boto3.client(
        "dynamodb", endpoint_url=url, region_name=REGION, config=pooled, **CREDENTIALS
    )


async def _in_flight(get: Get, limit: int) -> list[Any]:
    """Every one of ``KEYS``, read with at most ``limit`` gets in flight at once."""
    gate = asyncio.Semaphore(limit)

    async def one(sensor: str, at: int) -> Any:
        async with gate:
            return await get(sensor, at)

    return await asyncio.gather(*(one(*key) for key in KEYS))


async def _ticking_while(work: Awaitable[object]) -> list[float]:
    """How late a 1 ms sleep wakes, each time, while ``work`` runs (seconds)."""
    late: list[float] = []

    async def ticker() -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(TICK)
            late.append(time.perf_counter() - start - TICK)

    ticking = asyncio.create_task(ticker())
    try:
        await work
    finally:
        ticking.cancel()
    return late


async def _busy(get: Get, each: int) -> None:
    """``GETS`` tasks, each reading ``each`` keys one after the other: always 200 in flight."""

    async def task(n: int) -> None:
        for k in range(each):
            await get(*KEYS[(n + k) % GETS])

    await asyncio.gather(*(task(n) for n in range(GETS)))


def _lags(
    loop: asyncio.AbstractEventLoop, gets: dict[str, Get], *, rounds: int, each: int
) -> dict[str, list[float]]:
    """The ticker's lateness under ``_busy`` load, per contender, over interleaved rounds."""
    late: dict[str, list[float]] = {name: [] for name in gets}
    names = list(gets)
    for round_number in range(-1, rounds):  # round -1 warms up, and is left out
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            ticks = loop.run_until_complete(_ticking_while(_busy(gets[name], each)))
            if round_number >= 0:
                late[name] += ticks
    return late


def _gets_table(timings: dict[str, Timing]) -> Standings:
    def ratio(subject: str, other: str) -> float:
        return round_ratio(timings[subject].wall_rounds, timings[other].wall_rounds)

    rows = {
        name: [f"{timing.wall * GETS * 1e3:.0f} ms", f"{timing.cpu * 1e3:.3f} ms"]
        for name, timing in timings.items()
    }
    claims = [
        Claim(ORM_ASYNC, ORM_SYNC, 4.0, faster=True),
        Claim(ORM_ASYNC, PYNAMODB, 1.00),
        Claim(ORM_ASYNC, AIODYNAMO, 1.10),
    ]
    notes = [
        f"Median of {len(next(iter(timings.values())).wall_rounds)} interleaved rounds after "
        "one to warm up; ratios taken round by round. Every get is a consistent GetItem of a "
        "row the others read too.",
        "PynamoDB keeps 32 connections (its default is 10), one per thread; the ORM's client "
        f"and aiodynamo's may keep {CONNECTIONS}.",
    ]
    columns = [f"wall time, {GETS} gets", "client CPU per get"]
    return Standings(TITLES["gets"], columns, rows, claims, ratio, notes)


def _lag_table(lags: dict[str, list[float]]) -> Standings:
    def p99(ticks: list[float]) -> float:
        return statistics.quantiles(ticks, n=100)[98]

    def ratio(subject: str, other: str) -> float:
        return p99(lags[subject]) / p99(lags[other])

    rows = {
        name: [
            f"{len(ticks)}",
            f"{statistics.median(ticks) * 1e3:.2f} ms",
            f"{p99(ticks) * 1e3:.2f} ms",
            f"{max(ticks) * 1e3:.2f} ms",
        ]
        for name, ticks in lags.items()
    }
    notes = [
        f"The ticker sleeps {TICK * 1e3:.0f} ms at a time while {GETS} tasks read rows, each "
        "one after the other; a tick's lag is how much later than asked it woke. The ticks "
        "of every round are pooled, and the goal compares the 99th percentiles.",
    ]
    columns = ["ticks", "p50 lag", "p99 lag", "max lag"]
    return Standings(
        TITLES["lag"], columns, rows, [Claim(LAG_ORM, LAG_AIODYNAMO, 1.20)], ratio, notes
    )
