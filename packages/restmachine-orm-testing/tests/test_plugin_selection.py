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


ON_SELECTION = """
from restmachine_orm_testing import SELECTED, MultiBackendTestBase, multi_backend_test_class

class TestSelected(MultiBackendTestBase):
    ENABLED_BACKENDS = SELECTED

    def test_a(self, orm):
        pass

@multi_backend_test_class(enabled_backends=SELECTED)
class TestDecorated(MultiBackendTestBase):
    def test_b(self, orm):
        pass
"""


def collected_ids(result):
    return sorted(line for line in result.stdout.lines if "::" in line)


def test_selected_runs_a_class_on_the_backends_the_run_names(pytester):
    pytester.makepyfile(test_sel=ON_SELECTION)
    result = pytester.runpytest("--orm-backend", "inmemory", "-q", "-p", "no:cacheprovider")
    # Nothing deselected: the class enables exactly what the run selects.
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["test_sel.py::TestDecorated  |  inmemory: 1 passed"])


def test_selected_with_no_selection_runs_on_every_installed_backend(pytester):
    pytester.makepyfile(test_sel=ON_SELECTION)
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider")
    installed = sorted(DriverRegistry.load().drivers)
    assert collected_ids(result) == sorted(
        f"test_sel.py::{test}[{name}]"
        for test in ("TestDecorated::test_b", "TestSelected::test_a")
        for name in installed
    )


def test_selected_follows_the_environment_variable(pytester, monkeypatch):
    monkeypatch.setenv("RESTMACHINE_ORM_BACKENDS", "inmemory")
    pytester.makepyfile(test_sel=ON_SELECTION)
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider")
    assert collected_ids(result) == [
        "test_sel.py::TestDecorated::test_b[inmemory]",
        "test_sel.py::TestSelected::test_a[inmemory]",
    ]


def test_selected_keeps_its_exclusions_and_names_itself_when_they_leave_nothing(pytester):
    pytester.makepyfile(
        test_sel="""
from restmachine_orm_testing import SELECTED, MultiBackendTestBase

class TestSelected(MultiBackendTestBase):
    ENABLED_BACKENDS = SELECTED
    EXCLUDED_BACKENDS = ["inmemory"]

    def test_a(self, orm):
        pass
"""
    )
    result = pytester.runpytest("--orm-backend", "inmemory", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    assert (
        "TestSelected.EXCLUDED_BACKENDS ['inmemory'] excludes every backend of "
        "ENABLED_BACKENDS SELECTED = ['inmemory']: the class has no backend to run on"
    ) in result.stdout.str()
