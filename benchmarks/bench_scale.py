"""The in-memory backend at scale: lookups stay flat from 1k to 1M rows; memory per row.

Two stores of the same model live side by side, one of 1,000 rows and one of 1,000,000,
and every lookup is timed on both in alternating rounds, with a plain dict lookup on dicts
of the same sizes. A lookup is flat when its own cost, the ORM's time minus the dict's
(which pays the cache misses of the larger store), is at most ``FLAT_GOAL`` times as much
on the large store as on the small one.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

from _harness import Row, Table, flat_row, side_by_side
from bench_core import PlainUser, User, user_data

from restmachine_orm import InMemoryBackend

SMALL, LARGE = 1_000, 1_000_000
MEMORY_GOAL = 3.0  # stored rows may take at most 3x what the same pydantic objects take


def _stores(quick: bool) -> tuple[InMemoryBackend, InMemoryBackend, int]:
    large = 100_000 if quick else LARGE
    backends = []
    for size in (SMALL, large):
        backend = InMemoryBackend()
        User.model_backend = backend
        for start in range(0, size, 10_000):
            User.create_many([user_data(i) for i in range(start, min(size, start + 10_000))])
        backends.append(backend)
    return backends[0], backends[1], large


def _lookups(ops: int, size: int) -> dict[str, Callable[[int], None]]:
    """Each lookup on ``size`` rows, run ``ops`` times; keys spread over the whole store."""
    keys = [f"u{(i * 7919) % size}" for i in range(ops)]
    emails = [f"{key}@example.com" for key in keys]

    def get(_: int) -> None:
        for key in keys:
            User.get(id=key)

    def unique(_: int) -> None:
        for email in emails:
            User.where(email=email).first()

    def where_key(_: int) -> None:
        for key in keys:
            User.where(id=key).first()

    return {
        "get(id=...)": get,
        "where(email=...).first()": unique,
        "where(id=...).first()": where_key,
    }


def _flat(small: InMemoryBackend, large: InMemoryBackend, size: int, rounds: int) -> Table:
    ops = 2_000
    table = Table(
        f"In-memory lookups, own cost (ORM time - dict lookup) at {size:,} vs {SMALL:,} rows",
        f"own cost at {size:,}",
        f"at {SMALL:,}",
    )
    dicts = {n: {f"u{i}": user_data(i) for i in range(n)} for n in (SMALL, size)}
    probes = {n: [f"u{(i * 7919) % n}" for i in range(ops)] for n in (SMALL, size)}

    def dict_lookup(n: int) -> Callable[[int], None]:
        store, keys = dicts[n], probes[n]

        def lookups(_: int) -> None:
            for key in keys:
                store[key]

        return lookups

    def bound(name: str, backend: InMemoryBackend, n: int) -> Callable[[int], None]:
        run = _lookups(ops, n)[name]

        def timed(round_number: int) -> None:
            User.model_backend = backend
            run(round_number)

        return timed

    for name in _lookups(ops, SMALL):
        times = side_by_side(
            {
                "orm small": bound(name, small, SMALL),
                "orm large": bound(name, large, size),
                "dict small": dict_lookup(SMALL),
                "dict large": dict_lookup(size),
            },
            rounds=rounds,
            ops=ops,
        )
        pairs = [(times[f"orm {n}"], times[f"dict {n}"]) for n in ("small", "large")]
        table.rows.append(flat_row(name, pairs[0], pairs[1]))
    return table


def _memory(rows: int) -> Table:
    """Bytes per 1k rows: stored in the backend vs the same pydantic objects in a list."""
    data = [user_data(i) for i in range(rows)]

    def traced(build: Callable[[], object]) -> tuple[int, object]:
        gc.collect()
        tracemalloc.start()
        kept = build()
        size = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return size, kept

    def stored() -> object:
        backend = InMemoryBackend()
        User.model_backend = backend
        User.create_many(data)
        return backend

    backend_bytes, _kept = traced(stored)
    plain_bytes, _objects = traced(lambda: [PlainUser(**row) for row in data])
    per = 1_000 / rows
    table = Table("In-memory storage, per 1,000 small rows", "backend", "list of pydantic objects")
    table.rows.append(
        Row(
            f"memory per 1k rows ({rows:,} stored)",
            backend_bytes * per,
            plain_bytes * per,
            goal=MEMORY_GOAL,
            unit="KiB",
        )
    )
    return table


def run(quick: bool) -> list[Table]:
    rounds = 3 if quick else 11
    small, large, size = _stores(quick)
    tables = [_flat(small, large, size, rounds)]
    del small, large
    gc.collect()
    tables.append(_memory(10_000 if quick else 100_000))
    return tables
