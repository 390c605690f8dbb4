"""--orm-backend and RESTMACHINE_ORM_BACKENDS narrow the backends of a run."""

from __future__ import annotations

from restmachine_orm_testing import DriverRegistry

TESTS = """
from restmachine_orm_testing import MultiBackendTestBase

class TestAll(MultiBackendTestBase):
    ENABLED_BACKENDS = ["inmemory", "dynamodb"]

    def test_a(self, orm):
        assert orm[1] in ("inmemory", "dynamodb")

class TestDefault(MultiBackendTestBase):
    def test_b(self, orm):
        pass
"""


def test_option_narrows_every_class(pytester):
    pytester.makepyfile(test_sel=TESTS)
    result = pytester.runpytest("--orm-backend", "inmemory", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, deselected=1)


def test_option_is_repeatable(pytester):
    pytester.makepyfile(test_sel=TESTS)
    result = pytester.runpytest(
        "--orm-backend", "inmemory", "--orm-backend", "dynamodb", "-p", "no:cacheprovider"
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("deselected") is None
    assert outcomes.get("passed", 0) + outcomes.get("skipped", 0) == 3


def test_environment_variable_narrows_too(pytester, monkeypatch):
    monkeypatch.setenv("RESTMACHINE_ORM_BACKENDS", "dynamodb")
    pytester.makepyfile(test_sel=TESTS)
    result = pytester.runpytest("-rs", "-p", "no:cacheprovider")
    if "dynamodb" in DriverRegistry.load().drivers:
        result.assert_outcomes(passed=1, deselected=2)
    else:
        result.assert_outcomes(skipped=1, deselected=2)
        result.stdout.fnmatch_lines(['*pip install "restmachine-orm[[]dynamodb,testing[]]"*'])


def test_unknown_name_is_a_usage_error_listing_known_backends(pytester):
    pytester.makepyfile(test_sel=TESTS)
    result = pytester.runpytest("--orm-backend", "cassandra", "-p", "no:cacheprovider")
    assert result.ret == 4
    result.stderr.fnmatch_lines(
        ["*unknown backend 'cassandra'*known backends: dynamodb, inmemory*"]
    )


def test_bad_report_extension_is_a_usage_error(pytester):
    pytester.makepyfile(test_sel=TESTS)
    result = pytester.runpytest("--orm-report", "out.txt", "-p", "no:cacheprovider")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*must end in .md or .json*"])
