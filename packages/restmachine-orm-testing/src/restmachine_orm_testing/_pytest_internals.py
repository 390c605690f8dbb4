"""Every attribute of pytest's that the plugin reads or writes and pytest does not document.

Nothing else in the package touches them: when a pytest release changes one,
``tests/test_pytest_internals.py`` fails naming the pytest version and what changed, and
this module is the one place to update.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

__all__ = [
    "fill_argument",
    "is_initial_path",
    "own_marks",
    "parametrization",
    "skip_reason",
    "xfail_reason",
]


def fill_argument(item: pytest.Function, name: str, value: object) -> None:
    """Give a test an argument before its fixtures are set up.

    pytest does not execute the fixture of an argument already in ``item.funcargs`` (the
    dictionary it passes the test function's arguments in), which saves a parametrized
    fixture's cost on every test.
    """
    item.funcargs[name] = value


def is_initial_path(session: pytest.Session, path: Path) -> bool:
    """Whether ``path`` is one of the run's arguments, as pytest resolved them.

    ``--pyargs`` arguments count as the paths of the modules or packages they name.
    """
    return bool(session.isinitpath(path))


def own_marks(function: object) -> list[pytest.Mark]:
    """The marks applied to a function by decorators (``@pytest.mark.x``), in order.

    A mark decorator stores them in the function's ``pytestmark`` attribute.
    """
    return list(getattr(function, "pytestmark", []))


def parametrization(item: pytest.Item) -> tuple[Mapping[str, object], str] | None:
    """A parametrized test's parameter values by name, and the ids inside its ``[...]``.

    Returns:
        ``(params, ids)`` from the item's ``callspec``, or ``None`` for a test that is not
        parametrized. ``ids`` joins one id per ``parametrize`` call, in the order of the
        calls, with ``-``.
    """
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    return callspec.params, callspec.id


def xfail_reason(report: pytest.TestReport) -> str | None:
    """The reason of an expected failure (``xfail``) that a report records, else ``None``."""
    reason = getattr(report, "wasxfail", None)
    return None if reason is None else str(reason)


def skip_reason(report: pytest.TestReport) -> str:
    """Why a skipped test was skipped, without pytest's ``Skipped:`` prefix."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)
