"""What every suite class shares: its models, and the version record of each test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from restmachine_orm import Model

from ..base import MultiBackendTestBase
from .models import SUITE_MODELS

__all__ = ["SUITE_TESTS", "SUITE_VERSION", "SuiteBase", "refused", "since", "through_async"]

#: The suite's version: a release that adds tests raises it, and ``SUITE_TESTS`` says which.
SUITE_VERSION = "1.9"

SUITE_TESTS: dict[str, str] = {}
"""``"TestClass::test_name"`` of every suite test, to the suite version that added it."""

F = TypeVar("F", bound=Callable[..., Any])


def since(version: str) -> Callable[[F], F]:
    """Record the suite version a test appeared in (its id never changes afterwards)."""

    def record(test: F) -> F:
        owner = test.__qualname__.split(".")[0]
        SUITE_TESTS[f"{owner}::{test.__name__}"] = version
        return test

    return record


def refused(
    call: Callable[[], Any], error_type: type[Exception], message: str, what: str = ""
) -> Exception:
    """The error ``call()`` raises, which must be ``error_type`` and mention ``message``.

    ``what`` names the call in a failure (by default, the callable itself).
    """
    try:
        call()
    except error_type as error:
        assert message in str(error), (what, str(error)) if what else str(error)
        return error
    raise AssertionError(f"{what or call} did not raise {error_type.__name__}")


class SuiteBase(MultiBackendTestBase):
    """Base of the suite's classes: all suite models start empty in every test."""

    def get_test_models(self) -> list[type[Model]]:
        """Every model the suite stores."""
        return list(SUITE_MODELS)


S = TypeVar("S", bound=type[SuiteBase])


def _release(version: str) -> tuple[int, ...]:
    """A suite version as numbers, so that "1.10" comes after "1.9"."""
    return tuple(int(part) for part in version.split("."))


def through_async(version: str) -> Callable[[S], S]:
    """Make a class run its base's tests on the async surface; record them as new in ``version``.

    The class's models are bound to a backend whose sync methods run the real backend's
    awaitable twins on an event loop of the driver's, in its own thread, and its DSL steps
    run on the model's async API there; a blocking network call on that loop fails the test.
    """

    def variant(cls: S) -> S:
        cls._orm_async_surface = True
        cls._orm_forbid_blocking_io = True
        for name in dir(cls):
            if name.startswith("test_"):
                # A test its twin gained later is new here in the same later version.
                own = next(
                    (
                        SUITE_TESTS[key]
                        for base in cls.__mro__[1:]
                        if (key := f"{base.__name__}::{name}") in SUITE_TESTS
                    ),
                    version,
                )
                SUITE_TESTS[f"{cls.__name__}::{name}"] = max(version, own, key=_release)
        return cls

    return variant
