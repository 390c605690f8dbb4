"""The conformance suite keeps its test ids, and records the version each test came in."""

from __future__ import annotations

import inspect
from pathlib import Path

from restmachine_orm_testing import MultiBackendTestBase, suite

RELEASED = Path(__file__).with_name("suite_ids_1.0.txt").read_text().split()


def test_every_released_test_id_still_exists():
    assert set(RELEASED) <= set(suite.SUITE_TESTS)


def test_every_suite_test_records_its_version():
    classes = [
        c
        for _, c in inspect.getmembers(suite, inspect.isclass)
        if issubclass(c, MultiBackendTestBase) and c.__name__.startswith("Test")
    ]
    names = {f"{c.__name__}::{n}" for c in classes for n in dir(c) if n.startswith("test_")}
    assert names == set(suite.SUITE_TESTS)
    assert set(suite.SUITE_TESTS.values()) <= {
        "1.0",
        "1.1",
        "1.2",
        "1.3",
        "1.4",
        "1.5",
        "1.6",
        "1.7",
        "1.8",
        suite.SUITE_VERSION,
    }


def test_each_async_class_is_as_new_as_its_twin_and_runs_every_test_of_it():
    twins = {
        name: getattr(suite, name.removesuffix("Async"))
        for name in suite.__all__
        if name.endswith("Async")
    }
    assert len(twins) == 30
    for name, twin in twins.items():
        tests = {n for n in dir(twin) if n.startswith("test_")}
        assert {n for n in dir(getattr(suite, name)) if n.startswith("test_")} == tests
        twin_versions = {suite.SUITE_TESTS[f"{twin.__name__}::{test}"] for test in tests}
        # Async twins came in 1.3: of a class older than that, then; else with the class.
        # A test added to a class later is new in its twin in the same version.
        since = "1.3" if min(twin_versions) <= "1.2" else min(twin_versions)
        for test in tests:
            own = suite.SUITE_TESTS[f"{twin.__name__}::{test}"]
            assert suite.SUITE_TESTS[f"{name}::{test}"] == max(since, own), (name, test)


# Tests per class on one backend: a test lost, skipped or added shows up here by name.
PER_CLASS = {
    "TestAccessPaths": 28,
    "TestAtomicUpdates": 12,
    "TestClock": 2,
    "TestConditionalWrites": 9,
    "TestCollections": 6,
    "TestCrud": 13,
    "TestExpirationMixin": 2,
    "TestExpiry": 7,
    "TestFaults": 12,
    "TestHookDecorators": 5,
    "TestHooks": 1,
    "TestKeyTemplates": 10,
    "TestLogic": 4,
    "TestLookups": 24,
    "TestOrdering": 4,
    "TestMixins": 2,
    "TestPagination": 5,
    "TestQueryHelpers": 18,
    "TestScanRefusal": 15,
    "TestSecondaryIndexes": 9,
    "TestText": 8,
    "TestTimestamps": 2,
    "TestTransactions": 8,
    "TestTypes": 12,
    "TestUniqueValues": 7,
    "TestWritePipeline": 5,
}
# The async surface runs each of them again; tasks race on one loop.
PER_CLASS |= {f"{name}Async": count for name, count in PER_CLASS.items()}
PER_CLASS["TestConcurrentTasks"] = 2
PER_CLASS["TestCancelledTasks"] = 2
PER_CLASS["TestAwaitedHelpers"] = 2
PER_CLASS["TestAwaitedSingleTable"] = 3


def test_the_suite_runs_every_one_of_its_tests_and_each_passes(pytester):
    pytester.makepyfile(
        test_run="\n".join(
            ["from restmachine_orm_testing import suite"]
            + [f"class {name}(suite.{name}): pass" for name in PER_CLASS]
        )
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=sum(PER_CLASS.values()))
    assert sum(PER_CLASS.values()) == 230 + 230 + 2 + 2 + 2 + 3
    result.stdout.fnmatch_lines(
        [
            f"test_run.py::{name}  |  inmemory: {count} passed"
            for name, count in sorted(PER_CLASS.items())
        ],
        consecutive=True,
    )
