"""``DynamoDBBackend``: the Backend contract on one DynamoDB table (single-table design).

Each operation is written once, as a flow (``_flow``): the sync method runs it with
``run`` over a blocking HTTP sender, its async twin (``a`` prefix) with ``arun`` over an
async one. The two differ in nothing else.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, TypeVar

import boto3
from botocore.config import Config

# Imported by full name, not ``from . import``: that form trusts the package's attributes,
# which outlive a reload of the submodules (pytest's in-process runs drop and re-import
# them), and would pair a fresh ``_flow`` runner with a stale module's steps.
import restmachine_orm_dynamodb._batch as _batch
import restmachine_orm_dynamodb._collect as _collect
import restmachine_orm_dynamodb._commit as _commit
import restmachine_orm_dynamodb._create_many as _create_many
import restmachine_orm_dynamodb._explain as _explain
import restmachine_orm_dynamodb._items as _items
import restmachine_orm_dynamodb._reads as _reads
import restmachine_orm_dynamodb._writes as _writes
from restmachine_orm import Backend, Model
from restmachine_orm.backends.actions import Action
from restmachine_orm.backends.base import Key, Row
from restmachine_orm.faults import ATTEMPTS, FaultPlan, operation_of
from restmachine_orm.query import QuerySpec
from restmachine_orm.query.expiry import live_spec
from restmachine_orm.query.filters import Filter
from restmachine_orm.query.plan import Plan
from restmachine_orm.schema import ModelSchema

from ._faults import Faults
from ._features import FEATURES
from ._flow import Flow, arun, run
from ._http_async import AiohttpSender
from ._http_sync import BlockingSender
from ._keys import Gsi, KeyScheme
from ._observe import ConsumedCapacity, Scope, Watch
from ._once import known
from ._protocol import Interceptor, Protocol
from ._retries import RetryConfig
from ._table import Table
from ._to_the_end import run_to_the_end

__all__ = ["DEFAULT_CONFIG", "DynamoDBBackend"]

T = TypeVar("T")

#: botocore settings used when the backend makes its own client: throttling and transient
#: errors are retried with botocore's standard retry mode (applied by the protocol layer,
#: ``_protocol``), and the timeouts are bounded.
#: The client config the backend makes its client with: standard retries, ``ATTEMPTS``
#: tries in all (``max_attempts`` counts the retries), and short timeouts.
DEFAULT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": ATTEMPTS - 1},
    connect_timeout=5,
    read_timeout=15,
)


class DynamoDBBackend(Backend):
    """Stores every model in one DynamoDB table, keyed by model name and key fields.

    Point operations send one request each (conditional ``PutItem``, ``GetItem``,
    ``UpdateItem``, ``DeleteItem``); models with unique fields claim their values with
    sentinel items in the same ``TransactWriteItems``. Queries use ``Query`` when the
    filter fixes the partition key, ``GetItem`` when it fixes a whole key or a unique value,
    and ``Scan`` otherwise; ordering other than the natural one happens client-side.

    Every method has an async twin (``ainsert``, ``aget``, ... ``aquery``) sending the same
    requests without blocking the event loop. Connections are opened on first use;
    ``close()`` (sync) or ``aclose()`` / ``async with backend:`` (async) release them::

        async with DynamoDBBackend("app", region_name="eu-west-1") as backend:
            User.model_backend = backend
            await User.acreate(id="u1")

    A write that may send several write requests (a model with unique fields, a
    ``create_many``, a ``clear``) runs to its end when its task is cancelled, then the
    cancellation propagates: nothing is left half-written.
    """

    capabilities: ClassVar[frozenset[str]] = FEATURES

    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        session: boto3.session.Session | None = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        config: Config | None = None,
        retries: RetryConfig | None = None,
        pk_attribute: str = "pk",
        sk_attribute: str = "sk",
        entity_attribute: str = "_type",
        consumed_capacity: bool = False,
        tracing: Any = False,
        allow_scan: bool = True,
    ) -> None:
        """Use ``table_name`` through ``client``, or a client made from the other options.

        Args:
            table_name: The table holding every model.
            client: A boto3 DynamoDB client; its credentials, region, endpoint and config
                are used. Made from the options below when omitted.
            session: The boto3 ``Session`` making the client (its credentials, profile and
                region); boto3's default session when omitted.
            region_name: AWS region of the client to make.
            endpoint_url: Endpoint of the client to make (e.g. DynamoDB Local).
            config: botocore ``Config`` of the client to make (``DEFAULT_CONFIG`` if omitted):
                its timeouts, and its retry mode and attempts for throttled and failed
                requests.
            retries: The backend's own retries: unprocessed batch items, cancelled
                transactions, contended rows and claims (``RetryConfig()`` if omitted).
            pk_attribute: Name of the table's partition key attribute.
            sk_attribute: Name of the table's sort key attribute.
            entity_attribute: Name of the attribute holding each item's model name.
            consumed_capacity: Ask DynamoDB, with every request, for the capacity it
                consumed, and keep the totals per model and operation
                (``consumed_capacity``). ``capacity()`` asks for the requests inside it
                either way.
            tracing: ``True``, or an OpenTelemetry ``TracerProvider``: a span per ORM
                operation and one per DynamoDB request below it (the global provider for
                ``True``). Needs ``pip install "restmachine-orm-dynamodb[otel]"``.
            allow_scan: ``False`` refuses every query that would ``Scan`` (read all of a
                model's rows) with ``QueryError`` before any request: the key, a unique
                field or an index must pin it.
        """
        self.allow_scan = allow_scan
        if client is None:
            client = (session or boto3.session.Session()).client(
                "dynamodb",
                region_name=region_name,
                endpoint_url=endpoint_url,
                config=config or DEFAULT_CONFIG,
            )
        self._client = client
        protocol = Protocol.from_client(client)
        self._watch = Watch(consumed_capacity=consumed_capacity, tracer=_tracer(tracing))
        protocol.watch = self._watch
        self._table = Table(
            protocol,
            table_name,
            KeyScheme(pk_attribute, sk_attribute, entity_attribute),
            retries or RetryConfig(),
        )
        self._sender = BlockingSender(protocol.http)
        # A backend dropped without close() still releases its connections (no socket is
        # left for the garbage collector to warn about).
        weakref.finalize(self, self._sender.close)
        self._async_sender: AiohttpSender | None = None  # made on first async use
        self._checked: set[type[Any]] = set()

    @property
    def client(self) -> Any:
        """The boto3 DynamoDB client the backend was made with (or made itself)."""
        return self._client

    @property
    def table_name(self) -> str:
        """The name of the table holding every model."""
        return self._table.name

    @property
    def keys(self) -> KeyScheme:
        """The attribute names and key formats the table's items live."""
        return self._table.keys

    @property
    def consumed_capacity(self) -> ConsumedCapacity:
        """The capacity units the backend's requests consumed, per model and operation.

        Running totals since the backend was made or ``consumed_capacity.reset()``; DynamoDB
        reports them when the backend was made with ``consumed_capacity=True`` (or inside
        ``capacity()``)::

            backend.consumed_capacity.write                       # every write unit
            backend.consumed_capacity.by_operation[("User", "create")].write
        """
        return self._watch.totals

    def capacity(self) -> AbstractContextManager[ConsumedCapacity]:
        """Count the capacity units that the code inside consumes on this backend.

        ::

            with backend.capacity() as used:
                User.create(id="u1", email="ann@example.com")
            used.write  # 4.0: the row and its claim, in one transaction (2 units each)

        The requests sent inside ask DynamoDB for their consumed capacity whatever the
        backend's ``consumed_capacity``. Only the code inside counts (a context variable
        marks it: other threads and tasks running meanwhile do not), including the worker
        threads and tasks of its batches. Blocks may nest; each counts what it holds.
        """
        return self._watch.meter()

    @property
    def interceptors(self) -> list[Interceptor]:
        """A testing hook: functions called with ``(operation, body)`` before each attempt.

        Each may change the request body, or return an ``HttpResponse`` that is then read
        as if DynamoDB had sent it, nothing being sent (to inject throttling, lost
        answers, partial batches). Append to the list to install one; remove it to
        uninstall. Meant for tests: the body's shape is DynamoDB's, not a stable API.
        """
        return self._table.protocol.interceptors

    def inject_faults(self, plan: FaultPlan | None) -> None:
        """Act out ``plan``'s faults in the transport, below the retries (``None``: stop).

        Before each attempt of each request of an ORM operation, the plan says what to do
        to it (see ``restmachine_orm.faults``): a throttled or failed answer is made up
        without sending, a lost answer is sent and then dropped, a batch is sent in part
        and the rest handed back unprocessed. botocore's standard-mode retries, the batch
        leftover retries and the recognition of a landed write then run as against AWS.
        The client's retry budget is refilled on each call.
        """
        protocol = self._table.protocol
        protocol.faults = None if plan is None else Faults(plan)
        self._watch.scoped = plan is not None
        # Each fault test starts, and leaves, the client's retry budget full: what one
        # test's failures cost it must not make the next one's retries give up.
        protocol.quota.refill()

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Release the sync connections; the backend opens new ones if used again.

        Async connections belong to an event loop: ``aclose()`` releases them, and so does
        the end of ``asyncio.run`` (or of an ``asyncio.Runner``).
        """
        self._sender.close()

    async def aclose(self) -> None:
        """Release the running event loop's connections, and the sync ones.

        The backend stays usable: it opens new connections if used again. Use it (or
        ``async with backend:``) where a loop lives on after its work with the backend.
        """
        if self._async_sender is not None:
            await self._async_sender.aclose()
        self.close()

    async def __aenter__(self) -> DynamoDBBackend:
        """``async with backend:`` closes its connections at the end of the block."""
        return self

    async def __aexit__(self, *_: object) -> None:
        """Close the connections (``aclose``)."""
        await self.aclose()

    # -- table administration -----------------------------------------------------------

    def create_table(self, models: Sequence[type[Model]] = ()) -> None:
        """Create the table (on-demand billing) unless it exists; wait until it is ACTIVE.

        Args:
            models: Models whose ``index=True`` fields get their global secondary index
                (added to an existing table if it lacks them). If one has a
                ``Field(ttl=True)``, DynamoDB's TTL is enabled on the table's TTL attribute
                (``_ttl``), so that it deletes expired rows and their sentinels in time.
        """
        expiring = any(model.orm_schema().ttl_field is not None for model in models)
        flow = self._table.create(_indexes(self.keys, models), expiring=expiring)
        self._run(flow, _models(models), "create_table")

    def ensure_indexes(self, models: Sequence[type[Model]]) -> None:
        """Add the global secondary indexes these models declare, if the table lacks them."""
        self._run(
            self._table.add_indexes(_indexes(self.keys, models)), _models(models), "ensure_indexes"
        )

    def index_names(self) -> set[str]:
        """The table's global secondary indexes (read once, then remembered)."""
        return self._run(self._table.index_names(), "-", "index_names")

    # -- writes -------------------------------------------------------------------------

    def insert(self, schema: ModelSchema, row: Row) -> None:
        """Store a new row: conditional ``PutItem``, or one transaction with its claims."""
        flow = _writes.insert(self._table, self._schema(schema), row)
        self._run(known(flow, schema.name, _key_of(schema, row), "create"), schema.name, "create")

    async def ainsert(self, schema: ModelSchema, row: Row) -> None:
        """Async twin of ``insert``."""
        flow = _writes.insert(self._table, self._schema(schema), row)
        flow = known(flow, schema.name, _key_of(schema, row), "create")
        ends = _writes.may_send_more_than_one_write(schema)
        await self._arun(flow, schema.name, "create", to_the_end=ends)

    def update(
        self,
        schema: ModelSchema,
        key: Key,
        changes: Row,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> Row:
        """Change fields with one ``UpdateItem`` (one transaction if unique values change)."""
        flow = _writes.update(self._table, self._schema(schema), key, changes, previous, condition)
        operation = operation_of("update", previous=previous)
        flow = known(flow, schema.name, schema.key_dict(key), operation)
        return self._run(flow, schema.name, operation)

    async def aupdate(
        self,
        schema: ModelSchema,
        key: Key,
        changes: Row,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> Row:
        """Async twin of ``update``."""
        flow = _writes.update(self._table, self._schema(schema), key, changes, previous, condition)
        ends = _writes.may_send_more_than_one_write(schema)
        operation = operation_of("update", previous=previous)
        flow = known(flow, schema.name, schema.key_dict(key), operation)
        return await self._arun(flow, schema.name, operation, to_the_end=ends)

    def upsert(self, schema: ModelSchema, row: Row) -> Row:
        """Insert or replace a row whole, keeping ``auto_now_add`` values of a replaced one."""
        flow = _writes.upsert(self._table, self._schema(schema), row)
        flow = known(flow, schema.name, _key_of(schema, row), "upsert")
        return self._run(flow, schema.name, "upsert")

    async def aupsert(self, schema: ModelSchema, row: Row) -> Row:
        """Async twin of ``upsert``."""
        flow = _writes.upsert(self._table, self._schema(schema), row)
        flow = known(flow, schema.name, _key_of(schema, row), "upsert")
        ends = _writes.may_send_more_than_one_write(schema)
        return await self._arun(flow, schema.name, "upsert", to_the_end=ends)

    def delete(
        self,
        schema: ModelSchema,
        key: Key,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> None:
        """Delete a row: ``DeleteItem``, or one transaction releasing its unique values."""
        flow = _writes.delete(self._table, self._schema(schema), key, previous, condition)
        self._run(known(flow, schema.name, schema.key_dict(key), "delete"), schema.name, "delete")

    async def adelete(
        self,
        schema: ModelSchema,
        key: Key,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> None:
        """Async twin of ``delete``."""
        flow = _writes.delete(self._table, self._schema(schema), key, previous, condition)
        flow = known(flow, schema.name, schema.key_dict(key), "delete")
        ends = _writes.may_send_more_than_one_write(schema)
        await self._arun(flow, schema.name, "delete", to_the_end=ends)

    def insert_many(self, schema: ModelSchema, rows: Sequence[Row]) -> None:
        """Store new rows after checking that none of their keys or values is taken.

        See ``restmachine_orm_dynamodb._create_many`` for the requests it sends.
        """
        flow = _create_many.insert_many(self._table, self._schema(schema), rows)
        self._run(known(flow, schema.name, {}, "create_many"), schema.name, "create_many")

    async def ainsert_many(self, schema: ModelSchema, rows: Sequence[Row]) -> None:
        """Async twin of ``insert_many``; once started, it runs to its end if cancelled."""
        flow = _create_many.insert_many(self._table, self._schema(schema), rows)
        flow = known(flow, schema.name, {}, "create_many")
        await self._arun(flow, schema.name, "create_many", to_the_end=True)

    def clear(self, schema: ModelSchema | None = None) -> None:
        """Delete every item of one model (rows and sentinels), or of the whole table."""
        self._run(_batch.clear(self._table, schema), _named(schema), "clear")

    async def aclear(self, schema: ModelSchema | None = None) -> None:
        """Async twin of ``clear``; once started, it runs to its end if cancelled."""
        await self._arun(
            _batch.clear(self._table, schema), _named(schema), "clear", to_the_end=True
        )

    def transact(self, actions: Sequence[Action]) -> list[Row | None]:
        """Write a transaction's actions with one ``TransactWriteItems`` (see ``_commit``)."""
        return self._run(self._commit(actions), _acted(actions), "transaction")

    async def atransact(self, actions: Sequence[Action]) -> list[Row | None]:
        """Async twin of ``transact``."""
        return await self._arun(self._commit(actions), _acted(actions), "transaction")

    def _commit(self, actions: Sequence[Action]) -> Flow[list[Row | None]]:
        for action in actions:
            self._schema(action.schema)
        return known(_commit.transact(self._table, actions), _acted(actions), {}, "transaction")

    # -- reads --------------------------------------------------------------------------

    def get(self, schema: ModelSchema, key: Key) -> Row | None:
        """Read a row with one consistent ``GetItem``."""
        return self._run(self._get(schema, key), schema.name, "get")

    async def aget(self, schema: ModelSchema, key: Key) -> Row | None:
        """Async twin of ``get``."""
        return await self._arun(self._get(schema, key), schema.name, "get")

    def _get(self, schema: ModelSchema, key: Key) -> Flow[Row | None]:
        schema = self._schema(schema)
        return _items.get_row(self._table, schema, self._table.keys.item_key(schema, key))

    def get_many(self, schema: ModelSchema, keys: Sequence[Key]) -> list[Row | None]:
        """Read rows with ``BatchGetItem`` (100 keys a request), in the order of ``keys``."""
        flow = _batch.get_many(self._table, self._schema(schema), keys)
        return self._run(flow, schema.name, "get_many")

    async def aget_many(self, schema: ModelSchema, keys: Sequence[Key]) -> list[Row | None]:
        """Async twin of ``get_many``."""
        flow = _batch.get_many(self._table, self._schema(schema), keys)
        return await self._arun(flow, schema.name, "get_many")

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        """Yield the selected rows, reading a page at a time (see ``_reads``)."""
        selection = _reads.Selection(self._table, self._schema(spec.schema), live_spec(spec))
        return self._stream(selection, Scope(spec.schema.name, "query"))

    def _stream(self, selection: _reads.Selection, scope: Scope) -> Iterator[Row]:
        try:
            while (rows := self._run(selection.next(), scope)) is not None:
                yield from rows
                del rows  # one page at a time: drop it before reading the next
        finally:
            self._watch.close(scope)  # the query's span covers every page read

    async def aquery(self, spec: QuerySpec) -> AsyncIterator[Row]:
        """Async twin of ``query``: the same rows, a page at a time."""
        selection = _reads.Selection(self._table, self._schema(spec.schema), live_spec(spec))
        scope = Scope(spec.schema.name, "query")
        try:
            while (rows := await self._arun(selection.next(), scope)) is not None:
                for row in rows:
                    yield row
                del rows  # one page at a time: drop it before reading the next
        finally:
            self._watch.close(scope)  # the query's span covers every page read

    def count(self, spec: QuerySpec) -> int:
        """Count matches; ``Select=COUNT`` when the server can evaluate the filter."""
        flow = _reads.count(self._table, self._schema(spec.schema), live_spec(spec))
        return self._run(flow, spec.schema.name, "count")

    async def acount(self, spec: QuerySpec) -> int:
        """Async twin of ``count``."""
        flow = _reads.count(self._table, self._schema(spec.schema), live_spec(spec))
        return await self._arun(flow, spec.schema.name, "count")

    def exists(self, spec: QuerySpec) -> bool:
        """Tell whether a row matches, reading no further than the first match."""
        flow = _reads.exists(self._table, self._schema(spec.schema), live_spec(spec))
        return self._run(flow, spec.schema.name, "exists")

    async def aexists(self, spec: QuerySpec) -> bool:
        """Async twin of ``exists``."""
        flow = _reads.exists(self._table, self._schema(spec.schema), live_spec(spec))
        return await self._arun(flow, spec.schema.name, "exists")

    def explain(self, spec: QuerySpec) -> Plan:
        """The request ``query(spec)`` would send first, worked out without sending it."""
        return _explain.explain(self._table.keys, self._schema(spec.schema), live_spec(spec))

    def collect(self, specs: Sequence[QuerySpec]) -> list[list[Row]]:
        """Several models' rows of one shared partition: one ``Query`` per page for all."""
        flow = _collect.collect(self._table, [self._live(spec) for spec in specs])
        return self._run(flow, _joined(specs), "collect")

    async def acollect(self, specs: Sequence[QuerySpec]) -> list[list[Row]]:
        """Async twin of ``collect``."""
        flow = _collect.collect(self._table, [self._live(spec) for spec in specs])
        return await self._arun(flow, _joined(specs), "collect")

    # -- helpers ------------------------------------------------------------------------

    def _live(self, spec: QuerySpec) -> QuerySpec:
        self._schema(spec.schema)
        return live_spec(spec)

    def _schema(self, schema: ModelSchema) -> ModelSchema:
        if schema.model not in self._checked:
            self._table.keys.check(schema)
            self._checked.add(schema.model)
        return schema

    def _run(self, flow: Flow[T], scope: Scope | str, operation: str = "") -> T:
        """Run ``flow`` as ``operation`` of model ``scope``, or as a part of a ``Scope``.

        The operation is marked for the watch (logs, capacity, spans; see
        ``Watch.operation``) only when something watches: the common case pays one check.
        """
        if not self._watch.watching():
            return run(flow, self._sender)
        with self._watch.operation(scope, operation):
            return run(flow, self._sender)

    async def _arun(
        self, flow: Flow[T], scope: Scope | str, operation: str = "", *, to_the_end: bool = False
    ) -> T:
        """Async ``_run``; ``to_the_end``: finish the flow even if the task is cancelled."""
        if self._async_sender is None:
            self._async_sender = AiohttpSender(self._table.protocol.http)
        running = arun(flow, self._async_sender)
        if to_the_end:
            running = run_to_the_end(running)
        if not self._watch.watching():
            return await running
        with self._watch.operation(scope, operation):
            return await running


def _key_of(schema: ModelSchema, row: Row) -> dict[str, Any]:
    return schema.key_dict(schema.key_of(row))


def _tracer(tracing: Any) -> Any:
    """The tracing integration ``tracing=`` asks for (``None`` for ``False``)."""
    if tracing is False or tracing is None:
        return None
    from ._tracing import Tracing

    return Tracing(None if tracing is True else tracing)


def _models(models: Sequence[type[Model]]) -> str:
    """The models of an administrative call, for logs and spans."""
    return "+".join(model.__name__ for model in models) or "-"


def _named(schema: ModelSchema | None) -> str:
    return "-" if schema is None else schema.name


def _joined(specs: Sequence[QuerySpec]) -> str:
    return "+".join(spec.schema.name for spec in specs)


def _acted(actions: Sequence[Action]) -> str:
    """The models a transaction writes, in order of first appearance, joined by ``+``."""
    return "+".join(dict.fromkeys(action.schema.name for action in actions)) or "-"


def _indexes(keys: KeyScheme, models: Sequence[type[Model]]) -> set[Gsi]:
    return {gsi for model in models for gsi in keys.gsis(model.orm_schema())}
