"""The driver of the SQLite backend, found by restmachine-orm-testing through the entry point."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from restmachine_orm import Model
from restmachine_orm_testing import DriverInterface, hookimpl
from restmachine_orm_testing.hooks import DriverFactory

from .backend import SQLiteBackend

__all__ = ["SQLiteDriver", "restmachine_orm_testing_drivers"]


class SQLiteDriver(DriverInterface):
    """A private in-memory SQLite database per test session (and per xdist worker)."""

    def __init__(self) -> None:
        """Open the database."""
        self.backend = SQLiteBackend(":memory:")

    def get_backend_name(self) -> str:
        """Return ``"sqlite"``."""
        return "sqlite"

    def reset(self, models: Sequence[type[Model]]) -> None:
        """Empty the models' tables: one DELETE each."""
        for model in models:
            self.backend.clear(model.orm_schema())


@hookimpl
def restmachine_orm_testing_drivers() -> Mapping[str, DriverFactory]:
    """Register the ``sqlite`` driver."""
    return {"sqlite": SQLiteDriver}
