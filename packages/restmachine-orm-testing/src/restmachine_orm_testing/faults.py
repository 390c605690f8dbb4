"""``OrmFaults``: failure as a test input, acted out by the backend under test.

The ``orm_faults`` fixture makes one for a test. In a ``MultiBackendTestBase`` class it is
aimed at the backend the test runs on, sync or async; elsewhere ``attach(backend)`` aims it
at a backend of the test's own. Its methods (``throttle``, ``fail``, ``lose_response``,
``unprocessed``, ``latency``, ``calls``) are ``restmachine_orm.faults.FaultPlan``'s: the
backend asks the plan before each request it sends, below its retries, so what a test sees
is what its code would see from a struggling service. After the test every backend it was
attached to is given back without faults, whether the test passed or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from restmachine_orm import Backend
from restmachine_orm.faults import FaultPlan

__all__ = ["FaultsUnsupportedError", "OrmFaults"]


class FaultsUnsupportedError(Exception):
    """The backend cannot act out injected faults: it lacks the ``faults`` capability."""


class OrmFaults(FaultPlan):
    """A ``FaultPlan`` attached to the backends a test uses, detached after it."""

    def __init__(self) -> None:
        """No faults yet, attached to no backend."""
        super().__init__()
        self._backends: list[Backend] = []

    def attach(self, backend: Backend) -> None:
        """Have ``backend`` act out this plan's faults until the test ends.

        Raises:
            FaultsUnsupportedError: ``backend`` lacks the ``faults`` capability.
        """
        if "faults" not in backend.capabilities:
            raise FaultsUnsupportedError(
                f"{type(backend).__name__} cannot act out injected faults: it does not list "
                "the 'faults' capability (see Backend.inject_faults)"
            )
        backend.inject_faults(self)
        self._backends.append(backend)

    def detach(self) -> None:
        """Give every attached backend back without faults."""
        while self._backends:
            self._backends.pop().inject_faults(None)

    @contextmanager
    def attached(self, backend: Backend) -> Iterator[OrmFaults]:
        """``attach(backend)`` for the block, ``detach()`` after it (outside pytest too)."""
        self.attach(backend)
        try:
            yield self
        finally:
            self.detach()
