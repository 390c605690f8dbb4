"""Tasks cancelled while their write is in flight leave it whole or absent, never half-done.

Each test starts a write as a task and cancels it at a series of points: before it starts,
after a few turns of the event loop, after a few milliseconds (a request on the wire).
Then storage must settle into a whole state: the row with its unique value claimed, or
neither; every row of a batch, or none. A backend may finish a cancelled write in the
background (a sync-only backend's worker thread cannot be stopped), so the state is read
until it is whole, for ``SETTLE_SECONDS`` at most: an orphaned claim or a partial batch
never settles and fails the test, naming what it found. The package's own tests run this
class on a backend that claims the unique value, then writes the row after an ``await``,
leaving the claim behind when cancelled in between.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from restmachine_orm import DuplicateKeyError

from ._base import SuiteBase, since
from .models import Event, Member

__all__ = ["CANCEL_POINTS", "SETTLE_SECONDS", "TestCancelledTasks", "cancelled_at"]

AsyncOrm = tuple[Any, str]
#: Where a write is cancelled: after this many turns of the loop (an int) or seconds (a float).
CANCEL_POINTS: tuple[int | float, ...] = (0, 1, 2, 3, 5, 8, 0.001, 0.003, 0.01, 0.03)
#: How long a cancelled write may take to settle into a whole state.
SETTLE_SECONDS = 5.0


async def cancelled_at(point: int | float, write: Awaitable[Any]) -> None:
    """Start ``write`` as a task, cancel it at ``point``, and wait for the task to end."""
    task = asyncio.ensure_future(write)
    if isinstance(point, float):
        await asyncio.sleep(point)
    else:
        for _ in range(point):
            await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def settled(what: str, partial: Callable[[], Awaitable[str | None]]) -> None:
    """Wait until ``partial()`` finds nothing half-written; fail with what it last found."""
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    while True:
        found = await partial()
        if found is None:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: {found}, still {SETTLE_SECONDS}s after the cancel")
        await asyncio.sleep(0.02)


async def _claimed(email: str) -> bool:
    """Whether ``email`` is taken: a probe row claiming it is refused (else removed again)."""
    try:
        probe = await Member.acreate(id=f"probe-{email}", email=email, name="probe")
    except DuplicateKeyError as error:
        assert error.fields == ("email",), error
        return True
    await probe.adelete()
    return False


class TestCancelledTasks(SuiteBase):
    """A write cancelled mid-flight: whole or absent, on every backend."""

    _orm_forbid_blocking_io = True

    @since("1.3")
    async def test_a_cancelled_create_leaves_row_and_claim_together(self, aorm: AsyncOrm) -> None:
        for index, point in enumerate(CANCEL_POINTS):
            key, email = f"c{index}", f"c{index}@example.com"
            await cancelled_at(point, Member.acreate(id=key, email=email, name="C"))

            async def partial(key: str = key, email: str = email) -> str | None:
                row, claimed = await Member.aget(id=key), await _claimed(email)
                if row is None and claimed:
                    return f"{email} is claimed by no row (an orphaned claim)"
                if row is not None and not claimed:
                    return f"row {key} is stored without its claim on {email}"
                return None

            await settled(f"create cancelled at {point!r}", partial)

    @since("1.3")
    async def test_a_cancelled_batch_leaves_every_row_or_none(self, aorm: AsyncOrm) -> None:
        for index, point in enumerate(CANCEL_POINTS):
            stream = f"batch{index}"
            rows = [{"stream": stream, "seq": seq} for seq in range(30)]
            await cancelled_at(point, Event.acreate_many(rows))

            async def partial(stream: str = stream) -> str | None:
                found = await Event.where(stream=stream).acount()
                return None if found in (0, 30) else f"{found} of the batch's 30 rows stored"

            await settled(f"create_many cancelled at {point!r}", partial)
