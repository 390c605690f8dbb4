"""The ``Backend`` contract every storage backend implements, and the errors it raises.

Backends receive validated input only: a ``ModelSchema`` describing the model, rows as
``{field: python value}`` dicts (what ``model_dump()`` returns), keys as tuples in
``schema.key_fields`` order and queries as a ``QuerySpec`` holding a parsed filter tree.
They return rows in the same shape. Rows passed in are never mutated by a backend, and rows
handed out are never mutated by the ORM, so either side may keep them without copying.

Every method has an awaitable twin named with an ``a`` prefix (``insert`` → ``ainsert``),
which the model's async API (``await User.acreate(...)``) calls. A backend implements, for
each pair, the sync method, the async one, or both:

- sync only (a third party's backend, the SQLite example): the async twins run the sync
  method in a worker thread (``asyncio.to_thread``), so the event loop never blocks on its
  I/O; this costs a thread hop (tens of microseconds) per call. A backend whose sync
  methods never wait on I/O says ``blocking = False`` and is called on the loop directly.
- async only: the sync methods raise ``AsyncOnlyBackendError`` naming the awaitable to use.
- both (the DynamoDB backend): each side runs natively.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, ClassVar, TypeVar

from typing_extensions import Self

from ..errors import (
    AsyncOnlyBackendError,
    BackendError,
    ConcurrentModificationError,
    ConditionFailedError,
    DuplicateKeyError,
    ModelDefinitionError,
    NotFoundError,
    OrmError,
    PartialWriteError,
    QueryError,
    TransactionError,
    WriteOutcomeUnknownError,
)
from ..faults import FaultPlan
from ..query.access import access_path
from ..query.filters import Filter
from ..query.plan import Plan
from ..query.spec import QuerySpec
from ..schema import ModelSchema
from .actions import Action

__all__ = [
    "CAPABILITIES",
    "AsyncOnlyBackendError",
    "Backend",
    "BackendError",
    "ConcurrentModificationError",
    "ConditionFailedError",
    "DuplicateKeyError",
    "Key",
    "ModelDefinitionError",
    "NotFoundError",
    "OrmError",
    "PartialWriteError",
    "QueryError",
    "Row",
    "TransactionError",
    "WriteOutcomeUnknownError",
    "given",
]

Row = dict[str, Any]
"""A stored row: field name to Python value."""

Key = tuple[Any, ...]
"""A row's key: the values of ``schema.key_fields``, in that order."""

#: Optional features a backend may have, and what each means. A backend lists the ones it
#: has in ``Backend.capabilities``; tests use them to skip what a backend cannot do, and the
#: docs print them as the support table.
CAPABILITIES: dict[str, str] = {
    "transactions": "runs transaction() blocks: the writes of several rows, of any models, "
    "all or none (and claims unique values in the same atomic write as the row)",
    "order_by_any_field": "orders results by any field, not only by the sort key",
    "offset": "skips rows with offset()",
    "sort_key_range": "answers range lookups on the sort key from the key index",
    "conditions": "writes only if a condition holds on the stored row (save and delete "
    "with condition=), checked atomically with the write",
    "atomic_updates": "applies changes computed from the stored values (F expressions: "
    "Increment, Append, AddToSet, RemoveFromSet) in the write itself, with nothing read first",
    "faults": "acts out a FaultPlan (inject_faults): throttled, failed and lost requests, "
    "batch leftovers and latency, below its retries, as the fixture orm_faults asks",
    "ttl": "expires rows (Field(ttl=True)): a row whose time has passed by the ORM's clock "
    "is absent from every read and write at once, and a create may take its key and unique "
    "values again",
}


_T = TypeVar("_T")

#: Backend methods, each with an awaitable twin named ``"a" + name``.
_METHODS = (
    "insert",
    "get",
    "update",
    "upsert",
    "delete",
    "query",
    "count",
    "exists",
    "clear",
    "insert_many",
    "get_many",
)

#: For each backend method, the model call that reaches it and that call's awaitable twin:
#: what an error on an async-only backend tells the user to write instead.
_USER_CALLS: dict[str, tuple[str, str]] = {
    "insert": ("{model}.create(...)", "await {model}.acreate(...)"),
    "get": ("{model}.get(...)", "await {model}.aget(...)"),
    "update": ("instance.save()", "await instance.asave()"),
    "upsert": ("{model}.upsert(...)", "await {model}.aupsert(...)"),
    "delete": ("instance.delete()", "await instance.adelete()"),
    "query": (
        "{model}.where(...).all() (or first(), paginate(), a for loop)",
        "await {model}.where(...).aall() (or afirst(), apaginate(), async for)",
    ),
    "count": ("{model}.where(...).count()", "await {model}.where(...).acount()"),
    "exists": ("{model}.where(...).exists()", "await {model}.where(...).aexists()"),
    "clear": ("backend.clear()", "await backend.aclear()"),
    "insert_many": ("{model}.create_many(...)", "await {model}.acreate_many(...)"),
    "get_many": ("{model}.get_many(...)", "await {model}.aget_many(...)"),
    "transact": ("with transaction() as tx: ...", "async with transaction() as tx: ..."),
}

#: Rows a sync-only backend's query hands over per trip to its worker thread.
_ROWS_PER_TRIP = 256


class Backend:
    """Where models are stored. Subclass it to add a storage engine.

    Every method must behave as ``InMemoryBackend`` does, which is the reference: the same
    rows, the same order when one is asked for, the same errors. A backend with the ``ttl``
    capability treats a row of a model with an expiry field (``schema.ttl_field``) that has
    expired at ``restmachine_orm.clock.now()`` as absent in every method: reads leave it out
    (``restmachine_orm.query.expiry.live_spec`` gives the query to evaluate), writes that
    need the row find none, and a create takes its key and unique values. Implement each method,
    its awaitable ``a``-twin, or both (see the module docstring); a class leaving both of a
    pair out cannot be instantiated.
    """

    #: The optional features of this backend (names from ``CAPABILITIES``).
    capabilities: ClassVar[frozenset[str]] = frozenset()

    #: Whether the sync methods may wait on I/O. When ``False`` (the in-memory backend),
    #: the default async twins call them directly on the event loop instead of in a thread.
    blocking: bool = True

    #: Whether queries may read every row of a model (a scan) to answer. A backend with
    #: ``allow_scan = False`` (both built-in ones take it as an argument) makes such a
    #: query raise ``QueryError`` before anything is read, as a model declared with
    #: ``allow_scan=False`` does.
    allow_scan: bool = True

    # The pairs of which a class implements neither side, found once per class.
    __orm_missing__: ClassVar[tuple[str, ...]] = _METHODS

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Note which method pairs the new class leaves wholly unimplemented."""
        super().__init_subclass__(**kwargs)
        cls.__orm_missing__ = tuple(
            name
            for name in _METHODS
            if getattr(cls, name) is getattr(Backend, name)
            and getattr(cls, "a" + name) is getattr(Backend, "a" + name)
        )

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        """Refuse to make a backend lacking both sides of a method pair."""
        if cls.__orm_missing__:
            wanted = ", ".join(f"{name} or a{name}" for name in cls.__orm_missing__)
            raise TypeError(f"Can't instantiate backend {cls.__name__}: it must implement {wanted}")
        return super().__new__(cls)

    def insert(self, schema: ModelSchema, row: Row) -> None:
        """Store a new row.

        Raises:
            DuplicateKeyError: The key, or a unique value, is taken; nothing is written.
        """
        raise self._async_only("insert", schema)

    def get(self, schema: ModelSchema, key: Key) -> Row | None:
        """Return the row with this key, or ``None``."""
        raise self._async_only("get", schema)

    def update(
        self,
        schema: ModelSchema,
        key: Key,
        changes: Row,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> Row:
        """Change some fields of an existing row and return the whole stored row.

        ``previous`` is the row as the caller last read or wrote it, when known. A backend
        may use it to release changed unique values without reading first, but must not
        trust it: the stored row may have changed since.

        When the model has a version field (``schema.version_field``), ``changes`` holds it
        with the new version, and the write must happen only if the stored version is the
        one before it (``changes[field] - 1``), checked atomically with the write.

        An atomic update (``instance.update``) sends, to a backend with the
        ``atomic_updates`` capability, changes that may be ``Increment``, ``Append``,
        ``AddToSet`` or ``RemoveFromSet`` (``restmachine_orm.query.changes``), to apply to
        the stored values in the write itself (``apply_change`` says how); its version
        field is ``Increment(1)``, with no version to check, and ``previous`` is ``None``.

        ``condition`` (only passed to a backend with the ``conditions`` capability) must
        hold on the stored row, checked atomically with the write. When several checks
        fail, the first of these is raised: the row is missing, the version moved, the
        condition does not hold.

        Raises:
            NotFoundError: No row has this key.
            DuplicateKeyError: A changed unique value is taken; nothing is written.
            ConcurrentModificationError: The stored version is not the expected one;
                nothing is written.
            ConditionFailedError: ``condition`` does not hold; nothing is written.
        """
        raise self._async_only("update", schema)

    def upsert(self, schema: ModelSchema, row: Row) -> Row:
        """Insert the row, or replace the row with its key; return the stored row.

        A replaced row keeps its ``auto_now_add`` values and releases its old unique values.
        A model's version field is stored as the replaced row's version plus one (1 for a
        new row), whatever the given row holds: an upsert is a write that checks no version.

        Raises:
            DuplicateKeyError: A unique value is held by another row; nothing is written.
        """
        raise self._async_only("upsert", schema)

    def delete(
        self,
        schema: ModelSchema,
        key: Key,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> None:
        """Remove a row and release its unique values.

        ``previous`` is the row as the caller last saw it, when known (see ``update``). For a
        model with a version field, a known ``previous`` makes the delete conditional on the
        stored version still being ``previous[field]``. ``condition`` is as for ``update``.

        Raises:
            NotFoundError: No row has this key.
            ConcurrentModificationError: The stored version is not ``previous``'s; nothing
                is deleted.
            ConditionFailedError: ``condition`` does not hold; nothing is deleted.
        """
        raise self._async_only("delete", schema)

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        """Yield the rows a query selects, in its order, offset and limit applied."""
        raise self._async_only("query", spec.schema)

    def count(self, spec: QuerySpec) -> int:
        """Count the rows matching ``spec.filter`` (the spec carries no order or slice)."""
        raise self._async_only("count", spec.schema)

    def exists(self, spec: QuerySpec) -> bool:
        """Tell whether any row matches ``spec.filter``, stopping at the first."""
        raise self._async_only("exists", spec.schema)

    def clear(self, schema: ModelSchema | None = None) -> None:
        """Delete every row of one model, or of every model when ``schema`` is ``None``."""
        raise self._async_only("clear", schema)

    def insert_many(self, schema: ModelSchema, rows: Sequence[Row]) -> None:
        """Store several new rows at once.

        Raises:
            DuplicateKeyError: A key or unique value is taken, or repeated within ``rows``.
        """
        raise self._async_only("insert_many", schema)

    def get_many(self, schema: ModelSchema, keys: Sequence[Key]) -> list[Row | None]:
        """Return the row of each key, in the order of ``keys`` (``None`` where missing)."""
        raise self._async_only("get_many", schema)

    def explain(self, spec: QuerySpec) -> Plan:
        """What ``query(spec)`` would ask the storage, worked out without reading anything.

        The default names the access path only; a backend that sends requests says which.
        """
        access = access_path(spec.schema, spec.filter)
        return Plan(access=access.kind, operation=access.kind, segments=spec.segments)

    def collect(self, specs: Sequence[QuerySpec]) -> list[list[Row]]:
        """The rows of several models' queries that pin one shared partition.

        ``Collection.read`` calls it with one spec per model, each pinning the same
        partition key text (their ``model_keys.pk`` templates are the same). The default
        runs each query; a backend storing the models together reads the partition once
        (DynamoDB: one ``Query`` per page for all of them). Each list is in its model's
        natural order for a partition (by sort key).
        """
        return [list(self.query(spec)) for spec in specs]

    async def acollect(self, specs: Sequence[QuerySpec]) -> list[list[Row]]:
        """Awaitable ``collect``."""
        found: list[list[Row]] = []
        for spec in specs:
            found.append([row async for row in self.aquery(spec)])
        return found

    def inject_faults(self, plan: FaultPlan | None) -> None:
        """Act out ``plan``'s faults on the requests sent from now on (``None``: stop).

        A backend with the ``faults`` capability implements it: before each request it
        would send (each try), below its retries, it asks ``plan.next(operation, model)``
        and acts out the answer (see ``restmachine_orm.faults``), so that its own retries
        and its recognition of a landed write are what a fault test exercises. A backend
        without a transport can serve each method through ``faults.call_with_faults``.

        Raises:
            BackendError: This backend cannot act faults out (it lacks the capability).
        """
        raise BackendError(
            f"{type(self).__name__} cannot act out injected faults: it does not list the "
            "'faults' capability (see Backend.inject_faults)"
        )

    def transact(self, actions: Sequence[Action]) -> list[Row | None]:
        """Apply a transaction's actions atomically: all of them, or none.

        Only called on a backend with the ``transactions`` capability, which implements
        this method or ``atransact``. Each action is judged against the data as committed
        before the transaction, as its backend method alone would judge it (``refusal``
        in ``restmachine_orm.backends.actions`` says how, given the stored row; unique
        values are checked as the methods check them). The actions touch distinct rows
        and claim distinct unique values, and there are at most ``MAX_ACTIONS``.

        Returns:
            Per action, the row it stored (``insert``, ``update``, ``upsert``), or ``None``
            (``delete``, ``check``).

        Raises:
            TransactionError: An action was refused; ``reasons`` holds, per action, ``None``
                or the error it alone would have raised. Nothing is written.
        """
        raise self._async_only("transact", actions[0].schema if actions else None)

    # -- the awaitable twins: by default, the sync method off the event loop -------------

    async def ainsert(self, schema: ModelSchema, row: Row) -> None:
        """Awaitable ``insert``."""
        await self._off_loop(self.insert, schema, row)

    async def aget(self, schema: ModelSchema, key: Key) -> Row | None:
        """Awaitable ``get``."""
        return await self._off_loop(self.get, schema, key)

    async def aupdate(
        self,
        schema: ModelSchema,
        key: Key,
        changes: Row,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> Row:
        """Awaitable ``update``."""
        return await self._off_loop(
            self.update, schema, key, changes, previous, **given(condition=condition)
        )

    async def aupsert(self, schema: ModelSchema, row: Row) -> Row:
        """Awaitable ``upsert``."""
        return await self._off_loop(self.upsert, schema, row)

    async def adelete(
        self,
        schema: ModelSchema,
        key: Key,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> None:
        """Awaitable ``delete``."""
        await self._off_loop(self.delete, schema, key, previous, **given(condition=condition))

    async def aquery(self, spec: QuerySpec) -> AsyncIterator[Row]:
        """Yield, asynchronously, the rows ``query`` selects.

        By default a blocking backend's rows are read in its worker thread a few hundred at
        a time, so no more are held than the sync iterator would hold in a page.
        """
        if not self.blocking:
            for row in self.query(spec):
                yield row
            return
        rows = await asyncio.to_thread(lambda: iter(self.query(spec)))
        while True:
            trip = await asyncio.to_thread(lambda: list(itertools.islice(rows, _ROWS_PER_TRIP)))
            for row in trip:
                yield row
            if len(trip) < _ROWS_PER_TRIP:
                return

    async def acount(self, spec: QuerySpec) -> int:
        """Awaitable ``count``."""
        return await self._off_loop(self.count, spec)

    async def aexists(self, spec: QuerySpec) -> bool:
        """Awaitable ``exists``."""
        return await self._off_loop(self.exists, spec)

    async def aclear(self, schema: ModelSchema | None = None) -> None:
        """Awaitable ``clear``."""
        await self._off_loop(self.clear, schema)

    async def ainsert_many(self, schema: ModelSchema, rows: Sequence[Row]) -> None:
        """Awaitable ``insert_many``."""
        await self._off_loop(self.insert_many, schema, rows)

    async def aget_many(self, schema: ModelSchema, keys: Sequence[Key]) -> list[Row | None]:
        """Awaitable ``get_many``."""
        return await self._off_loop(self.get_many, schema, keys)

    async def atransact(self, actions: Sequence[Action]) -> list[Row | None]:
        """Awaitable ``transact``."""
        return await self._off_loop(self.transact, actions)

    async def _off_loop(self, method: Callable[..., _T], *args: Any, **options: Any) -> _T:
        """Run a sync method so that it never blocks the event loop on I/O."""
        if not self.blocking:
            return method(*args, **options)
        return await asyncio.to_thread(method, *args, **options)

    def _async_only(self, method: str, schema: ModelSchema | None) -> AsyncOnlyBackendError:
        """The error of a sync call on a backend that implements only the async one."""
        model = "Model" if schema is None else schema.name
        sync, twin = (call.format(model=model) for call in _USER_CALLS[method])
        return AsyncOnlyBackendError(
            f"{type(self).__name__} serves only the async API: use {twin} instead of {sync} "
            f"(the backend implements a{method}, not {method})"
        )


def given(**options: Any) -> dict[str, Any]:
    """The options that were given (not ``None``): ``method(..., **given(condition=c))``.

    A backend method written before an option existed does not take it: the option is
    passed only when used, which the model does only on backends with the matching
    capability. Whatever wraps a backend passes options on the same way.
    """
    return {name: value for name, value in options.items() if value is not None}
