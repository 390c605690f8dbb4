"""``async def`` tests and ``aorm``: no marker, no loop setup, the same plugin around them."""

from __future__ import annotations

import pytest

ASYNC_TESTS = """
import asyncio

from restmachine_orm import DuplicateKeyError, Field, InMemoryBackend, Model
from restmachine_orm_testing import MultiBackendTestBase, skip_backend, xfail_backend

SENTINEL = InMemoryBackend()


class Item(Model):
    id: str = Field(primary_key=True)
    code: str = Field(unique=True)


Item.model_backend = SENTINEL


class TestAsync(MultiBackendTestBase):
    def get_test_models(self):
        return [Item]

    async def test_1_awaited_dsl(self, aorm):
        client, backend = aorm
        assert backend == "inmemory"
        await client.create_and_verify(Item, id="a", code="x")
        await client.expect_create_failure(Item, DuplicateKeyError, id="b", code="x")
        assert await client.count_models(Item) == 1
        assert Item.model_backend is not SENTINEL

    async def test_2_starts_empty(self, aorm):
        assert await aorm[0].all_models(Item) == []

    @skip_backend("inmemory", reason="not here")
    async def test_skipped(self, aorm):
        raise AssertionError("never runs")

    @xfail_backend("inmemory", reason="known", raises=KeyError)
    async def test_expected_failure(self, aorm):
        raise KeyError("x")

    async def test_without_a_backend(self):
        await asyncio.sleep(0)


def test_3_backend_restored():
    assert Item.model_backend is SENTINEL
"""


@pytest.mark.parametrize("workers", [[], ["-p", "xdist", "-n", "2"]], ids=["serial", "xdist"])
def test_async_tests_run_with_no_marker_and_the_same_plugin_around_them(pytester, workers):
    pytester.makepyfile(test_async=ASYNC_TESTS)
    result = pytester.runpytest("-v", "-rsx", "-W", "error", "-p", "no:cacheprovider", *workers)
    result.assert_outcomes(passed=4, skipped=1, xfailed=1)
    # "test_a[inmemory] PASSED" in a serial run, "PASSED test_a[inmemory]" under xdist
    passed = r"(PASSED .*test_1_awaited_dsl\[inmemory\]|test_1_awaited_dsl\[inmemory\] PASSED)"
    result.stdout.re_match_lines([".*" + passed])
    result.stdout.fnmatch_lines(["*not here*"])
    result.stdout.fnmatch_lines(
        ["*test_async.py::TestAsync  |  inmemory: 2 passed, 1 skipped, 1 xfailed"]
    )


TEARDOWN = """
import asyncio

from restmachine_orm_testing import InMemoryDriver, MultiBackendTestBase

SEEN = {"test": [], "teardown": []}


class LoopDriver(InMemoryDriver):
    async def ateardown(self):
        loop = asyncio.get_running_loop()
        SEEN["teardown"].append((loop, loop.is_closed()))


class TestLoops(MultiBackendTestBase):
    @classmethod
    def create_driver(cls, backend_name):
        return LoopDriver()

    async def test_a(self, aorm):
        SEEN["test"].append(asyncio.get_running_loop())

    async def test_b(self, aorm):
        SEEN["test"].append(asyncio.get_running_loop())


def test_each_teardown_ran_on_its_tests_loop_before_it_closed():
    loops = SEEN["test"]
    assert len(loops) == 2 and loops[0] is not loops[1]
    assert SEEN["teardown"] == [(loops[0], False), (loops[1], False)]
    assert all(loop.is_closed() for loop in loops)
"""


def test_the_drivers_async_teardown_runs_on_each_tests_own_loop(pytester):
    pytester.makepyfile(test_teardown=TEARDOWN)
    result = pytester.runpytest("-W", "error", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


SYNC_ONLY_DRIVER = """
import threading

from restmachine_orm import Field, InMemoryBackend, Model
from restmachine_orm_testing import (
    CreateOperation, DriverInterface, MultiBackendTestBase, OperationResult,
)


class Item(Model):
    id: str = Field(primary_key=True)


class SyncOnlyBackend(InMemoryBackend):
    # Says its sync methods wait on I/O, as a third party's would: the ORM serves the
    # async API from a worker thread.
    blocking = True

    def __init__(self):
        super().__init__()
        self.threads = set()

    def insert(self, schema, row):
        self.threads.add(threading.get_ident())
        super().insert(schema, row)


class MyBackendDriver(DriverInterface):
    # The spec's driver: execute_create only, written for sync tests.
    def __init__(self):
        self.backend = SyncOnlyBackend()

    def execute_create(self, operation: CreateOperation) -> OperationResult:
        try:
            self.setup_backend(operation.model_class)
            instance = operation.model_class.create(**operation.data)
            return OperationResult(success=True, instance=instance, data=instance.model_dump())
        except Exception as e:
            return OperationResult(success=False, error=e)

    def get_backend_name(self) -> str:
        return "mybackend"

    def setup_backend(self, model_class):
        model_class.model_backend = self.backend


class TestThirdParty(MultiBackendTestBase):
    ENABLED_BACKENDS = ["mybackend"]

    @classmethod
    def create_driver(cls, backend_name):
        return MyBackendDriver()

    def get_test_models(self):
        return [Item]

    async def test_awaited_dsl_on_a_sync_only_driver(self, aorm):
        client, backend = aorm
        await client.create_and_verify(Item, id="a")
        await client.get_and_verify_exists(Item, id="a")
        assert [item.id for item in await client.all_models(Item)] == ["a"]
        threads = Item.model_backend.threads
        assert threads and threading.get_ident() not in threads  # served off the loop
"""


def test_a_sync_only_third_party_driver_serves_async_tests_unchanged(pytester):
    pytester.makepyfile(test_third_party=SYNC_ONLY_DRIVER)
    result = pytester.runpytest("-v", "-W", "error", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_awaited_dsl_on_a_sync_only_driver[[]mybackend[]] PASSED*"])


MISUSE = """
from restmachine_orm_testing import MultiBackendTestBase


class TestMisuse(MultiBackendTestBase):
    {body}
"""


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("def test_sync(self, aorm):\n        pass", "*belongs to async def tests*"),
        (
            "async def test_both(self, orm, aorm):\n        pass",
            "*takes orm (def) or aorm (async def), not both*",
        ),
    ],
    ids=["aorm-in-a-def-test", "orm-and-aorm"],
)
def test_aorm_where_it_cannot_work_is_a_collection_error(pytester, body, says):
    pytester.makepyfile(test_misuse=MISUSE.format(body=body))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([says])


def test_aorm_outside_a_multi_backend_class_says_where_it_belongs(pytester):
    pytester.makepyfile(
        test_outside="""
import pytest

@pytest.mark.anyio
async def test_outside(aorm):
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the aorm fixture belongs to async def test methods*"])
