"""The ORM's clock: what "now" is for ``auto_now`` stamps and for rows that expire (TTL).

Every part of the ORM that needs the current time asks ``now()``, so a test can move time
for all of them at once with ``using(...)``: rows expire, and stamps are taken, at the time
it says, on every backend (DynamoDB's conditions carry the time as a value, never the
server's clock).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["now", "using"]

Source = Callable[[], dt.datetime]
"""A function returning the current time as a timezone-aware datetime."""


def _system() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# One source for the whole process, not per thread or task: a test moving time means it
# for the writers it starts too.
_source: Source = _system


def now() -> dt.datetime:
    """The current time, timezone-aware (UTC unless a test's source says otherwise)."""
    return _source()


@contextmanager
def using(source: Source) -> Iterator[None]:
    """Make ``source`` the clock inside the block: ``with clock.using(lambda: t): ...``.

    Raises:
        ValueError: ``source`` returns a naive datetime (checked once, on entry).
    """
    global _source
    if source().tzinfo is None:
        raise ValueError("clock.using() needs a source of timezone-aware datetimes")
    previous, _source = _source, source
    try:
        yield
    finally:
        _source = previous
