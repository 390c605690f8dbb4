"""In-memory backends with one guarantee broken, for proving that the suite's tests catch it.

Each subclasses ``InMemoryBackend`` and changes only what breaks its guarantee. Where that
is a race, a pause of 10 ms (a slow write to a networked store) opens the window between
check and write, wide enough that racing writers meet in it even on a loaded machine.
"""

from __future__ import annotations

import contextlib
import itertools
import time

from restmachine_orm import InMemoryBackend
from restmachine_orm_testing import InMemoryDriver

PAUSE = 0.01


class Unlocked(InMemoryBackend):
    """Checks and writes are separate steps: no lock holds them together."""

    def __init__(self):
        super().__init__()
        self._lock = contextlib.nullcontext()

    def _store(self, *args, **kwargs):
        time.sleep(PAUSE)  # after every check, before the write
        super()._store(*args, **kwargs)


class TornSaves(InMemoryBackend):
    """A save writes its changed fields one at a time, each atomically, not all at once.

    In no fixed order (every other save goes the other way), as a store writing fields
    independently would: savers stepping in lockstep would otherwise each write last in
    every field alike, and leave one save whole by luck.
    """

    def __init__(self):
        super().__init__()
        self._saves = itertools.count()

    def update(self, schema, key, changes, previous=None):
        names = sorted(changes, reverse=next(self._saves) % 2 == 1)
        for name in names:
            row = super().update(schema, key, {name: changes[name]}, previous)
            time.sleep(PAUSE)
        return row


class VersionBlind(InMemoryBackend):
    """Optimistic locking ignored: a write from a stale version goes through."""

    @staticmethod
    def _check_version(schema, key, old, expected):
        pass


def driver_of(backend_class):
    """A driver class for one of these backends, as the plugin makes drivers."""

    class Driver(InMemoryDriver):
        def __init__(self):
            self.backend = backend_class()

    return Driver
