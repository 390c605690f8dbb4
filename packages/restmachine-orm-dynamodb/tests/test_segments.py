"""Parallel scans (``Query.segments(n)``) on the test server: same rows, n requests at once.

Oracles are independent of the DynamoDB backend: the in-memory reference backend holding
the same rows (``Twin``), boto3's own scan of the table, and the request counter (an
interceptor that sees each request before it is sent).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from answers import error
from conftest import Requests, scan_all

from restmachine_orm import Field, InMemoryBackend, Model, Query
from restmachine_orm_dynamodb import DynamoDBBackend, DynamoDBError
from restmachine_orm_dynamodb._observe import LOGGER
from restmachine_orm_dynamodb._segments import IN_FLIGHT

SEGMENTS = [1, 3, 8]
NAMES = ["Ann", "bob", "Cyd", "dee", "Ed", "fid", "Gus"]
WAIT = 5.0  # seconds a request waits for the other segments' before the test fails


class Part(Model):
    id: str = Field(primary_key=True)
    n: int = 0
    name: str = ""
    team: str | None = None


class Twin(Model):
    """``Part``'s fields, on the in-memory reference backend."""

    id: str = Field(primary_key=True)
    n: int = 0
    name: str = ""
    team: str | None = None


class Reading(Model):
    sensor: str = Field(partition_key=True)
    at: int = Field(sort_key=True)


class Big(Model):
    """Items of about 90 KB: a dozen fill DynamoDB's 1 MB page of a Scan."""

    id: str = Field(primary_key=True)
    pad: str = ""


ROWS = [
    {"id": f"p{i:03}", "n": i % 17, "name": NAMES[i % 7], "team": ["red", "blue", None][i % 3]}
    for i in range(60)
]

Build = Callable[[type[Model]], Query[Any]]

#: Unordered queries: compared as sets of ids.
UNORDERED: dict[str, Build] = {
    "every row": lambda m: m.where(),
    "server-side filter": lambda m: m.where(n__gte=10),
    "or": lambda m: m.where(team="red").or_(name__startswith="C"),
    "client-side lookup": lambda m: m.where(name__iendswith="D"),
    "no match": lambda m: m.where(name="nobody"),
}
#: Ordered queries: compared as lists.
ORDERED: dict[str, Build] = {
    "filter, order": lambda m: m.where(n__lt=5).order_by("-n", "id"),
    "order, slice": lambda m: m.where().order_by("name", "-id").offset(3).limit(7),
    "client-side, order": lambda m: m.where(name__iexact="ed").order_by("-id"),
}


@pytest.fixture
def parts(bind: Any, reference: InMemoryBackend) -> Iterator[None]:
    """``ROWS`` stored on the test server (``Part``) and in the reference backend (``Twin``)."""
    bind(Part)
    Part.create_many(ROWS)
    Twin.model_backend = reference
    Twin.create_many(ROWS)
    yield
    del Twin.model_backend


def ids(rows: list[Any]) -> list[str]:
    return [row.id for row in rows]


async def collected(query: Query[Any]) -> list[Any]:
    return [row async for row in query]


def outcomes(query: Query[Any], ordered: bool) -> dict[str, Any]:
    """Every way of reading ``query``, sync and async, as comparable values."""

    def shaped(rows: list[Any]) -> Any:
        return ids(rows) if ordered else sorted(ids(rows))

    return {
        "all": shaped(query.all()),
        "iteration": shaped(list(query)),
        "count": query.count(),
        "exists": query.exists(),
        "aall": shaped(asyncio.run(query.aall())),
        "async for": shaped(asyncio.run(collected(query))),
        "acount": asyncio.run(query.acount()),
        "aexists": asyncio.run(query.aexists()),
    }


# -- the same rows and counts as the reference ------------------------------------------


@pytest.mark.usefixtures("parts")
@pytest.mark.parametrize("segments", SEGMENTS)
@pytest.mark.parametrize("name", list(UNORDERED))
def test_unordered_reads_give_the_reference_rows(name: str, segments: int) -> None:
    build = UNORDERED[name]
    expected = outcomes(build(Twin), ordered=False)
    assert outcomes(build(Part).segments(segments), ordered=False) == expected


@pytest.mark.usefixtures("parts")
@pytest.mark.parametrize("segments", SEGMENTS)
@pytest.mark.parametrize("name", list(ORDERED))
def test_ordered_reads_give_the_reference_rows_in_order(name: str, segments: int) -> None:
    build = ORDERED[name]
    expected = outcomes(build(Twin), ordered=True)
    assert outcomes(build(Part).segments(segments), ordered=True) == expected


@pytest.mark.usefixtures("parts")
@pytest.mark.parametrize("segments", SEGMENTS)
def test_a_limit_without_order_gives_that_many_matching_rows(segments: int) -> None:
    # Without an ordering, which rows come first is the backend's (and the segments') own.
    matching = set(ids(Twin.where(n__gte=3).all()))
    query = Part.where(n__gte=3).segments(segments).limit(9)
    rows = ids(query.all())
    assert len(rows) == len(set(rows)) == 9 and set(rows) <= matching
    assert query.count() == 9 and asyncio.run(query.acount()) == 9
    assert query.offset(len(matching) - 2).count() == 2


@pytest.mark.usefixtures("parts")
@pytest.mark.parametrize("segments", SEGMENTS)
def test_every_row_is_what_boto3_scans(
    backend: DynamoDBBackend, second_client: Any, segments: int
) -> None:
    items = scan_all(second_client, backend.table_name)
    stored = sorted(i["id"]["S"] for i in items if i.get(backend.keys.entity) == {"S": "Part"})
    assert len(stored) == len(ROWS)
    assert sorted(ids(Part.where().segments(segments).all())) == stored
    assert Part.where().segments(segments).count() == len(stored)


# -- requests -----------------------------------------------------------------------------


def scans(requests: Requests) -> list[dict[str, Any]]:
    return [body for operation, body in requests.sent if operation == "Scan"]


@pytest.mark.parametrize("segments", SEGMENTS)
def test_each_segment_of_a_small_scan_is_one_request(
    bind: Any, requests: Requests, segments: int
) -> None:
    bind(Part)
    Part.create_many(ROWS[:12])
    reads: dict[str, Callable[[Query[Any]], object]] = {
        "all": Query.all,
        "count": Query.count,
        "aall": lambda q: asyncio.run(q.aall()),
        "acount": lambda q: asyncio.run(q.acount()),
    }
    for read in reads.values():
        requests.reset()
        read(Part.where(n__gte=0).segments(segments))
        assert requests.operations == ["Scan"] * segments
        sent = scans(requests)
        if segments == 1:
            assert all("Segment" not in body and "TotalSegments" not in body for body in sent)
        else:
            assert sorted(body["Segment"] for body in sent) == list(range(segments))
            assert {body["TotalSegments"] for body in sent} == {segments}
    requests.reset()
    Part.where().segments(segments).count()
    assert {body.get("Select") for body in scans(requests)} == {"COUNT"}


def test_reads_that_do_not_scan_ignore_segments(bind: Any, requests: Requests) -> None:
    bind(Part, Reading)
    Part.create_many(ROWS[:5])
    Reading.create_many([{"sensor": "a", "at": i} for i in range(5)])
    requests.reset()
    assert ids(Part.where(id="p002").segments(4).all()) == ["p002"]
    assert [r.at for r in Reading.where(sensor="a", at__gte=2).segments(4)] == [2, 3, 4]
    assert Reading.where(sensor="a").segments(4).count() == 5
    assert requests.operations == ["GetItem", "Query", "Query"]
    assert all("Segment" not in body for _, body in requests.sent)


def test_at_most_in_flight_segments_are_read_at_once(bind: Any, requests: Requests) -> None:
    # Many segments of a small table: each answers in one page, so the first round is
    # what the bound lets through, and the rest follow in later rounds.
    bind(Part)
    Part.create_many(ROWS[:12])
    total = IN_FLIGHT + 8
    requests.reset()
    rows = iter(Part.where().segments(total))
    first = next(rows)
    assert len(scans(requests)) == IN_FLIGHT  # 12 rows in 40 segments: some in the first 32
    assert sorted(ids([first, *rows])) == sorted(row["id"] for row in ROWS[:12])
    assert len(scans(requests)) == total


# -- streaming ----------------------------------------------------------------------------

BIG_ITEMS = 40  # about 3.6 MB: more than one page for some segment, whatever the split


@pytest.fixture
def big(bind: Any) -> None:
    bind(Big)
    for start in range(0, BIG_ITEMS, 10):
        Big.create_many([{"id": f"b{i:03}", "pad": "x" * 90_000} for i in range(start, start + 10)])


@pytest.mark.usefixtures("big")
@pytest.mark.parametrize("segments", [2, 3])
def test_iteration_gives_the_first_round_before_reading_the_next(
    requests: Requests, segments: int
) -> None:
    requests.reset()
    rows = iter(Big.where().segments(segments))
    first = next(rows)
    assert len(scans(requests)) == segments  # one page of each segment, nothing more yet
    rest = list(rows)
    assert len({first.id, *ids(rest)}) == BIG_ITEMS
    assert len(scans(requests)) > segments  # the pages did split: a round held only part


@pytest.mark.usefixtures("big")
def test_async_iteration_gives_the_first_round_before_reading_the_next(
    requests: Requests,
) -> None:
    async def read() -> tuple[int, int]:
        rows = Big.where().segments(3).__aiter__()
        await rows.__anext__()
        after_first = len(scans(requests))
        rest = [row async for row in rows]
        return after_first, len(rest) + 1

    requests.reset()
    after_first, total = asyncio.run(read())
    assert (after_first, total) == (3, BIG_ITEMS)
    assert len(scans(requests)) > 3


@pytest.mark.usefixtures("big")
def test_a_count_pages_every_segment_to_its_end(requests: Requests) -> None:
    requests.reset()
    assert Big.where().segments(3).count() == BIG_ITEMS
    sent = scans(requests)
    assert len(sent) > 3
    assert {body["Segment"] for body in sent} == {0, 1, 2}


# -- concurrency ----------------------------------------------------------------------------


@pytest.mark.usefixtures("parts")
@pytest.mark.parametrize("read", ["all", "count"])
def test_the_sync_runner_sends_the_segments_at_once(inject: Any, read: str) -> None:
    barrier = threading.Barrier(4, timeout=WAIT)

    def hold(operation: str, body: dict[str, Any]) -> None:
        if operation == "Scan":
            barrier.wait()  # passes only when all four segments' requests wait here
        return None

    inject(hold)
    query = Part.where(n__gte=0).segments(4)
    result = query.all() if read == "all" else query.count()
    assert (len(result) if read == "all" else result) == len(ROWS)


class Events(logging.Handler):
    """Records, in one list, each request as sent (an interceptor) and as answered (its log)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []

    def sent(self, operation: str, body: dict[str, Any]) -> None:
        self.seen.append(f"sent {operation}")

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(f"answered {record.dynamodb['operation']}")


@pytest.mark.usefixtures("parts")
@pytest.mark.parametrize("read", ["aall", "acount"])
def test_the_async_runner_sends_the_segments_before_any_answer(
    inject: Any, caplog: pytest.LogCaptureFixture, read: str
) -> None:
    events = Events()
    inject(events.sent)
    caplog.set_level(logging.DEBUG, logger=LOGGER.name)
    LOGGER.addHandler(events)
    try:
        asyncio.run(getattr(Part.where(n__gte=0).segments(4), read)())
    finally:
        LOGGER.removeHandler(events)
    assert events.seen == ["sent Scan"] * 4 + ["answered Scan"] * 4


# -- errors ---------------------------------------------------------------------------------


def failures(query: Query[Any]) -> list[Exception]:
    """What each way of reading ``query`` raised (each must raise)."""
    reads: list[Callable[[], object]] = [
        query.all,
        lambda: list(query),
        query.count,
        query.exists,
        lambda: asyncio.run(query.aall()),
        lambda: asyncio.run(query.acount()),
    ]
    raised = []
    for read in reads:
        with pytest.raises(Exception) as caught:
            read()
        raised.append(caught.value)
    return raised


def test_a_missing_table_raises_what_a_plain_scan_raises(
    backend: DynamoDBBackend, bind: Any
) -> None:
    bind(Part)
    missing = DynamoDBBackend("restmachine-orm-no-such-table", client=backend.client)
    Part.model_backend = missing
    try:
        plain = failures(Part.where(n__gte=0))
        assert all(isinstance(error, DynamoDBError) for error in plain)
        for segments in (3, 8):
            split = failures(Part.where(n__gte=0).segments(segments))
            assert [(type(e), str(e)) for e in split] == [(type(e), str(e)) for e in plain]
    finally:
        missing.close()


@pytest.mark.usefixtures("parts")
def test_the_first_failing_segment_is_the_error_raised(inject: Any) -> None:
    def refuse(operation: str, body: dict[str, Any]) -> Any:
        if body.get("Segment") in (1, 3):
            return error("ValidationException", f"segment {body['Segment']} refused")
        return None

    inject(refuse)
    for raised in failures(Part.where(n__gte=0).segments(4)):
        assert isinstance(raised, DynamoDBError)
        assert "segment 1 refused" in str(raised)
