"""The driver of the in-memory backend, registered through the same entry point as any other."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from restmachine_orm import InMemoryBackend, Model

from .driver import DriverInterface
from .hooks import DriverFactory, hookimpl

__all__ = ["InMemoryDriver", "restmachine_orm_testing_drivers"]


class InMemoryDriver(DriverInterface):
    """Drives a private ``InMemoryBackend``; a reset clears the test's models."""

    def __init__(self) -> None:
        """Create the driver with its own empty backend."""
        self.backend = InMemoryBackend()

    def get_backend_name(self) -> str:
        """Return ``"inmemory"``."""
        return "inmemory"

    def reset(self, models: Sequence[type[Model]]) -> None:
        """Clear the models' rows: one dictionary operation per model."""
        for model in models:
            self.backend.clear(model.orm_schema())


@hookimpl
def restmachine_orm_testing_drivers() -> Mapping[str, DriverFactory]:
    """Register the in-memory driver."""
    return {"inmemory": InMemoryDriver}
