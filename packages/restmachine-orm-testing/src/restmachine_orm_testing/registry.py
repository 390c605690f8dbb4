"""Find the installed drivers through their entry points, and every plugin that failed to load.

A plugin that is installed but fails to load is never taken for a backend that is not
installed: the run fails, naming the entry point and the error (see ``DriverLoadError``).
"""

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
    "DriverLoadError",
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


class DriverLoadError(RuntimeError):
    """An installed plugin failed to load, so the backends it provides cannot be tested."""


@dataclass(frozen=True)
class RegisteredDriver:
    """A driver a plugin registered.

    Attributes:
        name: The backend name.
        factory: Makes the driver.
        source: Where it comes from: distribution, version and module.
        package: The name of the distribution that provides it (``""`` if unknown).
        version: That distribution's version (``""`` if unknown).
    """

    name: str
    factory: DriverFactory
    source: str
    package: str = ""
    version: str = ""


@dataclass
class DriverRegistry:
    """The drivers of the installed plugins, and the plugins that failed to load.

    Attributes:
        drivers: Registered drivers by backend name.
        failures: Each plugin that failed (its entry point, ``name = module``, or where a
            clashing driver comes from) to the error that stopped it.
    """

    drivers: dict[str, RegisteredDriver] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> DriverRegistry:
        """Load every plugin of the ``restmachine_orm_testing`` entry-point group.

        Each entry point is loaded on its own, so one that fails to import is recorded in
        ``failures`` (as ``name = module``) and the others still register; whoever uses the
        registry decides what a failure means (``load_error``).
        """
        manager = pluggy.PluginManager(hooks.PROJECT)
        manager.add_hookspecs(hooks)
        registry = cls()
        entry_points = {}
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            entry_points[entry_point.name] = shown = f"{entry_point.name} = {entry_point.value}"
            try:
                manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=entry_point.name)
            except Exception as error:
                registry.failures[shown] = f"{type(error).__name__}: {error}"
        distributions = {
            id(plugin): (str(dist.project_name), str(dist.version))
            for plugin, dist in manager.list_plugin_distinfo()
        }
        for impl in manager.hook.restmachine_orm_testing_drivers.get_hookimpls():
            package, version = distributions.get(id(impl.plugin), ("", ""))
            module = getattr(impl.plugin, "__name__", "?")
            source = f"{package} {version} ({module})" if package else impl.plugin_name
            try:
                provided = dict(cast("Mapping[str, DriverFactory]", impl.function()))
            except Exception as error:
                where = entry_points.get(impl.plugin_name, impl.plugin_name)
                registry.failures[where] = f"{type(error).__name__}: {error}"
                continue
            for name, factory in provided.items():
                registry._add(RegisteredDriver(name, factory, source, package, version))
        return registry

    def _add(self, driver: RegisteredDriver) -> None:
        taken = self.drivers.get(driver.name)
        if taken is not None:
            self.failures[driver.source] = (
                f"backend name {driver.name!r} is already registered by {taken.source}"
            )
            return
        self.drivers[driver.name] = driver

    def failure_lines(self) -> list[str]:
        """One line per plugin that failed to load, naming it and its error."""
        return [
            f"plugin {where!r} failed to load: {why}"
            for where, why in sorted(self.failures.items())
        ]

    def load_error(self) -> DriverLoadError | None:
        """The error a run fails with when an installed plugin did not load, else ``None``."""
        if not self.failures:
            return None
        return DriverLoadError(
            "restmachine-orm-testing: "
            + "; ".join(self.failure_lines())
            + f" (entry-point group {ENTRY_POINT_GROUP!r}). An installed backend must load: "
            "repair the package that provides it, or uninstall it."
        )

    @property
    def known_names(self) -> list[str]:
        """Every backend name a test may use: registered ones and first-party ones."""
        return sorted(set(self.drivers) | set(FIRST_PARTY))

    def create(self, name: str) -> DriverInterface:
        """Make the driver of a backend.

        Raises:
            BackendNotInstalledError: A first-party backend whose package is missing.
            DriverLoadError: Nothing provides the name, and an installed plugin (perhaps
                the one providing it) failed to load.
            UnknownBackendError: Nothing provides the name.
        """
        registered = self.drivers.get(name)
        if registered is not None:
            return registered.factory()
        failed = self.load_error()
        if failed is not None:
            raise failed
        if name in FIRST_PARTY:
            raise BackendNotInstalledError(
                f"backend {name!r} is not installed; to test on it: {FIRST_PARTY[name]}"
            )
        raise UnknownBackendError(
            f"no installed plugin provides a driver for backend {name!r}; "
            f"known backends: {', '.join(self.known_names)}"
        )
