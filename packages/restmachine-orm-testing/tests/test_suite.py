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
    names = {f"{c.__name__}::{n}" for c in classes for n in vars(c) if n.startswith("test_")}
    assert names == set(suite.SUITE_TESTS)
    assert set(suite.SUITE_TESTS.values()) <= {suite.SUITE_VERSION, "1.0"}


def test_the_suite_collects_at_least_sixty_tests_per_backend(pytester):
    pytester.makepyfile(
        test_run="""
from restmachine_orm_testing import suite

class TestCrud(suite.TestCrud): pass
class TestUniqueValues(suite.TestUniqueValues): pass
class TestLookups(suite.TestLookups): pass
class TestLogic(suite.TestLogic): pass
class TestOrdering(suite.TestOrdering): pass
class TestPagination(suite.TestPagination): pass
class TestTypes(suite.TestTypes): pass
class TestTimestamps(suite.TestTimestamps): pass
class TestHooks(suite.TestHooks): pass
class TestText(suite.TestText): pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 60
    assert "failed" not in outcomes and "error" not in outcomes
