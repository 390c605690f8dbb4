"""An asyncio event loop running in a thread of its own, for sync code to hand coroutines to.

The conformance suite's async surface runs every backend call of a sync test on such a
loop: the test's thread (or the eight threads of a race) waits for the result while the
backend's awaitable twin runs on the loop, concurrently with the other callers' twins.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """An event loop, started on first use in a daemon thread, closed by ``close()``."""

    def __init__(self, name: str) -> None:
        """Name the thread; nothing starts until a coroutine is handed over."""
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the loop and wait for its result (or its error).

        Raises:
            RuntimeError: Called from the loop's own thread, where waiting would deadlock.
        """
        loop = self._started()
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError(
                f"{self._name}: a sync call was made on the event loop's own thread; "
                "code running on the loop must await the async twin instead"
            )
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    async def arun(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Await a coroutine on this loop, from this loop or from another one."""
        loop = self._started()
        if asyncio.get_running_loop() is loop:
            return await coroutine
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, loop))

    def close(self, last: Callable[[], Awaitable[None]] | None = None) -> None:
        """Await ``last()`` on the loop (if it ever started), then stop and close it."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if last is not None:
                self.run(_awaited(last))
            self.run(_wind_down(loop))
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
            self._loop = self._thread = None

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._starting:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(
                    target=_serve, args=(loop, ready), name=self._name, daemon=True
                )
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop


def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    loop.run_forever()


async def _awaited(last: Callable[[], Awaitable[None]]) -> None:
    await last()


async def _wind_down(loop: asyncio.AbstractEventLoop) -> None:
    """Finish what a closing loop leaves: async generators, and the worker threads."""
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()
