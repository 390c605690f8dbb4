"""A bounded soak: 4 threads x 5,000 mixed operations, then the final state against an oracle.

Each thread creates, reads, saves and deletes rows of its own key range, keeping an oracle
of what it wrote; all threads also claim unique handles from one small shared pool, and
increment one shared, versioned counter (retrying on ``ConcurrentModificationError``), so
writers collide all the time. At the end every stored row must be exactly the oracle's,
the counts exact, the counter equal to the number of increments, and no handle held twice.

Runs on the in-memory backend and on a DynamoDB server with transactions: the one at
``RESTMACHINE_ORM_BENCH_TRANSACTIONAL_ENDPOINT`` (``nox -s benchmarks`` starts DynamoDB
Local), else an embedded moto server.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from _dynamo import TRANSACTIONAL_VAR, client, new_table
from _goals import Verdict

from restmachine_orm import (
    Backend,
    ConcurrentModificationError,
    DuplicateKeyError,
    Field,
    InMemoryBackend,
    Model,
)
from restmachine_orm_dynamodb import DynamoDBBackend

THREADS = 4
HANDLES = 40  # the shared pool of unique values every thread competes for


class SoakItem(Model):
    id: str = Field(primary_key=True)
    handle: str | None = Field(None, unique=True)
    n: int = 0
    note: str = ""


class SoakCounter(Model):
    id: str = Field(primary_key=True)
    total: int = 0
    version: int = Field(version=True)


@dataclass
class Worker:
    """One thread's operations, its oracle, and how long each operation took."""

    number: int
    ops: int
    rows: dict[str, tuple[str | None, int, str]] = field(default_factory=dict)
    increments: int = 0
    latencies: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def run(self, start: threading.Barrier) -> None:
        rng = random.Random(self.number)
        start.wait()
        for step in range(self.ops):
            kind = rng.choices(
                ["create", "get", "save", "claim", "delete", "count", "increment"],
                weights=[25, 25, 15, 10, 10, 5, 10],
            )[0]
            began = time.perf_counter()
            try:
                getattr(self, kind)(rng, step)
            except Exception as error:  # every failure is reported, none is expected
                self.failures.append(f"{kind}: {type(error).__name__}: {error}")
            self.latencies.append(time.perf_counter() - began)
            self.kinds[kind] += 1

    def _mine(self, rng: random.Random) -> str | None:
        return rng.choice(sorted(self.rows)) if self.rows else None

    def _my_row(self, rng: random.Random) -> SoakItem | None:
        """One of this writer's rows, read back (only it writes them: it must be there)."""
        key = self._mine(rng)
        if key is None:
            return None
        item = SoakItem.get(id=key)
        assert item is not None, key
        return item

    def create(self, rng: random.Random, step: int) -> None:
        key = f"w{self.number}-{step}"
        SoakItem.create(id=key, n=step, note=f"created {step}")
        self.rows[key] = (None, step, f"created {step}")

    def get(self, rng: random.Random, step: int) -> None:
        key = self._mine(rng)
        if key is None:
            return
        found = SoakItem.get(id=key)
        expected = self.rows[key]
        if found is None or (found.handle, found.n, found.note) != expected:
            self.failures.append(f"get {key}: read {found}, wrote {expected}")

    def save(self, rng: random.Random, step: int) -> None:
        item = self._my_row(rng)
        if item is None:
            return
        item.n, item.note = item.n + 1, f"saved {step}"
        item.save()
        self.rows[item.id] = (item.handle, item.n, item.note)

    def claim(self, rng: random.Random, step: int) -> None:
        item = self._my_row(rng)
        if item is None:
            return
        item.handle = f"handle-{rng.randrange(HANDLES)}"
        try:
            item.save()
        except DuplicateKeyError:
            return  # another row holds it: nothing was written
        self.rows[item.id] = (item.handle, item.n, item.note)

    def delete(self, rng: random.Random, step: int) -> None:
        item = self._my_row(rng)
        if item is None:
            return
        item.delete()
        del self.rows[item.id]

    def count(self, rng: random.Random, step: int) -> None:
        SoakItem.where(n__gte=step).count()

    def increment(self, rng: random.Random, step: int) -> None:
        while True:
            counter = SoakCounter.get(id="shared")
            assert counter is not None
            counter.total += 1
            try:
                counter.save()
                break
            except ConcurrentModificationError:
                continue
        self.increments += 1


@dataclass
class Soak:
    """The outcome of one soak on one backend."""

    backend: str
    ops: int
    seconds: float
    latencies: list[float]
    problems: list[str]

    @property
    def throughput(self) -> float:
        return self.ops / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def soak(name: str, backend: Backend, ops: int) -> Soak:
    SoakItem.model_backend = SoakCounter.model_backend = backend
    SoakCounter.create(id="shared")
    workers = [Worker(number, ops) for number in range(THREADS)]
    start = threading.Barrier(THREADS + 1)
    threads = [threading.Thread(target=w.run, args=(start,)) for w in workers]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    problems = [problem for worker in workers for problem in worker.failures]
    problems += verify(workers)
    latencies = [latency for worker in workers for latency in worker.latencies]
    return Soak(name, THREADS * ops, seconds, latencies, problems)


def verify(workers: list[Worker]) -> list[str]:
    """Compare the final state with the oracles: rows, counts, counter, unique handles."""
    problems = []
    oracle = {key: row for worker in workers for key, row in worker.rows.items()}
    stored = {item.id: (item.handle, item.n, item.note) for item in SoakItem.all()}
    lost = sorted(oracle.keys() - stored.keys())
    extra = sorted(stored.keys() - oracle.keys())
    wrong = sorted(k for k in oracle.keys() & stored.keys() if oracle[k] != stored[k])
    for label, keys in (("lost", lost), ("not deleted", extra), ("differ", wrong)):
        if keys:
            problems.append(f"{len(keys)} rows {label}: {keys[:5]}")
    if SoakItem.where().count() != len(oracle):
        problems.append(f"count() is {SoakItem.where().count()}, the oracle holds {len(oracle)}")
    handles = [row[0] for row in oracle.values() if row[0] is not None]
    if len(handles) != len(set(handles)):
        problems.append("a handle is held by two rows")
    for handle in set(handles):
        if [item.id for item in SoakItem.where(handle=handle)] != [
            key for key, row in oracle.items() if row[0] == handle
        ]:
            problems.append(f"where(handle={handle!r}) does not find its one row")
    counter = SoakCounter.get(id="shared")
    increments = sum(worker.increments for worker in workers)
    if counter is None or counter.total != increments or counter.version != increments + 1:
        problems.append(f"counter is {counter}, after {increments} increments")
    return problems


class SoakTable:
    """The soak results, printed as a Markdown table."""

    def __init__(self, results: list[Soak]) -> None:
        self.results = results

    @property
    def title(self) -> str:
        return f"Soak: {THREADS} threads x {self.results[0].ops // THREADS:,} mixed operations"

    def verdicts(self) -> list[Verdict]:
        """One goal per backend: the final state is exactly the oracle's."""
        return [
            Verdict(
                self.title,
                f"{result.backend}, final state vs oracle",
                "exact" if not result.problems else f"{len(result.problems)} problems",
                "exact",
                not result.problems,
            )
            for result in self.results
        ]

    def markdown(self) -> str:
        lines = [
            f"### {self.title}",
            "",
            "| backend | ops | ops/s | p50 | p99 | final state vs oracle |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for result in self.results:
            verdict = "exact" if not result.problems else "; ".join(result.problems[:3])
            lines.append(
                f"| {result.backend} | {result.ops:,} | {result.throughput:,.0f} "
                f"| {result.percentile(0.5) * 1e3:.3f} ms | {result.percentile(0.99) * 1e3:.3f} ms "
                f"| {verdict} |"
            )
        return "\n".join(lines) + "\n"


def _dynamodb() -> tuple[str, DynamoDBBackend, Callable[[], None]]:
    """A fresh table on the transactional server (or an embedded moto), and how to stop."""
    url = os.environ.get(TRANSACTIONAL_VAR)
    label, stop = "DynamoDB Local", None
    if not url:
        from restmachine_orm_dynamodb._moto import EmbeddedMoto

        server = EmbeddedMoto()
        url, stop, label = server.start(), server.stop, "moto (embedded)"
    raw = client(url)
    backend = new_table(raw)

    def done() -> None:
        raw.delete_table(TableName=backend.table_name)
        if stop is not None:
            stop()

    return f"dynamodb on {label}", backend, done


def run(quick: bool) -> list[SoakTable]:
    ops = 250 if quick else 5_000
    results = [soak("inmemory", InMemoryBackend(), ops)]
    name, backend, stop = _dynamodb()
    try:
        results.append(soak(name, backend, ops))
    finally:
        stop()
    for result in results:
        print(f"soak on {result.backend}: {statistics.fmean(result.latencies) * 1e3:.3f} ms mean")
    return [SoakTable(results)]
