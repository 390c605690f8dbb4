"""Find the installed drivers through their entry points, one plugin failure at a time."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import pluggy

from . import hooks
from .driver import DriverInterface
from .hooks import ENTRY_POINT_GROUP, DriverFactory

__all__ = [
    "FIRST_PARTY",
    "BackendNotInstalledError",
    "DriverRegistry",
    "RegisteredDriver",
    "UnknownBackendError",
]

#: Backends this project publishes, with the install line that provides each.
FIRST_PARTY: Mapping[str, str] = {
    "inmemory": 'pip install "restmachine-orm[testing]"',
    "dynamodb": 'pip install "restmachine-orm[dynamodb,testing]"',
}


class UnknownBackendError(LookupError):
    """No installed plugin provides a driver for this backend name."""


class BackendNotInstalledError(UnknownBackendError):
    """A first-party backend is named but its package is not installed."""


@dataclass(frozen=True)
class RegisteredDriver:
    """A driver a plugin registered.

    Attributes:
        name: The backend name.
        factory: Makes the driver.
        source: Where it comes from: distribution, version and module.
    """

    name: str
    factory: DriverFactory
    source: str


@dataclass
class DriverRegistry:
    """The drivers of the installed plugins, and the plugins that failed to load.

    Attributes:
        drivers: Registered drivers by backend name.
        failures: Plugin (entry point) name to the error that stopped it.
    """

    drivers: dict[str, RegisteredDriver] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> DriverRegistry:
        """Load every plugin of the ``restmachine_orm_testing`` entry-point group.

        Each entry point is loaded on its own, so one that fails to import is recorded in
        ``failures`` under its name and the others still register.
        """
        manager = pluggy.PluginManager(hooks.PROJECT)
        manager.add_hookspecs(hooks)
        registry = cls()
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=entry_point.name)
            except Exception as error:
                registry.failures[entry_point.name] = f"{type(error).__name__}: {error}"
        sources = {
            id(plugin): f"{dist.project_name} {dist.version} ({getattr(plugin, '__name__', '?')})"
            for plugin, dist in manager.list_plugin_distinfo()
        }
        for impl in manager.hook.restmachine_orm_testing_drivers.get_hookimpls():
            source = sources.get(id(impl.plugin), impl.plugin_name)
            try:
                provided = dict(cast("Mapping[str, DriverFactory]", impl.function()))
            except Exception as error:
                registry.failures[impl.plugin_name] = f"{type(error).__name__}: {error}"
                continue
            for name, factory in provided.items():
                registry._add(RegisteredDriver(name, factory, source))
        return registry

    def _add(self, driver: RegisteredDriver) -> None:
        taken = self.drivers.get(driver.name)
        if taken is not None:
            self.failures[driver.source] = (
                f"backend name {driver.name!r} is already registered by {taken.source}"
            )
            return
        self.drivers[driver.name] = driver

    @property
    def known_names(self) -> list[str]:
        """Every backend name a test may use: registered ones and first-party ones."""
        return sorted(set(self.drivers) | set(FIRST_PARTY))

    def create(self, name: str) -> DriverInterface:
        """Make the driver of a backend.

        Raises:
            BackendNotInstalledError: A first-party backend whose package is missing.
            UnknownBackendError: Nothing provides the name.
        """
        registered = self.drivers.get(name)
        if registered is not None:
            return registered.factory()
        if name in FIRST_PARTY:
            raise BackendNotInstalledError(
                f"backend {name!r} is not installed; to test on it: {FIRST_PARTY[name]}"
            )
        raise UnknownBackendError(
            f"no installed plugin provides a driver for backend {name!r}; "
            f"known backends: {', '.join(self.known_names)}"
        )
