"""``OrmClock``: the ORM's clock in a test, stopped, and set or moved only by the test.

Everything the ORM stamps or compares with time (``auto_now_add``, ``auto_now``, the
mixins' timestamps, rows' expiry) reads ``restmachine_orm.clock.now()``. The ``orm_clock``
fixture makes an ``OrmClock`` that source for one test, on every backend alike (DynamoDB's
expiry conditions carry the ORM's time as a value, never the server's), and puts the real
clock back afterwards, whether the test passed or not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from restmachine_orm import clock

__all__ = ["OrmClock"]


class OrmClock:
    """A clock that stands still until the test sets or moves it.

    It starts at the real time, to the whole second, so that rows a test writes are
    current for a store that deletes expired items on its own (DynamoDB's TTL).
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        """Stand at ``start`` (a naive one is UTC), or at the real time."""
        self._now = _aware(start, "OrmClock(start)") if start is not None else _real_now()

    def now(self) -> dt.datetime:
        """The time by this clock: timezone-aware."""
        return self._now

    def set(self, moment: dt.datetime) -> None:
        """Stand at ``moment`` from now on (a naive one is UTC); it may be in the past.

        Raises:
            TypeError: ``moment`` is not a datetime.
        """
        self._now = _aware(moment, "orm_clock.set()")

    def advance(self, by: float | dt.timedelta) -> dt.datetime:
        """Move the clock on by ``by`` seconds (or a ``timedelta``); return the new time.

        Raises:
            TypeError: ``by`` is neither a number of seconds nor a ``timedelta``.
        """
        self._now = self.after(by)
        return self._now

    def after(self, by: float | dt.timedelta) -> dt.datetime:
        """The time ``by`` seconds (or a ``timedelta``) from now, by this clock.

        Raises:
            TypeError: ``by`` is neither a number of seconds nor a ``timedelta``.
        """
        if isinstance(by, dt.timedelta):
            return self._now + by
        if isinstance(by, bool) or not isinstance(by, (int, float)):
            raise TypeError(f"orm_clock takes seconds or a timedelta, not {by!r}")
        return self._now + dt.timedelta(seconds=by)

    @contextmanager
    def running(self) -> Iterator[OrmClock]:
        """Be the ORM's clock inside the block (what the ``orm_clock`` fixture does)."""
        with clock.using(self.now):
            yield self

    def __repr__(self) -> str:
        """The time it shows."""
        return f"OrmClock({self._now.isoformat()})"


def _real_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _aware(moment: object, where: str) -> dt.datetime:
    if not isinstance(moment, dt.datetime):
        raise TypeError(f"{where} takes a datetime, not {moment!r}")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)
