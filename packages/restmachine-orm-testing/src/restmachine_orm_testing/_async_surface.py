"""The async surface: a sync test's every backend call, made through the awaitable twins.

The conformance suite's ``*Async`` classes run the suite's own (sync) tests here. Their
models are bound to an ``AsyncRoutedBackend``, whose sync methods run the real backend's
``a``-methods on an event loop the driver owns, in a thread of its own; the DSL's steps run
the driver's ``aexecute_*`` methods (the model's async API) on that loop. So a test calling
``Member.create(...)`` exercises ``ainsert``, eight threads racing through ``create`` are
eight tasks on one loop, and the test body stays the sync suite's, unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from typing import Any, TypeVar

from restmachine_orm import Backend, Model, Plan
from restmachine_orm.backends.actions import Action
from restmachine_orm.backends.base import Key, Row, given
from restmachine_orm.faults import FaultPlan
from restmachine_orm.query import QuerySpec
from restmachine_orm.query.filters import Filter
from restmachine_orm.schema import ModelSchema

from ._loop_thread import LoopThread
from .driver import DriverInterface
from .operations import Operation, OperationResult

__all__ = ["AsyncRoutedBackend", "AsyncSurfaceDriver"]

T = TypeVar("T")


class AsyncRoutedBackend(Backend):
    """Serves every call, sync or async, with the wrapped backend's awaitable twin.

    Sync calls wait for the twin to finish on the loop; awaited calls made on another loop
    hop to it, since a backend's async resources (an HTTP session) belong to one loop.
    """

    def __init__(self, inner: Backend, loop: LoopThread) -> None:
        """Route calls to ``inner``'s twins on ``loop``; its capabilities are ``inner``'s."""
        self.inner = inner
        self._loop = loop
        # Instance values: the class attributes are the contract's defaults. A backend made
        # with allow_scan=False refuses scans here too.
        vars(self)["capabilities"] = inner.capabilities
        self.allow_scan = inner.allow_scan

    def inject_faults(self, plan: FaultPlan | None) -> None:
        """``inner`` acts the faults out: its twins are what this backend calls."""
        self.inner.inject_faults(plan)

    def _wait(self, call: Coroutine[Any, Any, T]) -> T:
        return self._loop.run(call)

    async def _hop(self, call: Coroutine[Any, Any, T]) -> T:
        return await self._loop.arun(call)

    def insert(self, schema: ModelSchema, row: Row) -> None:
        """``inner.ainsert`` on the loop."""
        self._wait(self.inner.ainsert(schema, row))

    def get(self, schema: ModelSchema, key: Key) -> Row | None:
        """``inner.aget`` on the loop."""
        return self._wait(self.inner.aget(schema, key))

    def update(
        self,
        schema: ModelSchema,
        key: Key,
        changes: Row,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> Row:
        """``inner.aupdate`` on the loop."""
        options = given(condition=condition)
        return self._wait(self.inner.aupdate(schema, key, changes, previous, **options))

    def upsert(self, schema: ModelSchema, row: Row) -> Row:
        """``inner.aupsert`` on the loop."""
        return self._wait(self.inner.aupsert(schema, row))

    def delete(
        self,
        schema: ModelSchema,
        key: Key,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> None:
        """``inner.adelete`` on the loop."""
        self._wait(self.inner.adelete(schema, key, previous, **given(condition=condition)))

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        """``inner.aquery`` on the loop, a row at a time as the caller asks."""
        rows = self.inner.aquery(spec)
        try:
            while True:
                found, row = self._wait(_next(rows))
                if not found:
                    return
                yield row
        finally:
            self._wait(_close(rows))

    def count(self, spec: QuerySpec) -> int:
        """``inner.acount`` on the loop."""
        return self._wait(self.inner.acount(spec))

    def exists(self, spec: QuerySpec) -> bool:
        """``inner.aexists`` on the loop."""
        return self._wait(self.inner.aexists(spec))

    def clear(self, schema: ModelSchema | None = None) -> None:
        """``inner.aclear`` on the loop."""
        self._wait(self.inner.aclear(schema))

    def insert_many(self, schema: ModelSchema, rows: Sequence[Row]) -> None:
        """``inner.ainsert_many`` on the loop."""
        self._wait(self.inner.ainsert_many(schema, rows))

    def get_many(self, schema: ModelSchema, keys: Sequence[Key]) -> list[Row | None]:
        """``inner.aget_many`` on the loop."""
        return self._wait(self.inner.aget_many(schema, keys))

    def transact(self, actions: Sequence[Action]) -> list[Row | None]:
        """``inner.atransact`` on the loop."""
        return self._wait(self.inner.atransact(actions))

    def collect(self, specs: Sequence[QuerySpec]) -> list[list[Row]]:
        """``inner.acollect`` on the loop (a ``Collection.read``)."""
        return self._wait(self.inner.acollect(specs))

    def explain(self, spec: QuerySpec) -> Plan:
        """``inner.explain``: it sends nothing, so it has no awaitable twin."""
        return self.inner.explain(spec)

    async def ainsert(self, schema: ModelSchema, row: Row) -> None:
        """``inner.ainsert`` on the loop."""
        await self._hop(self.inner.ainsert(schema, row))

    async def aget(self, schema: ModelSchema, key: Key) -> Row | None:
        """``inner.aget`` on the loop."""
        return await self._hop(self.inner.aget(schema, key))

    async def aupdate(
        self,
        schema: ModelSchema,
        key: Key,
        changes: Row,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> Row:
        """``inner.aupdate`` on the loop."""
        options = given(condition=condition)
        return await self._hop(self.inner.aupdate(schema, key, changes, previous, **options))

    async def aupsert(self, schema: ModelSchema, row: Row) -> Row:
        """``inner.aupsert`` on the loop."""
        return await self._hop(self.inner.aupsert(schema, row))

    async def adelete(
        self,
        schema: ModelSchema,
        key: Key,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> None:
        """``inner.adelete`` on the loop."""
        await self._hop(self.inner.adelete(schema, key, previous, **given(condition=condition)))

    async def aquery(self, spec: QuerySpec) -> AsyncIterator[Row]:
        """``inner.aquery`` on the loop."""
        rows = self.inner.aquery(spec)
        try:
            while True:
                found, row = await self._hop(_next(rows))
                if not found:
                    return
                yield row
        finally:
            await self._hop(_close(rows))

    async def acount(self, spec: QuerySpec) -> int:
        """``inner.acount`` on the loop."""
        return await self._hop(self.inner.acount(spec))

    async def aexists(self, spec: QuerySpec) -> bool:
        """``inner.aexists`` on the loop."""
        return await self._hop(self.inner.aexists(spec))

    async def aclear(self, schema: ModelSchema | None = None) -> None:
        """``inner.aclear`` on the loop."""
        await self._hop(self.inner.aclear(schema))

    async def ainsert_many(self, schema: ModelSchema, rows: Sequence[Row]) -> None:
        """``inner.ainsert_many`` on the loop."""
        await self._hop(self.inner.ainsert_many(schema, rows))

    async def aget_many(self, schema: ModelSchema, keys: Sequence[Key]) -> list[Row | None]:
        """``inner.aget_many`` on the loop."""
        return await self._hop(self.inner.aget_many(schema, keys))

    async def atransact(self, actions: Sequence[Action]) -> list[Row | None]:
        """``inner.atransact`` on the loop."""
        return await self._hop(self.inner.atransact(actions))

    async def acollect(self, specs: Sequence[QuerySpec]) -> list[list[Row]]:
        """``inner.acollect`` on the loop."""
        return await self._hop(self.inner.acollect(specs))


async def _next(rows: AsyncIterator[Row]) -> tuple[bool, Row]:
    """The next row, as ``(True, row)``, or ``(False, {})`` once there are no more."""
    try:
        return True, await rows.__anext__()
    except StopAsyncIteration:
        return False, {}


async def _close(rows: AsyncIterator[Row]) -> None:
    """Close an async generator left before its end (a ``first()``, a ``break``)."""
    aclose = getattr(rows, "aclose", None)
    if aclose is not None:
        await aclose()


class AsyncSurfaceDriver(DriverInterface):
    """Another driver's backend, reached only through its awaitable twins.

    Storage is emptied by the wrapped driver, as for any test; models are bound to an
    ``AsyncRoutedBackend`` over its backend; the DSL's operations run ``aexecute_*`` on the
    loop. At the end of each test, and before the loop closes, the wrapped driver's
    ``ateardown`` runs on the loop, so the backend holds no loop-bound resources between
    tests (an async test on another loop may come next).
    """

    def __init__(self, inner: DriverInterface) -> None:
        """Wrap ``inner``; its backend is reached (and connected) on first use only."""
        self.inner = inner
        self._loop = LoopThread(f"restmachine-orm async surface ({inner.get_backend_name()})")
        self._routed: AsyncRoutedBackend | None = None

    @property
    def backend(self) -> AsyncRoutedBackend:  # type: ignore[override]
        """The wrapped driver's backend, routed through its twins."""
        if self._routed is None:
            self._routed = AsyncRoutedBackend(self.inner.backend, self._loop)
        return self._routed

    @property
    def capabilities(self) -> frozenset[str]:
        """The wrapped driver's, known without connecting."""
        return self.inner.capabilities

    def get_backend_name(self) -> str:
        """The wrapped driver's backend name: the test ids do not change."""
        return self.inner.get_backend_name()

    def setup_backend(self, model_class: type[Model]) -> None:
        """Let the wrapped driver set the model up, then bind it to the routed backend."""
        self.inner.setup_backend(model_class)
        model_class.model_backend = self.backend

    def reset(self, models: Sequence[type[Model]]) -> None:
        """Empty the models' storage as the wrapped driver does."""
        self.inner.reset(models)

    def execute(self, operation: Operation) -> OperationResult:
        """Perform the operation on the model's async API, on the loop."""
        return self._loop.run(self.aexecute(operation))

    def end_test(self) -> None:
        """Release the backend's loop-bound resources once a test is over."""
        if self._routed is not None:
            self._loop.run(self.inner.ateardown())

    def close(self) -> None:
        """Release the backend's loop-bound resources and close the loop."""
        self._loop.close(self.inner.ateardown if self._routed is not None else None)
