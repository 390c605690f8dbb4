"""Parallel scans: a 50k-item scan and count on DynamoDB Local with 1, 4 and 8 segments.

``Query.segments(n)`` reads a Scan as ``n`` segments at once (the sync API on threads).
Each figure is timed beside the sequential one, the same query without ``segments()``, in
the same interleaved rounds, and shown as the median of the round-by-round ratios to it.

No goal is set: DynamoDB Local answers on the same two cores as the client, so a parallel
scan mostly shares the server's CPU among its segments, and what it gains there says
little of what it gains on DynamoDB, where each segment is served apart. The table reports
the figures, and how many Scan requests each read sends (one untimed run).

Runs on the server at ``RESTMACHINE_ORM_BENCH_TRANSACTIONAL_ENDPOINT`` (DynamoDB Local
under ``nox``; dynalite may lack ``Segment``): the items are written by ``create_many``,
which needs transactions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from _dynamo import TRANSACTIONAL_VAR, Reading, client, endpoint, new_table
from _goals import NotRun, Verdict
from _lineup import Timing, interleaved
from _versus import round_ratio

from restmachine_orm import Query

ITEMS = 50_000
QUICK_ITEMS = 5_000
CHUNK = 5_000  # rows per create_many call
PARTITIONS = 1_000  # a segment is a range of partition keys: spread the items over many
SEQUENTIAL = "sequential (no segments())"
COUNTS = (1, 4, 8)
TITLE = "Parallel scans on DynamoDB Local"


@dataclass
class Figures:
    """A titled table of figures, with no goal to judge."""

    title: str
    columns: list[str]
    rows: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        """The figures, then the notes."""
        lines = [
            f"### {self.title}",
            "",
            f"| read | {' | '.join(self.columns)} |",
            f"|---|{'---:|' * len(self.columns)}",
            *(f"| {name} | {' | '.join(cells)} |" for name, cells in self.rows.items()),
        ]
        lines += ["", *(f"- {note}" for note in self.notes)] if self.notes else []
        return "\n".join(lines) + "\n"

    def verdicts(self) -> list[Verdict]:
        """None: these figures are reported, not judged."""
        return []


def _queries() -> dict[str, Query[Reading]]:
    plain = Reading.where()
    return {SEQUENTIAL: plain, **{f"segments({n})": plain.segments(n) for n in COUNTS}}


def _iterate(query: Query[Reading], items: int) -> Callable[[int], None]:
    def read(_: int) -> None:
        seen = sum(1 for _ in query)
        assert seen == items, seen

    return read


def _count(query: Query[Reading], items: int) -> Callable[[int], None]:
    def read(_: int) -> None:
        counted = query.count()
        assert counted == items, counted

    return read


def _scans(backend: Any, read: Callable[[int], None]) -> int:
    """How many Scan requests one run of ``read`` sends (untimed: it also warms up)."""
    sent: list[str] = []

    def note(operation: str, _: dict[str, Any]) -> None:
        sent.append(operation)  # list.append is atomic: segments' threads may call at once

    backend.interceptors.append(note)
    try:
        read(-1)
    finally:
        backend.interceptors.remove(note)
    return sent.count("Scan")


def run(quick: bool) -> list[Figures | NotRun]:
    url = endpoint(TITLE, variable=TRANSACTIONAL_VAR)
    if isinstance(url, NotRun):
        return [url]
    raw = client(url)
    backend = new_table(raw)
    Reading.model_backend = backend
    items = QUICK_ITEMS if quick else ITEMS
    try:
        for start in range(0, items, CHUNK):
            Reading.create_many(
                [
                    {"sensor": f"s{i % PARTITIONS}", "at": i, "value": i}
                    for i in range(start, min(items, start + CHUNK))
                ]
            )
        queries = _queries()
        iterations = {name: _iterate(query, items) for name, query in queries.items()}
        counts = {name: _count(query, items) for name, query in queries.items()}
        requests = {
            name: (_scans(backend, iterations[name]), _scans(backend, counts[name]))
            for name in queries
        }
        rounds = 2 if quick else 7
        iterated = interleaved(iterations, rounds=rounds, ops=1)
        counted = interleaved(counts, rounds=rounds, ops=1)
    finally:
        raw.delete_table(TableName=backend.table_name)
    return [_table(items, requests, iterated, counted)]


def _table(
    items: int,
    requests: dict[str, tuple[int, int]],
    iterated: dict[str, Timing],
    counted: dict[str, Timing],
) -> Figures:
    def versus(timings: dict[str, Timing], name: str) -> str:
        ratio = round_ratio(timings[name].wall_rounds, timings[SEQUENTIAL].wall_rounds)
        return f"{ratio:.2f}x"

    rows = {
        name: [
            f"{requests[name][0]} / {requests[name][1]}",
            f"{iterated[name].wall * 1e3:.0f} ms",
            versus(iterated, name),
            f"{iterated[name].cpu * 1e3:.0f} ms",
            f"{counted[name].wall * 1e3:.0f} ms",
            versus(counted, name),
        ]
        for name in iterated
    }
    columns = [
        "Scan requests (iterate / count)",
        "iterate, wall",
        "vs sequential",
        "iterate, client CPU",
        "count, wall",
        "vs sequential",
    ]
    notes = [
        f"Median of {len(iterated[SEQUENTIAL].wall_rounds)} interleaved rounds after one "
        "untimed run (which counts the requests); ratios taken round by round, below 1.00x "
        "is faster. The garbage collector stays on.",
        f"Iterating builds every one of the {items:,} instances; a count sends "
        "`Select=COUNT`, so no item travels. Segments are read in rounds of one page each, "
        "so iterating holds at most one page per segment.",
        "No goal: the server shares the client's two cores, so segments compete for the "
        "same CPU here, unlike on DynamoDB.",
    ]
    return Figures(f"{TITLE}: {items:,} items, 1, 4 and 8 segments", columns, rows, notes)
