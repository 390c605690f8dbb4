"""Decorators that choose, per backend, whether a test runs, is skipped or must fail.

They only attach pytest marks; the plugin reads them when it collects the tests, checks that
every backend and capability they name exists, and turns them into skip or strict xfail
marks with the reason shown in ``-rs`` / ``-rx`` output. They work on test methods and on
whole test classes.
"""

from __future__ import annotations

import pytest

__all__ = [
    "LONG_MARK",
    "ONLY_MARK",
    "REQUIRES_MARK",
    "SKIP_MARK",
    "XFAIL_MARK",
    "only_backends",
    "requires",
    "skip_backend",
    "xfail_backend",
]

SKIP_MARK = "orm_skip_backend"
ONLY_MARK = "orm_only_backends"
XFAIL_MARK = "orm_xfail_backend"
REQUIRES_MARK = "orm_requires"
LONG_MARK = "orm_long_running"

MARK_DOCS = {
    SKIP_MARK: "orm_skip_backend(*names, reason=None): skip on these backends",
    ONLY_MARK: "orm_only_backends(*names): run only on these backends",
    XFAIL_MARK: "orm_xfail_backend(name, reason, raises): must fail on this backend",
    REQUIRES_MARK: "orm_requires(*capabilities): skip on backends lacking a capability",
    LONG_MARK: "orm_long_running: takes far longer than most tests; pytest-xdist workers "
    "are handed these first",
}


def _mark(name: str, *args: object, **kwargs: object) -> pytest.MarkDecorator:
    decorator: pytest.MarkDecorator = getattr(pytest.mark, name)
    return decorator(*args, **kwargs)


def skip_backend(*names: str, reason: str | None = None) -> pytest.MarkDecorator:
    """Skip the test on these backends, e.g. ``@skip_backend("dynamodb")``."""
    if not names:
        raise TypeError("skip_backend() needs at least one backend name")
    return _mark(SKIP_MARK, *names, reason=reason)


def only_backends(*names: str) -> pytest.MarkDecorator:
    """Run the test on these backends only, e.g. ``@only_backends("inmemory")``."""
    if not names:
        raise TypeError("only_backends() needs at least one backend name")
    return _mark(ONLY_MARK, *names)


def xfail_backend(
    name: str, *, reason: str, raises: type[BaseException] | tuple[type[BaseException], ...]
) -> pytest.MarkDecorator:
    """Expect the test to fail on one backend with ``raises``.

    The expectation is strict: failing with another error, or passing, fails the run, so a
    mark that is no longer true shows up instead of hiding a fix or a new bug.
    """
    return _mark(XFAIL_MARK, name, reason=reason, raises=raises)


def requires(*capabilities: str) -> pytest.MarkDecorator:
    """Skip the test on backends lacking any of these capabilities (``CAPABILITIES`` names)."""
    if not capabilities:
        raise TypeError("requires() needs at least one capability name")
    return _mark(REQUIRES_MARK, *capabilities)
