"""In-memory backends with one guarantee broken, for proving that the suite's tests catch it.

Each subclasses ``InMemoryBackend`` and changes only what breaks its guarantee. Where that
is a race, a pause of 10 ms (a slow write to a networked store) opens the window between
check and write, wide enough that racing writers meet in it even on a loaded machine.
``AsyncOnly`` breaks nothing: it serves only the awaitable twins, so only tests that reach
the backend through them can pass on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import math
import socket
import time

from restmachine_orm import (
    Backend,
    BackendError,
    InMemoryBackend,
    NotFoundError,
    TransactionError,
    WriteOutcomeUnknownError,
)
from restmachine_orm.faults import ATTEMPTS, operation_of
from restmachine_orm.query import compile_filter, split_filter
from restmachine_orm.query.changes import apply_change, is_computed
from restmachine_orm.query.expiry import live_spec
from restmachine_orm.schema import TEXT_MATCH_LOOKUPS
from restmachine_orm_testing import InMemoryDriver

PAUSE = 0.01


class Unlocked(InMemoryBackend):
    """Checks and writes are separate steps: no lock holds them together."""

    def __init__(self):
        super().__init__()
        self._lock = contextlib.nullcontext()

    def _store(self, *args, **kwargs):
        time.sleep(PAUSE)  # after every check, before the write
        super()._store(*args, **kwargs)


class TornSaves(InMemoryBackend):
    """A save writes its changed fields one at a time, each atomically, not all at once.

    In no fixed order (every other save goes the other way), as a store writing fields
    independently would: savers stepping in lockstep would otherwise each write last in
    every field alike, and leave one save whole by luck.
    """

    def __init__(self):
        super().__init__()
        self._saves = itertools.count()

    def update(self, schema, key, changes, previous=None):
        names = sorted(changes, reverse=next(self._saves) % 2 == 1)
        for name in names:
            row = super().update(schema, key, {name: changes[name]}, previous)
            time.sleep(PAUSE)
        return row


class VersionBlind(InMemoryBackend):
    """Optimistic locking ignored: a write from a stale version goes through."""

    @staticmethod
    def _check_version(schema, key, old, expected):
        pass


class ConditionBlind(InMemoryBackend):
    """Conditional writes ignore their condition: every save and delete goes through."""

    def update(self, schema, key, changes, previous=None, *, condition=None):
        return super().update(schema, key, changes, previous)

    def delete(self, schema, key, previous=None, *, condition=None):
        super().delete(schema, key, previous)


class LostIncrements(InMemoryBackend):
    """An atomic update done as read, compute, write: nothing holds the three together."""

    def update(self, schema, key, changes, previous=None, *, condition=None):
        if any(is_computed(change) for change in changes.values()):
            stored = self.get(schema, key)
            if stored is None:
                raise NotFoundError(schema.name, schema.key_dict(key))
            time.sleep(PAUSE)  # between the read and the write
            changes = {name: apply_change(stored.get(name), c) for name, c in changes.items()}
        return super().update(schema, key, changes, previous, condition=condition)


class TornTransactions(InMemoryBackend):
    """A transaction applied an action at a time, each atomically, stopping at a refusal."""

    def transact(self, actions):
        rows = []
        for number, action in enumerate(actions):
            try:
                rows.append(super().transact([action])[0])
            except TransactionError as refused:
                after = [None] * (len(actions) - number - 1)
                raise TransactionError([None] * number + refused.reasons + after) from None
        return rows


class TransactionConditionsIgnored(InMemoryBackend):
    """A transaction's actions are written without their conditions."""

    def transact(self, actions):
        return super().transact([dataclasses.replace(a, condition=None) for a in actions])


class UnlockedTransactions(InMemoryBackend):
    """A transaction's actions are judged, then written: no lock holds the two together."""

    def transact(self, actions):
        with self._lock:
            planned = self._judge(actions)
        time.sleep(PAUSE)  # between the checks and the writes
        with self._lock:
            return self._apply(actions, planned)


class UnlockedOffTheLoop(Unlocked):
    """``Unlocked``, served to the async API from worker threads, as a sync-only backend is:
    tasks racing on one loop run its check and write in parallel."""

    blocking = True


class BlockingOnTheLoop(InMemoryBackend):
    """Its awaitable create talks to a server with a blocking socket, on the loop's thread."""

    def __init__(self):
        super().__init__()
        self.server = socket.create_server(("127.0.0.1", 0))

    async def ainsert(self, schema, row):
        with socket.create_connection(self.server.getsockname(), timeout=5):
            pass
        super().insert(schema, row)

    def close(self):
        self.server.close()


class PooledBlockingOnTheLoop(BlockingOnTheLoop):
    """Its awaitable get sends on a connection opened earlier, off the loop (a pooled one)."""

    def __init__(self):
        super().__init__()
        self.pooled = socket.create_connection(self.server.getsockname(), timeout=5)

    async def aget(self, schema, key):
        self.pooled.sendall(b"GET")
        return super().get(schema, key)

    def close(self):
        self.pooled.close()
        super().close()


class ClaimsBeforeAwaiting(InMemoryBackend):
    """Its awaitable create claims the unique values (a placeholder row holding them), awaits
    a request's time, then swaps in the row: cancelled in between, the claim is orphaned."""

    async def ainsert(self, schema, row):
        claim = {**row, **{name: f"claim-{row[name]}" for name in schema.key_fields}}
        self.insert(schema, claim)
        await asyncio.sleep(PAUSE)
        self.delete(schema, schema.key_of(claim))
        self.insert(schema, row)


class AsyncOnly(Backend):
    """The in-memory backend behind awaitable twins only: every sync call is refused."""

    capabilities = InMemoryBackend.capabilities

    def __init__(self):
        self.store = InMemoryBackend()

    async def ainsert(self, schema, row):
        self.store.insert(schema, row)

    async def aget(self, schema, key):
        return self.store.get(schema, key)

    async def aupdate(self, schema, key, changes, previous=None, **options):
        return self.store.update(schema, key, changes, previous, **options)

    async def aupsert(self, schema, row):
        return self.store.upsert(schema, row)

    async def adelete(self, schema, key, previous=None, **options):
        self.store.delete(schema, key, previous, **options)

    async def aquery(self, spec):
        for row in self.store.query(spec):
            yield row

    async def acount(self, spec):
        return self.store.count(spec)

    async def aexists(self, spec):
        return self.store.exists(spec)

    async def aclear(self, schema=None):
        self.store.clear(schema)

    async def ainsert_many(self, schema, rows):
        self.store.insert_many(schema, rows)

    async def aget_many(self, schema, keys):
        return self.store.get_many(schema, keys)

    async def atransact(self, actions):
        return self.store.transact(actions)


def driver_of(backend_class):
    """A driver class for one of these backends, as the plugin makes drivers."""

    class Driver(InMemoryDriver):
        def __init__(self):
            self.backend = backend_class()

        def reset(self, models):
            # Around the backend's API: an async-only backend refuses the sync clear().
            store = getattr(self.backend, "store", self.backend)
            for model in models:
                store.clear(model.orm_schema())

        def close(self):
            getattr(self.backend, "close", lambda: None)()

    return Driver


def _timeless(schema):
    """The model's facts without its expiry field: what a backend blind to TTL sees."""
    return dataclasses.replace(schema, ttl_field=None)


class ExpiredRowsRead(InMemoryBackend):
    """Reads ignore expiry: an expired row is still returned (writes still see it gone)."""

    def get(self, schema, key):
        return super().get(_timeless(schema), key)

    def query(self, spec):
        return super().query(dataclasses.replace(spec, schema=_timeless(spec.schema)))

    def count(self, spec):
        return super().count(dataclasses.replace(spec, schema=_timeless(spec.schema)))

    def exists(self, spec):
        return super().exists(dataclasses.replace(spec, schema=_timeless(spec.schema)))


class ExpiredRowsKept(InMemoryBackend):
    """Writes meet an expired row as if it were live: its key and unique values stay taken."""

    def _live_row(self, schema, table, key):
        return table.rows.get(key)


def _server_side_only(spec):
    """The query less its text-match conditions: what a backend that tests them after
    reading (DynamoDB) would answer if it forgot to."""
    kept, _ = split_filter(spec.filter, lambda cond: cond.lookup not in TEXT_MATCH_LOOKUPS)
    return dataclasses.replace(spec, filter=kept)


class TextMatchIgnored(InMemoryBackend):
    """Reads drop ``endswith`` and the case-insensitive lookups from the filter."""

    def query(self, spec):
        return super().query(_server_side_only(spec))

    def count(self, spec):
        return super().count(_server_side_only(spec))

    def exists(self, spec):
        return super().exists(_server_side_only(spec))


class ExpiredAlwaysHidden(InMemoryBackend):
    """Reads ignore ``include_expired()``: expired rows the backend holds stay hidden."""

    def query(self, spec):
        return super().query(dataclasses.replace(spec, include_expired=False))

    def count(self, spec):
        return super().count(dataclasses.replace(spec, include_expired=False))

    def exists(self, spec):
        return super().exists(dataclasses.replace(spec, include_expired=False))


class KeyOrderIgnored(InMemoryBackend):
    """A read in natural order comes in the order rows were written, not in key order.

    As a store that keeps rows in insertion order (a table with no clustered key) would:
    a read pinning a partition or an index partition is no longer in sort key order.
    """

    def query(self, spec):
        if spec.order:
            return super().query(spec)
        # The reference's selection, less its key order: filter and slice as rows come.
        spec = live_spec(spec)
        rows = self._candidates(spec)
        if spec.filter is not None:
            matches = compile_filter(spec.filter)
            rows = [row for row in rows if matches(row)]
        stop = None if spec.limit is None else spec.offset + spec.limit
        return iter(rows[spec.offset : stop])


class _Faulty(InMemoryBackend):
    """Acts faults out with one part of the reference's handling left out (``broken``).

    The methods named in ``served`` get a plain re-telling of the reference's tries (see
    ``restmachine_orm.faults.call_with_faults``); ``retries`` and ``recognises`` say
    whether throttled tries are retried and whether a retry knows its own landed write.
    """

    served = ("insert", "get", "update", "delete")
    retries = True
    recognises = True

    def inject_faults(self, plan):
        super().inject_faults(plan)
        if plan is not None:
            for method in self.served:
                reference = getattr(InMemoryBackend, method).__get__(self)
                setattr(self, method, self._serve(plan, method, reference))

    def _serve(self, plan, method, apply):
        def served(schema, *args, **options):
            previous = args[2] if method == "update" and len(args) > 2 else None
            operation = operation_of(method, previous=previous)
            landed = []
            for attempt in range(ATTEMPTS):
                fault = plan.next(operation, schema.name, retry=attempt > 0)
                time.sleep(plan.delay)
                kind = None if fault is None else fault.kind
                if kind in ("throttle", "fail"):
                    if not self.retries:
                        break
                    continue
                if landed and self.recognises:
                    if method == "delete":
                        key = schema.key_dict(args[0])
                        raise WriteOutcomeUnknownError(schema.name, key, operation)
                    result = landed[0]
                else:
                    result = apply(schema, *args, **options)
                if kind != "lose_response":
                    return result
                landed[:] = [result]
            if landed:
                raise WriteOutcomeUnknownError(schema.name, {}, operation)
            raise BackendError(f"{operation} of {schema.name} failed")

        return served


class BlindRetries(_Faulty):
    """A write whose answer was lost is sent again as if new: the retry applies it again."""

    recognises = False


class NoRetries(_Faulty):
    """A throttled or failed request is final: nothing tries it again."""

    retries = False


class LeftoversDropped(_Faulty):
    """A batch's unprocessed part is never sent again: those rows are neither read nor stored."""

    served = ("insert_many", "get_many")

    def _serve(self, plan, method, apply):
        def served(schema, items):
            fault = plan.next(operation_of(method), schema.name, batch=True)
            if fault is None:
                return apply(schema, items)
            kept = max(1, len(items) - math.ceil(len(items) * fault.fraction))
            done = apply(schema, items[:kept])
            return None if done is None else done + [None] * (len(items) - kept)

        return served
