"""Per-run state of the plugin, kept in ``config.stash``: registry, selection, drivers."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from ._async_surface import AsyncSurfaceDriver
from ._report import Matrix
from .driver import DriverInterface
from .registry import FIRST_PARTY, DriverRegistry

__all__ = ["ENV_BACKENDS", "STATE", "SessionState", "selected_backends"]

#: Environment variable narrowing the backends of a run, e.g. ``inmemory,dynamodb``.
ENV_BACKENDS = "RESTMACHINE_ORM_BACKENDS"


def selected_backends(
    options: Sequence[str] | None, registry: DriverRegistry
) -> frozenset[str] | None:
    """Read the run's backend selection (option first, then environment), or ``None``.

    Raises:
        pytest.UsageError: A selected name is neither registered nor a first-party backend.
    """
    names: list[str] = list(options or [])
    if not names:
        names = [part.strip() for part in os.environ.get(ENV_BACKENDS, "").split(",")]
    names = [name for name in names if name]
    if not names:
        return None
    unknown = [name for name in names if name not in registry.drivers and name not in FIRST_PARTY]
    if unknown:
        raise pytest.UsageError(
            f"restmachine-orm-testing: unknown backend {', '.join(map(repr, unknown))} selected "
            f"(--orm-backend / {ENV_BACKENDS}); known backends: {', '.join(registry.known_names)}"
        )
    return frozenset(names)


@dataclass
class SessionState:
    """What the plugin holds for one pytest run.

    Attributes:
        registry: The drivers installed plugins registered.
        selected: Backends chosen for this run, or ``None`` for each class's own list.
        matrix: Outcomes per test and backend, for the end-of-run report.
        drivers: One driver (or the error making it raised) per way of creating it.
        surfaces: The async surface over each driver that one was asked of, by its id.
        session: The run's session, once it has started.
    """

    registry: DriverRegistry
    selected: frozenset[str] | None
    matrix: Matrix = field(default_factory=Matrix)
    drivers: dict[tuple[Any, str], DriverInterface | Exception] = field(default_factory=dict)
    surfaces: dict[int, AsyncSurfaceDriver] = field(default_factory=dict)
    session: pytest.Session | None = None

    def driver_or_error(self, test_class: type[Any], name: str) -> DriverInterface | Exception:
        """Create a class's driver for a backend once per run, remembering a failure too.

        Drivers are cached by the ``create_driver`` function that makes them, so classes
        overriding it get their own while every other class shares one driver.
        """
        maker = test_class.create_driver
        cache_key = (getattr(maker, "__func__", maker), name)
        found = self.drivers.get(cache_key)
        if found is None:
            try:
                found = maker(name)
            except Exception as error:
                found = error
            self.drivers[cache_key] = found
        return found

    def async_surface(self, driver: DriverInterface) -> AsyncSurfaceDriver:
        """The driver reaching ``driver``'s backend through its twins: one per driver."""
        surface = self.surfaces.get(id(driver))
        if surface is None:
            surface = self.surfaces[id(driver)] = AsyncSurfaceDriver(driver)
        return surface

    def close(self) -> None:
        """Close every driver made during the run, the async surfaces over them first."""
        for surface in self.surfaces.values():
            surface.close()
        for driver in self.drivers.values():
            if isinstance(driver, DriverInterface):
                driver.close()


STATE = pytest.StashKey[SessionState]()
