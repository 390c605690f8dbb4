"""The spec's examples run as written."""

from __future__ import annotations

import pytest

from restmachine_orm_testing import DriverRegistry

DYNAMODB_INSTALLED = "dynamodb" in DriverRegistry.load().drivers


def test_quick_example_runs_on_inmemory(pytester, example):
    pytester.makepyfile(test_quick=example("test_quick_example.py"))
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_create_user[[]inmemory[]] PASSED*"])


@pytest.mark.parametrize(
    "name", ["test_complete_example.py", "test_complete_example_async.py"], ids=["sync", "async"]
)
def test_complete_example_runs_on_both_backends(pytester, example, name):
    pytester.makepyfile(test_complete=example(name))
    result = pytester.runpytest("-rs", "-W", "error", "-p", "no:cacheprovider")
    if DYNAMODB_INSTALLED:
        result.assert_outcomes(passed=16)
    else:
        result.assert_outcomes(passed=8, skipped=8)
        result.stdout.fnmatch_lines(
            ["*'dynamodb' is not installed*pip install \"restmachine-orm[[]dynamodb,testing[]]\""]
        )


def test_skip_decorators_example(pytester, example):
    pytester.makepyfile(test_skips=example("test_skip_backends.py"))
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
