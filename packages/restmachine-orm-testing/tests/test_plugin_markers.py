"""skip_backend, only_backends, xfail_backend and requires, decided at collection."""

from __future__ import annotations

HEADER = """
import pytest
from restmachine_orm import Field, Model, NotFoundError, QueryError
from restmachine_orm_testing import (
    MultiBackendTestBase, only_backends, requires, skip_backend, xfail_backend,
)

class Item(Model):
    id: str = Field(primary_key=True)
"""


def run(pytester, body, *args):
    pytester.makepyfile(test_marks=HEADER + body)
    return pytester.runpytest("-rsxX", "-p", "no:cacheprovider", *args)


def test_skip_and_only_with_reasons_on_methods_and_classes(pytester):
    result = run(
        pytester,
        """
class TestMethods(MultiBackendTestBase):
    @skip_backend("inmemory", reason="not today")
    def test_skipped(self, orm):
        pass

    @only_backends("dynamodb")
    def test_elsewhere(self, orm):
        pass

@skip_backend("inmemory")
class TestWholeClass(MultiBackendTestBase):
    def test_a(self, orm):
        pass
""",
    )
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(
        [
            "*not today*",
            "*runs only on dynamodb*",
            "*skipped on inmemory*",
        ]
    )


def test_xfail_is_strict_and_names_the_error(pytester):
    result = run(
        pytester,
        """
class TestX(MultiBackendTestBase):
    @xfail_backend("inmemory", reason="known", raises=NotFoundError)
    def test_expected_error(self, orm):
        raise NotFoundError("Item", {"id": "x"})

    @xfail_backend("inmemory", reason="known", raises=NotFoundError)
    def test_other_error(self, orm):
        raise QueryError("different")

    @xfail_backend("inmemory", reason="stale mark", raises=NotFoundError)
    def test_now_passes(self, orm):
        pass
""",
    )
    result.assert_outcomes(xfailed=1, failed=2)
    result.stdout.fnmatch_lines(["*XPASS(strict)*stale mark*"])


def test_requires_skips_backends_lacking_a_capability(pytester):
    result = run(
        pytester,
        """
class TestCaps(MultiBackendTestBase):
    @requires("transactions")
    def test_has_it(self, orm):
        pass
""",
    )
    result.assert_outcomes(passed=1)


def test_unknown_backend_in_a_marker_is_a_collection_error(pytester):
    result = run(
        pytester,
        """
class TestTypo(MultiBackendTestBase):
    @skip_backend("dynamdb")
    def test_a(self, orm):
        pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*names unknown backend 'dynamdb'*known backends:*inmemory*"])


def test_unknown_capability_is_a_collection_error(pytester):
    result = run(
        pytester,
        """
class TestTypo(MultiBackendTestBase):
    @requires("teleportation")
    def test_a(self, orm):
        pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown capability 'teleportation'*known capabilities:*"])


LONG_TESTS = """
import pytest

@pytest.mark.parametrize("i", range(6))
def test_short(i):
    pass

@pytest.mark.orm_long_running
def test_long_a():
    pass

@pytest.mark.orm_long_running
def test_long_b():
    pass
"""


def _run_order(result):
    return [line.split("::")[1].split(" ")[0] for line in result.outlines if " PASSED" in line]


def test_xdist_hands_out_long_tests_first_and_apart(pytester):
    pytester.makepyfile(test_long=LONG_TESTS)
    # One worker runs the tests in the order xdist hands them out.
    distributed = pytester.runpytest("-p", "xdist", "-n", "1", "-v", "-p", "no:cacheprovider")
    distributed.assert_outcomes(passed=8)
    assert _run_order(distributed) == [
        "test_long_a",
        "test_short[0]",
        "test_short[1]",
        "test_short[2]",
        "test_long_b",
        "test_short[3]",
        "test_short[4]",
        "test_short[5]",
    ]
    # Without xdist the file's order stands.
    plain = pytester.runpytest("-v", "-p", "no:cacheprovider")
    assert _run_order(plain)[-2:] == ["test_long_a", "test_long_b"]
