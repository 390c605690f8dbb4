"""The pytest internals the plugin uses still exist and behave as it expects.

Each check fails naming the installed pytest and what changed; the fix goes in
``restmachine_orm_testing/_pytest_internals.py``, the one module that touches them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import restmachine_orm_testing
from restmachine_orm_testing._pytest_internals import (
    own_marks,
    parametrization,
    skip_reason,
    xfail_reason,
)


def changed(what):
    return (
        f"pytest {pytest.__version__} changed {what}: "
        "update restmachine_orm_testing/_pytest_internals.py"
    )


FILLING_PLUGIN = """
import pytest
from restmachine_orm_testing._pytest_internals import fill_argument


@pytest.fixture
def filled():
    raise AssertionError("the fixture ran although its argument was filled in")


def pytest_runtest_setup(item):
    fill_argument(item, "filled", "from the hook")
"""


def test_an_argument_filled_in_before_setup_is_passed_and_its_fixture_not_run(pytester):
    pytester.makeconftest(FILLING_PLUGIN)
    pytester.makepyfile(
        test_filled="def test_gets_it(filled):\n    assert filled == 'from the hook'\n"
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes == {"passed": 1}, (
        changed(
            "item.funcargs (an argument filled in before setup must reach the test, its "
            "fixture unrun)"
        )
        + f"; the inner run gave {outcomes}:\n{result.stdout.str()}"
    )


def pytest_generate_tests(metafunc):
    # Two parametrize calls, as the plugin's and a test's own: ids keep the calls' order.
    if metafunc.function.__name__ == "test_a_parametrized_item_gives_its_params_and_ids":
        metafunc.parametrize("first", ["in-memory"])
        metafunc.parametrize("second", [2], ids=["two"])


def test_a_parametrized_item_gives_its_params_and_ids(request, first, second):
    try:
        found = parametrization(request.node)
    except AttributeError as error:
        pytest.fail(changed(f"item.callspec ({error})"))
    assert found is not None, changed("item.callspec: a parametrized test has none")
    params, ids = found
    assert dict(params) == {"first": "in-memory", "second": 2}, changed(
        f"item.callspec.params (now {params!r})"
    )
    assert ids == "in-memory-two" and request.node.name.endswith(f"[{ids}]"), changed(
        f"item.callspec.id: the ids of the parametrize calls in their order, joined by '-' "
        f"(now {ids!r} for {request.node.name!r})"
    )


def test_an_item_that_is_not_parametrized_has_no_parametrization(request):
    assert parametrization(request.node) is None, changed("item.callspec of a plain test")


OUTCOMES = """
import pytest

def test_passes():
    pass

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known gap", strict=True)
def test_xfails():
    assert False
"""


def test_reports_give_skip_and_xfail_reasons(pytester):
    reports = {
        report.nodeid.split("::")[-1]: report
        for report in pytester.inline_runsource(OUTCOMES).getreports("pytest_runtest_logreport")
        if report.when == "call" or report.skipped
    }
    try:
        reasons = {
            "skip": skip_reason(reports["test_skipped"]),
            "xfail": xfail_reason(reports["test_xfails"]),
            "no xfail": xfail_reason(reports["test_passes"]),
        }
    except (AttributeError, TypeError, IndexError) as error:
        pytest.fail(changed(f"TestReport.longrepr or .wasxfail ({error!r})"))
    assert reasons == {"skip": "not today", "xfail": "known gap", "no xfail": None}, changed(
        f"a skipped report's longrepr (path, line, 'Skipped: reason') or TestReport.wasxfail; "
        f"read {reasons}"
    )


PRIVATE_NAMES = ("funcargs", "callspec", "wasxfail", "longrepr", "_fixtureinfo", "_request")


def test_no_other_module_of_the_package_touches_them():
    # A pytest internal reached from anywhere else would escape the checks above.
    package = Path(restmachine_orm_testing.__file__).parent
    users = {
        f"{path.relative_to(package)}: {name}"
        for path in package.rglob("*.py")
        if path.name != "_pytest_internals.py"
        for name in PRIVATE_NAMES
        if re.search(rf"\.{name}\b|[\"']{name}[\"']", path.read_text())
    }
    assert users == set()


def test_the_marks_a_decorator_applied_to_a_function_are_found():
    @pytest.mark.usefixtures("first")
    @pytest.mark.skip(reason="why")
    def decorated():
        pass

    found = [(mark.name, mark.args) for mark in own_marks(decorated)]
    assert found == [("skip", ()), ("usefixtures", ("first",))], changed(
        f"where mark decorators keep a function's marks (pytestmark): found {found}"
    )
