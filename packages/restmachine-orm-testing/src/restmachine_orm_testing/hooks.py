"""The pluggy hooks through which backend packages register their drivers.

A backend package declares an entry point in the group ``restmachine_orm_testing`` naming a
module; that module implements the hook below, marked with ``hookimpl``::

    # pyproject.toml
    [project.entry-points.restmachine_orm_testing]
    mybackend = "my_backend.testing"

    # my_backend/testing.py
    from restmachine_orm_testing import hookimpl

    @hookimpl
    def restmachine_orm_testing_drivers():
        return {"mybackend": MyBackendDriver}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .driver import DriverInterface

__all__ = ["ENTRY_POINT_GROUP", "PROJECT", "DriverFactory", "hookimpl", "hookspec"]

PROJECT = "restmachine_orm_testing"
#: The entry-point group backend packages register their driver modules under.
ENTRY_POINT_GROUP = PROJECT

DriverFactory = Callable[[], "DriverInterface"]
"""Makes a driver with no arguments; a ``DriverInterface`` subclass is one."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marks a plugin's implementation of ``restmachine_orm_testing_drivers``."""


@hookspec
def restmachine_orm_testing_drivers() -> Mapping[str, DriverFactory]:  # type: ignore[empty-body]
    """Return the drivers a plugin provides, as ``{backend_name: factory}``."""
