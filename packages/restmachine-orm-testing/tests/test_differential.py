"""The differential machines catch a backend that differs from the oracle, on either key.

Their oracle (``suite._reference``) shares no code with what it checks, so a bug in the
code every backend runs (ordering, offset and limit in ``select_rows``) is caught too.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from broken_backends import ExpiredRowsKept, ExpiredRowsRead, TornTransactions
from hypothesis import Phase, settings

import restmachine_orm.backends.inmemory
import restmachine_orm_testing.suite
from restmachine_orm import InMemoryBackend
from restmachine_orm.backends.base import Row
from restmachine_orm.query import QuerySpec, select_rows
from restmachine_orm.query.changes import Append, Increment, RemoveFromSet
from restmachine_orm_testing.suite import run_differential
from restmachine_orm_testing.suite.differential import DiffOrder

UNSHRUNK = [Phase.explicit, Phase.reuse, Phase.generate]


class LastRowLost(InMemoryBackend):
    """Queries drop the last row of every non-empty answer."""

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        rows = list(super().query(spec))
        return iter(rows[:-1])


class AppendsTwice(InMemoryBackend):
    """An append to a list is applied twice (as a blind retry would)."""

    def update(self, schema, key, changes, previous=None, *, condition=None):
        twice = {n: c for n, c in changes.items() if isinstance(c, Append)}
        if twice:
            super().update(schema, key, twice, previous)
        return super().update(schema, key, changes, previous, condition=condition)


class RemovalsIgnored(InMemoryBackend):
    """Removing elements from a set changes nothing."""

    def update(self, schema, key, changes, previous=None, *, condition=None):
        kept = {n: c for n, c in changes.items() if not isinstance(c, RemoveFromSet)}
        return super().update(schema, key, kept, previous, condition=condition)


class CountsOneMore(InMemoryBackend):
    """Counts are one too many once there is a row."""

    def count(self, spec: QuerySpec) -> int:
        found = super().count(spec)
        return found + 1 if found else 0


class IgnoresOffset(InMemoryBackend):
    """Selects as if the shared query code dropped ``offset()``."""

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        return super().query(dataclasses.replace(spec, offset=0))


class OneRowPastTheLimit(InMemoryBackend):
    """Selects as if the shared query code stopped one row after ``limit()``."""

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        limit = None if spec.limit is None else spec.limit + 1
        return super().query(dataclasses.replace(spec, limit=limit))


class OrdersByTheFirstFieldOnly(InMemoryBackend):
    """Selects as if the shared query code left ties of the first ordering field unsorted."""

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        return super().query(dataclasses.replace(spec, order=spec.order[:1]))


class IgnoresConditions(InMemoryBackend):
    """Conditional saves and deletes go through whatever their condition says."""

    def update(self, schema, key, changes, previous=None, *, condition=None):
        return super().update(schema, key, changes, previous)

    def delete(self, schema, key, previous=None, *, condition=None):
        super().delete(schema, key, previous)


class IncrementsTwice(InMemoryBackend):
    """An increment adds its amount twice."""

    def update(self, schema, key, changes, previous=None, *, condition=None):
        doubled = {
            name: Increment(change.amount * 2) if isinstance(change, Increment) else change
            for name, change in changes.items()
        }
        return super().update(schema, key, doubled, previous, condition=condition)


class AwaitedReadsFindNothing(InMemoryBackend):
    """Only the awaitable twin of get is wrong: steps on the async API alone can see it."""

    async def aget(self, schema, key):
        return None


class SyncCountsOneMore(CountsOneMore):
    """Only the sync count is wrong: its awaitable twin counts right."""

    async def acount(self, spec):
        return InMemoryBackend.count(self, spec)


@pytest.fixture(autouse=True)
def derandomized(monkeypatch):
    # The same sequences every run, and no example database written by these tests.
    monkeypatch.setenv("RESTMACHINE_ORM_DERANDOMIZE", "1")


@pytest.fixture(autouse=True)
def first_failure_only():
    # These tests need to know that some sequence fails, not its shortest form: shrinking
    # takes seconds, finding one a tenth of a second.
    before = settings.default
    settings.register_profile("unshrunk", parent=before, phases=UNSHRUNK)
    settings.load_profile("unshrunk")
    yield
    settings.register_profile("before-unshrunk", parent=before)
    settings.load_profile("before-unshrunk")


@pytest.mark.parametrize("keys", ["simple", "composite"])
@pytest.mark.parametrize(
    "backend",
    [
        LastRowLost,
        CountsOneMore,
        IgnoresOffset,
        OneRowPastTheLimit,
        IgnoresConditions,
        IncrementsTwice,
    ],
)
def test_a_backend_that_differs_is_caught(keys, backend):
    with pytest.raises(AssertionError, match="reference gave"):
        run_differential(backend, keys=keys, examples=100)


def test_a_torn_transaction_is_caught():
    # Its reasons are right; only what it writes before a refused action differs.
    with pytest.raises(AssertionError, match="reference gave"):
        run_differential(TornTransactions, keys="simple", examples=100)


@pytest.mark.parametrize("backend", [ExpiredRowsRead, ExpiredRowsKept])
def test_rows_that_outlive_their_expiry_are_caught(backend):
    # One returns expired rows from reads, the other lets writes meet them as live.
    with pytest.raises(AssertionError, match="reference gave"):
        run_differential(backend, keys="expiring", examples=100)


@pytest.mark.parametrize("backend", [AppendsTwice, RemovalsIgnored])
def test_wrong_appends_and_set_changes_are_caught(backend):
    # A removal is caught once it meets an element to remove: more sequences than most.
    with pytest.raises(AssertionError, match="reference gave"):
        run_differential(backend, keys="composite", examples=300)


def test_the_expiring_machine_passes_on_the_reference_backend():
    run_differential(InMemoryBackend, keys="expiring", examples=100)


@pytest.mark.parametrize("keys", ["simple", "composite"])
@pytest.mark.parametrize("backend", [AwaitedReadsFindNothing, SyncCountsOneMore])
def test_sequences_interleave_the_sync_and_the_async_api(keys, backend):
    # Each backend is wrong on one API only: only a machine calling both catches both.
    with pytest.raises(AssertionError, match="reference gave"):
        run_differential(backend, keys=keys, examples=100)


def test_a_sequences_loop_is_released_and_closed_at_its_end():
    released = []

    async def release():
        loop = asyncio.get_running_loop()
        released.append(loop)
        assert not loop.is_closed()

    run_differential(InMemoryBackend, keys="simple", examples=30, release=release)
    assert released and all(loop.is_closed() for loop in released)


def test_ties_left_unsorted_are_caught():
    with pytest.raises(AssertionError, match=r"order=\(.*, .*\).*reference gave"):
        run_differential(OrdersByTheFirstFieldOnly, keys="simple", examples=100)


def without_offset(rows, spec, **options):
    return select_rows(rows, dataclasses.replace(spec, offset=0), **options)


def test_a_bug_in_the_query_code_every_backend_shares_is_caught(monkeypatch):
    # The in-memory backend, like the DynamoDB and SQLite ones, slices with select_rows.
    monkeypatch.setattr(restmachine_orm.backends.inmemory, "select_rows", without_offset)
    with pytest.raises(AssertionError, match=r"offset=[1-9].*reference gave"):
        run_differential(InMemoryBackend, keys="simple", examples=100)


@pytest.mark.parametrize("keys", ["simple", "composite"])
def test_the_inmemory_backend_matches_the_oracle(keys):
    run_differential(InMemoryBackend, keys=keys, examples=50)


def test_an_unknown_kind_of_key_is_refused():
    with pytest.raises(
        ValueError,
        match="keys must be 'simple', 'composite', 'expiring' or 'templates', not 'both'",
    ):
        run_differential(InMemoryBackend, keys="both")  # type: ignore[arg-type]


class NaturalOrderReversed(InMemoryBackend):
    """Reads in natural order come reversed: partitions and indexes out of key order."""

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        rows = list(super().query(spec))
        return iter(rows if spec.order else rows[::-1])


class CollectionLosesARow(InMemoryBackend):
    """A collection read drops the last row of its last model (sync and awaited alike)."""

    def collect(self, specs: Sequence[QuerySpec]) -> list[list[Row]]:
        found = super().collect(specs)
        return [*found[:-1], found[-1][:-1]]

    async def acollect(self, specs: Sequence[QuerySpec]) -> list[list[Row]]:
        return self.collect(specs)


class IndexReadInKeyOrder(InMemoryBackend):
    """A read of an index partition comes in table key order, not the index's."""

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        rows = list(super().query(spec))
        if not spec.order and spec.schema.model is DiffOrder:
            rows.sort(key=lambda row: row["order_id"])
        return iter(rows)


@pytest.mark.parametrize(
    "backend",
    [LastRowLost, CountsOneMore, NaturalOrderReversed, CollectionLosesARow, IndexReadInKeyOrder],
)
def test_a_backend_that_differs_on_key_templates_is_caught(backend):
    with pytest.raises(AssertionError, match="reference gave"):
        run_differential(backend, keys="templates", examples=200)


def test_the_key_templates_machine_passes_on_the_reference_backend():
    run_differential(InMemoryBackend, keys="templates", examples=100)


# What the oracle must not share with the code under test.
SHARED = {
    "restmachine_orm.query.execution",
    "restmachine_orm.query.predicate",
    "restmachine_orm.query.ordering",
    "restmachine_orm.backends.inmemory",
}
SHARED_NAMES = {"InMemoryBackend", "select_rows", "compile_filter", "sort_rows", "sort_key"}


def imports(path):
    """Every module a source file imports, and every name it imports from one."""
    modules, names = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add("." * node.level + (node.module or ""))
            names |= {alias.name for alias in node.names}
    return modules, names


def test_the_oracle_imports_nothing_it_checks():
    suite = Path(restmachine_orm_testing.suite.__file__).parent
    modules, _ = imports(suite / "_reference.py")
    assert {module for module in modules if module.startswith(("restmachine", "."))} == set()
    modules, names = imports(suite / "differential.py")
    assert modules & SHARED == set()
    assert names & SHARED_NAMES == set()
