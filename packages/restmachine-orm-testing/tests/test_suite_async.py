"""The suite's async classes really take the async path, and fail where it is broken.

An async-only backend (every sync call refused) passes the ``*Async`` classes and fails
their sync twins: their calls reach the backend through the awaitable twins alone. Tasks
racing on one loop catch a backend with no lock between check and write. A blocking
network call made on the event loop fails the async classes, and the sync ones, which
never run on a loop, pass on the same backend.
"""

from __future__ import annotations

import pytest

import restmachine_orm_testing.suite.cancellation as cancellation
import restmachine_orm_testing.suite.differential as differential

INNER = """
from restmachine_orm_testing import suite
from broken_backends import driver_of, {backend}
{classes}
"""

CLASS = """
class {name}(suite.{name}):
    @classmethod
    def create_driver(cls, backend_name):
        return driver_of({backend})()
"""


def run_suite(pytester, backend, *names, args=()):
    classes = "".join(CLASS.format(name=name, backend=backend) for name in names)
    pytester.makepyfile(test_inner=INNER.format(backend=backend, classes=classes))
    run = pytester.inline_run("-p", "no:cacheprovider", "-W", "error", *args)
    failed = {
        report.nodeid.split("::", 1)[1].removesuffix("[inmemory]"): report.longreprtext
        for report in run.getreports("pytest_runtest_logreport")
        if report.failed
    }
    return run, failed


ASYNC_CLASSES = [
    "TestCrudAsync",
    "TestUniqueValuesAsync",
    "TestLookupsAsync",
    "TestPaginationAsync",
    "TestConcurrentWritesAsync",
    "TestOptimisticLockingAsync",
    "TestDifferentialAsync",
    "TestConcurrentTasks",
    "TestCancelledTasks",
    "TestKeyTemplatesAsync",
    "TestSecondaryIndexesAsync",
    "TestCollectionsAsync",
    "TestScanRefusalAsync",
]


def test_an_async_only_backend_passes_the_async_classes(pytester, monkeypatch):
    monkeypatch.setattr(differential, "_SIMPLE_EXAMPLES", 20)
    monkeypatch.setattr(differential, "_COMPOSITE_EXAMPLES", 20)
    monkeypatch.setattr(differential, "_EXPIRING_EXAMPLES", 20)
    monkeypatch.setattr(differential, "_TEMPLATES_EXAMPLES", 20)
    run, failed = run_suite(pytester, "AsyncOnly", *ASYNC_CLASSES)
    assert failed == {}
    run.assertoutcome(passed=106)


def test_an_async_only_backend_fails_every_sync_test_naming_the_twin(pytester):
    run, failed = run_suite(pytester, "AsyncOnly", "TestCrud")
    run.assertoutcome(passed=0, failed=13)
    assert all("serves only the async API" in why for why in failed.values()), failed


def test_tasks_racing_on_one_loop_catch_a_backend_without_a_lock(pytester):
    run, failed = run_suite(pytester, "UnlockedOffTheLoop", "TestConcurrentTasks")
    run.assertoutcome(passed=0, failed=2)
    assert set(failed) == {
        "TestConcurrentTasks::test_one_of_eight_tasks_creating_one_key_wins",
        "TestConcurrentTasks::test_one_of_eight_tasks_claiming_one_unique_value_wins",
    }
    assert all("racing writers won" in why for why in failed.values()), failed


def test_the_same_tasks_pass_on_the_in_memory_backend(pytester):
    run, _ = run_suite(pytester, "InMemoryBackend", "TestConcurrentTasks")
    run.assertoutcome(passed=2)


@pytest.mark.parametrize(
    ("backend", "test", "call"),
    [
        ("BlockingOnTheLoop", "test_create_stores_exactly_the_row", "socket.connect"),
        ("PooledBlockingOnTheLoop", "test_get_returns_none_for_a_missing_key", "sendall()"),
    ],
)
def test_a_blocking_call_on_the_loop_fails_the_async_classes_only(pytester, backend, test, call):
    run, failed = run_suite(pytester, backend, "TestCrud", "TestCrudAsync", args=["-k", test])
    run.assertoutcome(passed=1, failed=1)
    assert set(failed) == {f"TestCrudAsync::{test}"}
    why = failed[f"TestCrudAsync::{test}"]
    assert "BlockingCallError" in why and call in why
    assert "in ainsert" in why or "in aget" in why  # the report points at the culprit


def test_a_blocking_call_fails_the_tasks_on_the_tests_own_loop(pytester):
    run, failed = run_suite(pytester, "BlockingOnTheLoop", "TestConcurrentTasks")
    run.assertoutcome(passed=0, failed=2)
    assert all("BlockingCallError" in why for why in failed.values()), failed


def test_a_write_cancelled_in_flight_must_not_orphan_its_claim(pytester, monkeypatch):
    monkeypatch.setattr(cancellation, "SETTLE_SECONDS", 0.3)
    run, failed = run_suite(pytester, "ClaimsBeforeAwaiting", "TestCancelledTasks")
    run.assertoutcome(passed=1, failed=1)
    assert set(failed) == {
        "TestCancelledTasks::test_a_cancelled_create_leaves_row_and_claim_together"
    }
    why = next(iter(failed.values()))
    assert "is claimed by no row (an orphaned claim), still 0.3s after the cancel" in why, why


def test_cancelled_writes_settle_whole_on_the_in_memory_backend(pytester):
    run, _ = run_suite(pytester, "InMemoryBackend", "TestCancelledTasks")
    run.assertoutcome(passed=2)
