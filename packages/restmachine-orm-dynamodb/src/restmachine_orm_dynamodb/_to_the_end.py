"""Finish what was started: a write of several requests runs to its end when cancelled.

A task cancelled between two requests of one write would leave it half done: rows deleted
but not their unique-value sentinels, some transactions of a ``create_many`` stored and
nobody told. So such a write runs in a task of its own that the caller's cancellation does
not reach; the caller waits for it to end, then the cancellation goes on. If the write
failed instead, its error is raised: it says what was written and what was not (e.g. a
``PartialWriteError`` naming the rows not stored), which nobody could learn otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_to_the_end"]

T = TypeVar("T")


async def run_to_the_end(write: Coroutine[Any, Any, T]) -> T:
    """Await ``write``; if the caller is cancelled meanwhile, finish it, then re-raise.

    Raises:
        asyncio.CancelledError: The caller was cancelled (once the write succeeded).
        Exception: What the write raised, whether the caller was cancelled or not.
    """
    task = asyncio.ensure_future(write)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        while not task.done():
            try:
                await asyncio.wait([task])
            except asyncio.CancelledError:
                continue  # cancelled again: the write still has to end first
        if not task.cancelled() and (failure := task.exception()) is not None:
            # Its own cause is kept (not ``from``): it tells what was written.
            raise failure  # noqa: B904
        raise
