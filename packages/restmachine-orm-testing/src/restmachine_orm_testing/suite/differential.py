"""Differential testing: random operation sequences, every result checked against a model.

``run_differential(make_backend)`` drives hypothesis' stateful testing: each example starts
the backend under test empty, applies random creates, gets, saves, upserts, deletes,
queries (filtered, ordered, sliced, paged), counts and existence checks through the ORM,
and fails on the first step whose result, or raised error type, differs from what the
oracle in ``_reference`` says it must be. That oracle is a few lines of plain Python over
dictionaries and ``sorted()``, sharing no code with the ORM's query execution or with any
backend (the in-memory one included), so a bug in code every backend runs shows up too.

There are two machines, one per kind of key, run as two tests: rows with a single key and
a unique value (``"simple"``), and rows with a partition and a sort key (``"composite"``).
Their models share nothing, so one sequence mixing both would test no more; as two tests,
pytest-xdist runs them side by side. Since suite 1.8 a third (``"templates"``) writes and
reads orders and their lines under key templates (single-table design): one partition per
order, lines read in sort key order, orders through a sparse declared index, both read
together with a ``Collection``, and the values and updates key templates refuse.

Orderings on any field and ``offset()`` are used only on backends whose capabilities
include ``order_by_any_field`` and ``offset``.

Sync and async calls are interleaved: each sequence starts on one API, and a step that
switches to the other may come anywhere. On the async API every call is its awaitable twin
(``acreate``, ``aget``, ``asave``, ``adelete``, ``aall``, ``afirst``, ``acount``,
``aexists``, ``apaginate``), awaited on an event loop of the sequence's own, which is shut
down at its end (``ateardown`` of the backend's driver, when given, releasing what the
backend holds on it first).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import operator
import os
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from restmachine_orm import (
    Backend,
    Collection,
    DuplicateKeyError,
    F,
    Field,
    IndexKeys,
    Model,
    Transaction,
    TransactionError,
    transaction,
)
from restmachine_orm import Keys as KeyTemplates

from ..clock import OrmClock
from ..markers import requires
from ._base import SuiteBase, since
from ._reference import Outcome, ReferenceTable

__all__ = [
    "DIFFERENTIAL_EXAMPLES",
    "DiffEvent",
    "DiffLease",
    "DiffLine",
    "DiffMember",
    "DiffOrder",
    "Keys",
    "TestDifferential",
    "run_differential",
]


class DiffMember(Model):
    """A key, a unique value, and fields to filter and order by."""

    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    age: int = 0
    nick: str | None = None


class DiffLease(Model):
    """``DiffMember``'s fields, and an expiry (``Field(ttl=True)``)."""

    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    age: int = 0
    nick: str | None = None
    expires: dt.datetime | None = Field(None, ttl=True)


class DiffEvent(Model):
    """A composite key, and a list and a set that atomic updates extend."""

    stream: str = Field(partition_key=True)
    seq: int = Field(sort_key=True)
    n: int = 0
    log: list[int] = []
    marks: set[str] = set()


class DiffOrder(Model):
    """An order under key templates, found by buyer through a sparse declared index.

    Its status is followed by ``#`` in the index's sort key: a status holding one is refused.
    """

    model_keys = KeyTemplates(
        pk="SUITEDIFF#{order_id}",
        sk="SUITEDIFF",
        indexes={"suite_diff_gsi1": IndexKeys(pk="SUITEDIFFBUYER#{buyer}", sk="{status}#{placed}")},
    )

    order_id: str = Field(primary_key=True)
    buyer: str | None = None
    status: str = "new"
    placed: int = 0
    total: int = 0


class DiffLine(Model):
    """A line of a ``DiffOrder``, in its partition: its sort key starts with the order's."""

    model_keys = KeyTemplates(pk="SUITEDIFF#{order_id}", sk="SUITEDIFF#LINE#{line}")

    order_id: str = Field(partition_key=True)
    line: str = Field(sort_key=True)
    qty: int = 0


#: Which machine ``run_differential`` runs: single keys and a unique value, composite keys,
#: single keys and a unique value on rows that expire, or orders and lines under key
#: templates.
Keys = Literal["simple", "composite", "expiring", "templates"]

#: Sequences per backend in ``TestDifferential``, half with simple keys (350 of 700), half
#: with composite keys; ``RESTMACHINE_ORM_DIFFERENTIAL_EXAMPLES`` changes it (CI keeps it).
#: On DynamoDB a simple-key sequence costs a little more (it has more to check per step),
#: a composite-key one seeds more rows: under pytest-xdist the two tests end close together.
DIFFERENTIAL_EXAMPLES = int(os.environ.get("RESTMACHINE_ORM_DIFFERENTIAL_EXAMPLES", "700"))
_SIMPLE_EXAMPLES = DIFFERENTIAL_EXAMPLES // 2
_COMPOSITE_EXAMPLES = DIFFERENTIAL_EXAMPLES - _SIMPLE_EXAMPLES
#: Sequences of the expiring machine (backends with ``ttl``): a quarter as many again.
_EXPIRING_EXAMPLES = DIFFERENTIAL_EXAMPLES // 4
#: Sequences of the key templates machine: a quarter as many again.
_TEMPLATES_EXAMPLES = DIFFERENTIAL_EXAMPLES // 4

#: Which API a call is made on: ``Model.create(...)``, or ``await Model.acreate(...)``.
Api = Literal["sync", "async"]
apis: st.SearchStrategy[Api] = st.sampled_from(["sync", "async"])

# Small alphabets, so that keys and unique values collide often.
ids = st.sampled_from(["a", "b", "c", "d"])
emails = st.sampled_from(["w@t", "x@t", "y@t", "z@t"])
ages = st.integers(min_value=0, max_value=5)
nicks = st.none() | st.sampled_from(["p", "q"])
streams = st.sampled_from(["s1", "s2"])
seqs = st.integers(min_value=0, max_value=4)
mark_names = st.sampled_from(["x", "y", "z"])
event_orders = st.sampled_from(["seq", "-seq"])
event_filters = st.sampled_from(
    [
        {},
        {"seq__gte": 2},
        {"seq__lt": 3},
        {"seq__between": (1, 3)},
        {"seq__in": [0, 2, 4]},
        {"n": 3},
        {"n__gte": 2},
    ]
)
member_filters = st.sampled_from(
    [
        {},
        {"age__gte": 2},
        {"age": 3},
        {"age__ne": 3},
        {"nick__isnull": True},
        {"nick": "p"},
        {"nick__ne": "p"},
        {"email": "y@t"},
        {"id__in": ["a", "c"]},
        {"age__between": (1, 3)},
        {"email__startswith": "x"},
    ]
)
orderings = st.sampled_from([(), ("age", "id"), ("-age", "id"), ("nick", "-id")])
# Conditional writes and increments (backends with "conditions" and "atomic_updates").
event_conditions = st.sampled_from([{"n__gte": 2}, {"n": 3}, {"n__in": [0, 1]}, {"n__lt": 2}])
amounts = st.integers(min_value=-2, max_value=3)
# Transactions (backends with "transactions" too): 2 to 5 actions on distinct rows, each a
# create, a conditional increment or a conditional delete; creates take distinct emails. A
# fifth key, which only transactions write, lets one hold five actions.
_transaction_ids = st.sampled_from(["a", "b", "c", "d", "e"])
_transaction_actions = st.lists(
    st.tuples(
        st.sampled_from(["create", "increment", "delete"]), _transaction_ids, emails, amounts, ages
    ),
    min_size=2,
    max_size=5,
    unique_by=operator.itemgetter(1),
).filter(
    lambda actions: (
        len({a[2] for a in actions if a[0] == "create"})
        == sum(1 for a in actions if a[0] == "create")
    )
)
# Rows that expire: seconds until they do (the machine's clock moves a second or two a step).
lifetimes = st.integers(min_value=1, max_value=3)
naive = st.booleans()
# Orders and lines under key templates. "ne" < "new" < "newer" as text, and "x#y" holds
# the index template's separator: every write of it is refused. Placed stays one digit, so
# that its text orders as its value does.
order_ids = st.sampled_from(["o1", "o2", "o3"])
buyers = st.none() | st.sampled_from(["b1", "b2"])
seed_buyers = st.sampled_from(["b1", "b1", "b2", None])
statuses = st.sampled_from(["new", "ne", "newer", "x#y"])
placings = st.integers(min_value=0, max_value=3)
line_names = st.sampled_from(["a", "ab", "b"])
order_changes = st.fixed_dictionaries(
    {},
    optional={"buyer": buyers, "status": statuses, "placed": placings, "total": ages},
)
# Updates by key: every field of the index, none of them, or any of the fields (often a
# part of the index's, which is refused).
order_updates = st.one_of(
    st.fixed_dictionaries(
        {"buyer": buyers, "status": statuses, "placed": placings}, optional={"total": ages}
    ),
    st.fixed_dictionaries({"total": ages}),
    order_changes.filter(bool),
)
line_filters = st.sampled_from(
    [{}, {"qty__gte": 1}, {"line__gt": "a"}, {"line__startswith": "a"}, {"qty": 2}]
)
indexed_order_filters = st.sampled_from(
    [{}, {"status": "new"}, {"status": "ne"}, {"status__startswith": "ne"}, {"placed__gte": 2}]
)
scanned_order_filters = st.sampled_from(
    [{}, {"buyer": None}, {"status": "new"}, {"total__gte": 1}, {"buyer__in": ["b1", None]}]
)
#: The fields of ``DiffOrder``'s index: an update gives all of them, or none.
_INDEXED = {"buyer", "status", "placed"}
# Slices and pages are taken of filters that keep most rows, where they have rows to cut.
wide_member_filters = st.sampled_from([{}, {"age__gte": 1}, {"nick__ne": "p"}])
wide_event_filters = st.sampled_from([{}, {"n__gte": 1}, {"seq__lt": 4}])
offsets = st.sampled_from([0, 1, 2, 5])
limits = st.none() | st.integers(min_value=0, max_value=2)
page_sizes = st.integers(min_value=1, max_value=3)
# Seed rows with their key (and unique value) free: their create succeeds.
_free = (operator.itemgetter(0), operator.itemgetter(1))
_key = operator.itemgetter(0, 1)
# More pages than any machine has rows, so that paging which never ends is caught.
_MOST_PAGES = 16


def _outcome(action: Callable[[], Any]) -> Outcome:
    """What an action produced, comparable with the oracle's: a value or an error's shape."""
    try:
        return ("ok", action())
    except DuplicateKeyError as error:
        return ("error", "DuplicateKeyError", error.fields)
    except TransactionError as error:
        reasons = tuple(None if r is None else type(r).__name__ for r in error.reasons)
        return ("error", "TransactionError", reasons)
    except Exception as error:
        return ("error", type(error).__name__)


async def _acommit(tx: Transaction) -> None:
    async with tx:
        pass


def _dump(found: Any) -> Any:
    if found is None:
        return None
    if isinstance(found, list):
        return [item.model_dump() for item in found]
    return found.model_dump()


def _pages(call: Callable[..., Any], query: Any, size: int) -> list[list[dict[str, Any]]]:
    """Every page of a query, following cursors until there is none."""
    pages, cursor = [], None
    for _ in range(_MOST_PAGES):
        page = call(query, "paginate", size, cursor)
        pages.append(_dump(page.items))
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError(f"paging by {size} did not end after {_MOST_PAGES} pages: {pages}")


async def _nothing_to_release() -> None:
    pass


def _shut_down(loop: asyncio.AbstractEventLoop, release: Callable[[], Awaitable[None]]) -> None:
    """Release the backend's resources on a sequence's loop, then close the loop."""
    try:
        loop.run_until_complete(_awaited(release))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


async def _awaited(release: Callable[[], Awaitable[None]]) -> None:
    await release()


def _sliced(query: Any, offset: int, limit: int | None) -> Any:
    query = query.offset(offset) if offset else query
    return query if limit is None else query.limit(limit)


class _Differential(RuleBasedStateMachine):
    """Each step on the backend under test; its outcome must be the oracle's."""

    make_target: Callable[[], Backend]
    release: Callable[[], Awaitable[None]]
    model: type[Model]

    def __init__(self) -> None:
        super().__init__()
        self.awaited = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.target = type(self).make_target()
        capabilities = self.target.capabilities
        self.can_order = "order_by_any_field" in capabilities
        self.can_offset = "offset" in capabilities
        self.can_condition = "conditions" in capabilities
        self.can_update = "atomic_updates" in capabilities
        self.can_transact = {"transactions", "conditions", "atomic_updates"} <= capabilities
        model = self.model
        self.target.clear(model.orm_schema())
        self.saved = model.__dict__.get("model_backend")
        model.model_backend = self.target
        self.oracle = self.new_oracle()

    def new_oracle(self) -> ReferenceTable:
        """The oracle of this machine's model, empty."""
        raise NotImplementedError

    def teardown(self) -> None:
        try:
            if self.loop is not None:
                _shut_down(self.loop, self.release)
        finally:
            if self.saved is not None:
                self.model.model_backend = self.saved
            elif "model_backend" in self.model.__dict__:
                delattr(self.model, "model_backend")

    @rule()
    def switch_api(self) -> None:
        """From here on, call the other API: sync calls, or their awaitable twins."""
        self.awaited = not self.awaited

    def call(self, target: Any, verb: str, *args: Any, **kwargs: Any) -> Any:
        """``target.verb(...)``, or ``await target.averb(...)`` when on the async API."""
        if not self.awaited:
            return getattr(target, verb)(*args, **kwargs)
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
        return self.loop.run_until_complete(getattr(target, "a" + verb)(*args, **kwargs))

    def check(self, step: str, expected: Outcome, action: Callable[[], Any]) -> None:
        actual = _outcome(action)
        assert actual == expected, f"{step}: reference gave {expected!r}, backend gave {actual!r}"

    def check_create(self, **data: Any) -> None:
        model = self.model
        expected = self.oracle.create(**data)
        self.check(
            f"create {data}", expected, lambda: self.call(model, "create", **data).model_dump()
        )

    def check_upsert(self, **data: Any) -> None:
        model = self.model
        expected = self.oracle.upsert(**data)
        self.check(
            f"upsert {data}", expected, lambda: self.call(model, "upsert", **data).model_dump()
        )

    def check_get(self, **key: Any) -> None:
        model = self.model
        self.check(
            f"get {key}", self.oracle.get(**key), lambda: _dump(self.call(model, "get", **key))
        )

    def check_save(
        self, key: dict[str, Any], *, condition: dict[str, Any] | None = None, **changes: Any
    ) -> None:
        """Read the row by key, change it and save it (nothing when it is missing)."""
        options = {} if condition is None else {"condition": condition}

        def change() -> Any:
            row = self.call(self.model, "get", **key)
            if row is None:
                return None
            for name, value in changes.items():
                setattr(row, name, value)
            return self.call(row, "save", **options).model_dump()

        expected = self.oracle.save(key, condition, **changes)
        self.check(f"save {key} {changes} {options}", expected, change)

    def check_delete(
        self, key: dict[str, Any], *, condition: dict[str, Any] | None = None, **other: Any
    ) -> None:
        """Delete through a made-up instance: a missing row must fail alike everywhere."""
        model = self.model
        options = {} if condition is None else {"condition": condition}
        expected = self.oracle.delete(condition, **key)
        self.check(
            f"delete {key} {options}",
            expected,
            lambda: self.call(model(**key, **other), "delete", **options),
        )

    def commit(self, tx: Transaction) -> None:
        """Send a built transaction: ``with tx:``, or ``async with tx:`` on the async API."""
        if not self.awaited:
            with tx:
                return
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(_acommit(tx))

    def check_increment(self, key: dict[str, Any], field: str, amount: int) -> None:
        """Add to a field by key, with nothing read first (``update_by_key``)."""
        self.check_update(
            key, {field: F(field) + amount}, self.oracle.increment(key, field, amount)
        )

    def check_update(self, key: dict[str, Any], changes: dict[str, Any], expected: Outcome) -> None:
        """An atomic update by key (``update_by_key``): it must leave what the oracle says."""
        self.check(
            f"update_by_key {key} {changes}",
            expected,
            lambda: self.call(self.model, "update_by_key", key, **changes).model_dump(),
        )


class _SimpleKeys(_Differential):
    """Members: one key field and a unique one, filtered and ordered in many ways."""

    model: type[Model] = DiffMember

    def new_oracle(self) -> ReferenceTable:
        return ReferenceTable(("id",), ("email",), {"age": 0, "nick": None})

    @initialize(
        rows=st.lists(st.tuples(ids, emails, ages, nicks), min_size=2, max_size=4, unique_by=_free),
        api=apis,
    )
    def seed(self, rows: list[tuple[str, str, int, str | None]], api: Api) -> None:
        # Rows from the start (each key and email taken once), so most steps read several.
        self.awaited = api == "async"
        self.check("start", ("ok", 0), lambda: self.call(self.model.where(), "count"))
        for row in rows:
            self.create(*row)

    @rule(id_=ids, email=emails, age=ages, nick=nicks)
    def create(self, id_: str, email: str, age: int, nick: str | None) -> None:
        self.check_create(id=id_, email=email, age=age, nick=nick)

    @rule(id_=ids)
    def get(self, id_: str) -> None:
        self.check_get(id=id_)

    @rule(id_=ids, age=ages, email=st.none() | emails)
    def save(self, id_: str, age: int, email: str | None) -> None:
        changes: dict[str, Any] = {"age": age} if email is None else {"age": age, "email": email}
        self.check_save({"id": id_}, **changes)

    @rule(id_=ids, email=emails, age=ages)
    def upsert(self, id_: str, email: str, age: int) -> None:
        self.check_upsert(id=id_, email=email, age=age)

    @precondition(lambda self: self.can_condition)
    @rule(id_=ids, age=ages, at_least=ages)
    def save_if(self, id_: str, age: int, at_least: int) -> None:
        self.check_save({"id": id_}, condition={"age__gte": at_least}, age=age)

    @precondition(lambda self: self.can_condition)
    @rule(id_=ids, email=emails, at_most=ages)
    def delete_if(self, id_: str, email: str, at_most: int) -> None:
        self.check_delete({"id": id_}, condition={"age__lte": at_most}, email=email)

    @precondition(lambda self: self.can_update)
    @rule(id_=ids, amount=amounts)
    def increment(self, id_: str, amount: int) -> None:
        self.check_increment({"id": id_}, "age", amount)

    @rule(id_=ids, email=emails)
    def delete(self, id_: str, email: str) -> None:
        self.check_delete({"id": id_}, email=email)

    @precondition(lambda self: self.can_transact)
    @rule(actions=_transaction_actions)
    def transact(self, actions: list[tuple[str, str, str, int, int]]) -> None:
        """A transaction of 2 to 5 creates, conditional increments and conditional deletes."""
        oracle_actions: list[tuple[Any, ...]] = []
        for kind, id_, email, amount, bound in actions:
            if kind == "create":
                oracle_actions.append(("create", {"id": id_, "email": email, "age": bound}))
            elif kind == "increment":
                key, condition = {"id": id_}, {"age__gte": bound}
                oracle_actions.append(("increment", key, "age", amount, condition))
            else:
                oracle_actions.append(("delete", {"id": id_}, {"age__lte": bound}))

        def run() -> None:
            tx = transaction()
            model: Any = self.model  # DiffMember, or DiffLease: the same fields and more
            for kind, id_, email, amount, bound in actions:
                if kind == "create":
                    tx.create(model, id=id_, email=email, age=bound)
                elif kind == "increment":
                    row = model.model_construct(id=id_)
                    tx.update(row, condition={"age__gte": bound}, age=F("age") + amount)
                else:
                    tx.delete(model(id=id_, email=email), condition={"age__lte": bound})
            self.commit(tx)

        self.check(f"transaction {actions}", self.oracle.transact(oracle_actions), run)

    @rule(filters=member_filters, order=orderings)
    def query(self, filters: dict[str, Any], order: tuple[str, ...]) -> None:
        query = self.model.where(**filters)
        if order and self.can_order:
            self.check(
                f"query {filters} order={order}",
                ("ok", self.oracle.select(filters, order)),
                lambda: _dump(self.call(query.order_by(*order), "all")),
            )
        else:
            # Natural order is the backend's own: compare the rows, sorted by key.
            self.check(
                f"query {filters}",
                ("ok", self.oracle.select(filters, ["id"])),
                lambda: sorted(_dump(self.call(query, "all")), key=lambda row: row["id"]),
            )
        found = len(self.oracle.select(filters))
        self.check(f"count {filters}", ("ok", found), lambda: self.call(query, "count"))
        self.check(f"exists {filters}", ("ok", found > 0), lambda: self.call(query, "exists"))

    @precondition(lambda self: self.can_order)
    @rule(
        filters=wide_member_filters,
        order=orderings.filter(bool),
        offset=offsets,
        limit=limits,
    )
    def slice(
        self, filters: dict[str, Any], order: tuple[str, ...], offset: int, limit: int | None
    ) -> None:
        offset = offset if self.can_offset else 0
        query = self.model.where(**filters).order_by(*order)
        self.check(
            f"query {filters} order={order} offset={offset} limit={limit}",
            ("ok", self.oracle.select(filters, order, offset, limit)),
            lambda: _dump(self.call(_sliced(query, offset, limit), "all")),
        )
        self.check(
            f"first {filters} order={order}",
            ("ok", next(iter(self.oracle.select(filters, order)), None)),
            lambda: _dump(self.call(query, "first")),
        )

    @precondition(lambda self: self.can_order)
    @rule(filters=wide_member_filters, order=orderings, size=page_sizes)
    def paginate(self, filters: dict[str, Any], order: tuple[str, ...], size: int) -> None:
        self.check(
            f"pages of {size} {filters} order={order}",
            ("ok", self.oracle.pages(filters, order, size)),
            lambda: _pages(self.call, self.model.where(**filters).order_by(*order), size),
        )


class _CompositeKeys(_Differential):
    """Events: a partition and a sort key; reads within a partition and across them."""

    model = DiffEvent

    def new_oracle(self) -> ReferenceTable:
        return ReferenceTable(("stream", "seq"), (), {"n": 0, "log": [], "marks": set()})

    @initialize(
        rows=st.lists(st.tuples(streams, seqs, ages), min_size=3, max_size=5, unique_by=_key),
        api=apis,
    )
    def seed(self, rows: list[tuple[str, int, int]], api: Api) -> None:
        # Rows from the start (each key once), so that most steps read several.
        self.awaited = api == "async"
        self.check("start", ("ok", 0), lambda: self.call(DiffEvent.where(), "count"))
        for stream, seq, n in rows:
            # Marked from the start, so that removing elements has elements to remove.
            self.check_create(stream=stream, seq=seq, n=n, marks={"x", "y"})

    @rule(stream=streams, seq=seqs, n=ages)
    def create(self, stream: str, seq: int, n: int) -> None:
        self.check_create(stream=stream, seq=seq, n=n)

    @rule(stream=streams, seq=seqs)
    def get(self, stream: str, seq: int) -> None:
        self.check_get(stream=stream, seq=seq)

    @rule(stream=streams, seq=seqs, n=ages)
    def save(self, stream: str, seq: int, n: int) -> None:
        self.check_save({"stream": stream, "seq": seq}, n=n)

    @rule(stream=streams, seq=seqs, n=ages)
    def upsert(self, stream: str, seq: int, n: int) -> None:
        self.check_upsert(stream=stream, seq=seq, n=n)

    @precondition(lambda self: self.can_condition)
    @rule(stream=streams, seq=seqs, n=ages, condition=event_conditions)
    def save_if(self, stream: str, seq: int, n: int, condition: dict[str, Any]) -> None:
        self.check_save({"stream": stream, "seq": seq}, condition=condition, n=n)

    @precondition(lambda self: self.can_condition)
    @rule(stream=streams, seq=seqs, condition=event_conditions)
    def delete_if(self, stream: str, seq: int, condition: dict[str, Any]) -> None:
        self.check_delete({"stream": stream, "seq": seq}, condition=condition)

    @precondition(lambda self: self.can_update)
    @rule(stream=streams, seq=seqs, amount=amounts)
    def increment(self, stream: str, seq: int, amount: int) -> None:
        self.check_increment({"stream": stream, "seq": seq}, "n", amount)

    @precondition(lambda self: self.can_update)
    @rule(stream=streams, seq=seqs, values=st.lists(st.integers(0, 3), min_size=1, max_size=2))
    def append(self, stream: str, seq: int, values: list[int]) -> None:
        key = {"stream": stream, "seq": seq}
        expected = self.oracle.append(key, "log", values)
        self.check_update(key, {"log": F("log") + values}, expected)

    @precondition(lambda self: self.can_update)
    @rule(
        stream=streams,
        seq=seqs,
        marks=st.sets(mark_names, min_size=1, max_size=2),
        add=st.booleans(),
    )
    def mark(self, stream: str, seq: int, marks: set[str], *, add: bool) -> None:
        """Add elements to the set, or remove them (to empty it, often)."""
        key = {"stream": stream, "seq": seq}
        if add:
            expected = self.oracle.add_elements(key, "marks", marks)
            self.check_update(key, {"marks": F("marks") | marks}, expected)
        else:
            expected = self.oracle.remove_elements(key, "marks", marks)
            self.check_update(key, {"marks": F("marks") - marks}, expected)

    @rule(stream=streams, seq=seqs)
    def delete(self, stream: str, seq: int) -> None:
        self.check_delete({"stream": stream, "seq": seq})

    @rule(stream=streams, filters=event_filters, order=event_orders)
    def query_partition(self, stream: str, filters: dict[str, Any], order: str) -> None:
        within = {"stream": stream, **filters}
        query = DiffEvent.where(**within)
        self.check(
            f"events {within} order={order}",
            ("ok", self.oracle.select(within, [order])),
            lambda: _dump(self.call(query.order_by(order), "all")),
        )
        found = len(self.oracle.select(within))
        self.check(f"count {within}", ("ok", found), lambda: self.call(query, "count"))

    @rule(
        stream=streams, filters=wide_event_filters, order=event_orders, offset=offsets, limit=limits
    )
    def slice_partition(
        self, stream: str, filters: dict[str, Any], order: str, offset: int, limit: int | None
    ) -> None:
        offset = offset if self.can_offset else 0
        within = {"stream": stream, **filters}
        self.check(
            f"events {within} order={order} offset={offset} limit={limit}",
            ("ok", self.oracle.select(within, [order], offset, limit)),
            lambda: _dump(
                self.call(_sliced(DiffEvent.where(**within).order_by(order), offset, limit), "all")
            ),
        )

    @rule(stream=streams, filters=wide_event_filters, order=event_orders, size=page_sizes)
    def paginate_partition(
        self, stream: str, filters: dict[str, Any], order: str, size: int
    ) -> None:
        within = {"stream": stream, **filters}
        self.check(
            f"pages of {size} {within} order={order}",
            ("ok", self.oracle.pages(within, [order], size)),
            lambda: _pages(self.call, DiffEvent.where(**within).order_by(order), size),
        )

    @rule(filters=event_filters)
    def query_all(self, filters: dict[str, Any]) -> None:
        found = self.oracle.select(filters, ["stream", "seq"])
        self.check(
            f"events {filters}",
            ("ok", found),
            lambda: sorted(
                _dump(self.call(DiffEvent.where(**filters), "all")),
                key=lambda row: (row["stream"], row["seq"]),
            ),
        )
        exists = DiffEvent.where(**filters)
        self.check(f"exists {filters}", ("ok", bool(found)), lambda: self.call(exists, "exists"))


class _ExpiringKeys(_SimpleKeys):
    """``_SimpleKeys``'s steps on rows that expire, as a clock both sides share moves on.

    The ORM's clock is the machine's (``clock.using``) for the whole sequence, starting at
    the real time: a store deleting expired items on its own deletes none still live here.
    """

    model = DiffLease

    def __init__(self) -> None:
        self.moment = OrmClock()
        self.timing = contextlib.ExitStack()
        self.timing.enter_context(self.moment.running())
        super().__init__()

    def new_oracle(self) -> ReferenceTable:
        defaults = {"age": 0, "nick": None, "expires": None}
        return ReferenceTable(("id",), ("email",), defaults, expiry=("expires", self.moment.now))

    def teardown(self) -> None:
        try:
            super().teardown()
        finally:
            self.timing.close()

    @initialize(
        rows=st.lists(
            st.tuples(ids, emails, st.none() | lifetimes, naive),
            min_size=2,
            max_size=4,
            unique_by=_free,
        ),
        api=apis,
    )
    def seed(self, rows: list[tuple[str, str, int | None, bool]], api: Api) -> None:
        # Instead of _SimpleKeys' seed: rows from the start, most of them expiring, so that
        # time moving on frees their keys and values for the steps that follow.
        self.awaited = api == "async"
        self.check("start", ("ok", 0), lambda: self.call(self.model.where(), "count"))
        for id_, email, lifetime, naive in rows:
            expires = None if lifetime is None else self.expiry(lifetime, naive=naive)
            self.check_create(id=id_, email=email, expires=expires)

    def expiry(self, lifetime: int, *, naive: bool) -> dt.datetime:
        """The time ``lifetime`` seconds from now; naive (taken as UTC) or aware."""
        moment = self.moment.after(lifetime)
        return moment.replace(tzinfo=None) if naive else moment

    @rule(id_=ids, email=emails, lifetime=lifetimes, naive=naive)
    def create_expiring(self, id_: str, email: str, lifetime: int, *, naive: bool) -> None:
        self.check_create(id=id_, email=email, expires=self.expiry(lifetime, naive=naive))

    @rule(id_=ids, lifetime=st.none() | lifetimes)
    def retime(self, id_: str, lifetime: int | None) -> None:
        """Save a new expiry (or none) on a row."""
        expires = None if lifetime is None else self.expiry(lifetime, naive=False)
        self.check_save({"id": id_}, expires=expires)

    @rule(seconds=st.integers(min_value=1, max_value=2))
    def advance(self, seconds: int) -> None:
        """Move time on: rows whose expiry it passes are gone, on both sides at once."""
        self.moment.advance(seconds)


def _separated(data: dict[str, Any]) -> bool:
    """Whether a write holds a status with the ``#`` its key template separates fields by."""
    status = data.get("status")
    return isinstance(status, str) and "#" in status


def _in_index_order(rows: list[dict[str, Any]]) -> tuple[Any, ...]:
    """Rows of an index read: their ``(status, placed)`` in the order read, then the rows.

    Rows tied on the index's sort key (``{status}#{placed}``) may come in any order, so
    the rows themselves are compared sorted by key.
    """
    return (
        [(row["status"], row["placed"]) for row in rows],
        sorted(rows, key=lambda row: row["order_id"]),
    )


class _TemplatedKeys(_Differential):
    """Orders and their lines in one partition per order; orders by buyer through an index."""

    model = DiffOrder

    def __init__(self) -> None:
        super().__init__()
        self.lines = ReferenceTable(("order_id", "line"), (), {"qty": 0})
        self.target.clear(DiffLine.orm_schema())
        self.saved_lines = DiffLine.__dict__.get("model_backend")
        DiffLine.model_backend = self.target

    def new_oracle(self) -> ReferenceTable:
        defaults = {"buyer": None, "status": "new", "placed": 0, "total": 0}
        return ReferenceTable(("order_id",), (), defaults)

    def teardown(self) -> None:
        try:
            super().teardown()
        finally:
            if self.saved_lines is not None:
                DiffLine.model_backend = self.saved_lines
            elif "model_backend" in DiffLine.__dict__:
                delattr(DiffLine, "model_backend")

    @initialize(
        orders=st.lists(
            # Mostly one buyer: the index partitions then hold several orders to order.
            st.tuples(order_ids, seed_buyers, placings),
            min_size=2,
            max_size=3,
            unique_by=operator.itemgetter(0),
        ),
        # Distinct statuses, in any order: even the simplest examples then hold orders whose
        # index order is not their key order.
        statuses=st.permutations(["newer", "ne", "new"]),
        lines=st.lists(st.tuples(order_ids, line_names, ages), max_size=4, unique_by=_key),
        api=apis,
    )
    def seed(
        self,
        orders: list[tuple[str, str | None, int]],
        statuses: list[str],
        lines: list[tuple[str, str, int]],
        api: Api,
    ) -> None:
        self.awaited = api == "async"
        for (order_id, buyer, placed), status in zip(orders, statuses, strict=False):
            self.create_order(order_id, {"buyer": buyer, "status": status, "placed": placed})
        for order_id, line, qty in lines:
            self.create_line(order_id, line, qty)

    @rule(order_id=order_ids, data=order_changes)
    def create_order(self, order_id: str, data: dict[str, Any]) -> None:
        row = {"order_id": order_id, **data}
        expected = ("error", "ValidationError") if _separated(data) else self.oracle.create(**row)
        self.check(
            f"create order {row}",
            expected,
            lambda: self.call(DiffOrder, "create", **row).model_dump(),
        )

    @rule(order_id=order_ids, line=line_names, qty=ages)
    def create_line(self, order_id: str, line: str, qty: int) -> None:
        row = {"order_id": order_id, "line": line, "qty": qty}
        self.check(
            f"create line {row}",
            self.lines.create(**row),
            lambda: self.call(DiffLine, "create", **row).model_dump(),
        )

    @rule(order_id=order_ids, line=line_names)
    def get(self, order_id: str, line: str) -> None:
        self.check_get(order_id=order_id)
        key = {"order_id": order_id, "line": line}
        self.check(
            f"get line {key}",
            self.lines.get(**key),
            lambda: _dump(self.call(DiffLine, "get", **key)),
        )

    @rule(order_id=order_ids, changes=order_changes)
    def save_order(self, order_id: str, changes: dict[str, Any]) -> None:
        """Read an order, change some fields and save it: its index key follows."""
        key = {"order_id": order_id}

        def change() -> Any:
            row = self.call(DiffOrder, "get", **key)
            if row is None:
                return None
            for name, value in changes.items():
                setattr(row, name, value)
            return self.call(row, "save").model_dump()

        if _separated(changes) and self.oracle.get(**key)[1] is not None:
            expected: Outcome = ("error", "ValidationError")
        else:
            expected = self.oracle.save(key, **changes)
        self.check(f"save order {key} {changes}", expected, change)

    @precondition(lambda self: self.can_update)
    @rule(order_id=order_ids, changes=order_updates, computed=st.booleans())
    def update_order(self, order_id: str, changes: dict[str, Any], *, computed: bool) -> None:
        """``update_by_key``: every field of the index, or none, as plain values.

        Part of them, one of them computed (``F``), or a separator in a value is refused
        before anything is sent; a missing row is not found.
        """
        key = {"order_id": order_id}
        sent: dict[str, Any] = dict(changes)
        computes = computed and "placed" in changes
        if computes:
            sent["placed"] = F("placed") + 0
        touched = _INDEXED & set(changes)
        if (touched and (touched != _INDEXED or computes)) or _separated(changes):
            expected: Outcome = ("error", "QueryError")
        elif self.oracle.get(**key)[1] is None:
            expected = ("error", "NotFoundError")
        else:
            expected = self.oracle.save(key, **changes)
        self.check_update(key, sent, expected)

    @rule(order_id=order_ids, buyer=buyers, status=statuses)
    def upsert_order(self, order_id: str, buyer: str | None, status: str) -> None:
        row = {"order_id": order_id, "buyer": buyer, "status": status}
        expected = ("error", "ValidationError") if _separated(row) else self.oracle.upsert(**row)
        self.check(
            f"upsert order {row}",
            expected,
            lambda: self.call(DiffOrder, "upsert", **row).model_dump(),
        )

    @rule(order_id=order_ids, line=line_names, qty=ages)
    def save_line(self, order_id: str, line: str, qty: int) -> None:
        key = {"order_id": order_id, "line": line}

        def change() -> Any:
            row = self.call(DiffLine, "get", **key)
            if row is None:
                return None
            row.qty = qty
            return self.call(row, "save").model_dump()

        self.check(f"save line {key} qty={qty}", self.lines.save(key, qty=qty), change)

    @rule(order_id=order_ids, line=st.none() | line_names)
    def delete(self, order_id: str, line: str | None) -> None:
        """Delete an order (its lines stay), or a line."""
        if line is None:
            self.check_delete({"order_id": order_id})
            return
        key = {"order_id": order_id, "line": line}
        self.check(
            f"delete line {key}",
            self.lines.delete(None, **key),
            lambda: self.call(DiffLine(**key), "delete"),
        )

    @rule(order_id=order_ids, filters=line_filters)
    def query_lines(self, order_id: str, filters: dict[str, Any]) -> None:
        """A partition's lines, in the text order of their sort keys: no ``order_by``."""
        within = {"order_id": order_id, **filters}
        found = self.lines.select(within, ["line"])
        query = DiffLine.where(**within)
        self.check(f"lines {within}", ("ok", found), lambda: _dump(self.call(query, "all")))
        self.check(f"count lines {within}", ("ok", len(found)), lambda: self.call(query, "count"))

    @rule(buyer=st.sampled_from(["b1", "b2"]), filters=indexed_order_filters)
    def query_buyer(self, buyer: str, filters: dict[str, Any]) -> None:
        """A buyer's orders through the index, in the order of its sort key."""
        within = {"buyer": buyer, **filters}
        found = self.oracle.select(within, ["status", "placed"])
        query = DiffOrder.where(**within)
        self.check(
            f"orders {within}",
            ("ok", _in_index_order(found)),
            lambda: _in_index_order(_dump(self.call(query, "all"))),
        )
        first = found[0] if found else None

        def first_read() -> Any:
            row = self.call(query, "first")
            return None if row is None else (row.status, row.placed)

        self.check(
            f"first order {within}",
            ("ok", None if first is None else (first["status"], first["placed"])),
            first_read,
        )
        self.check(f"count orders {within}", ("ok", len(found)), lambda: self.call(query, "count"))

    @rule(filters=scanned_order_filters)
    def query_orders(self, filters: dict[str, Any]) -> None:
        """Orders read with no index (a scan): rows left out of the index included."""
        found = self.oracle.select(filters, ["order_id"])
        query = DiffOrder.where(**filters)
        self.check(
            f"orders {filters}",
            ("ok", found),
            lambda: sorted(_dump(self.call(query, "all")), key=lambda row: row["order_id"]),
        )
        self.check(
            f"exists orders {filters}", ("ok", bool(found)), lambda: self.call(query, "exists")
        )

    @rule(order_id=order_ids)
    def read_collection(self, order_id: str) -> None:
        """``Collection(DiffOrder, DiffLine).read``: the order, and its lines in key order."""
        expected = (
            self.oracle.select({"order_id": order_id}),
            self.lines.select({"order_id": order_id}, ["line"]),
        )

        def read() -> Any:
            rows = self.call(Collection(DiffOrder, DiffLine), "read", order_id=order_id)
            return (_dump(rows[DiffOrder]), _dump(rows[DiffLine]))

        self.check(f"collection of {order_id}", ("ok", expected), read)


_MACHINES: dict[str, type[_Differential]] = {
    "simple": _SimpleKeys,
    "composite": _CompositeKeys,
    "expiring": _ExpiringKeys,
    "templates": _TemplatedKeys,
}


def _failure_database() -> DirectoryBasedExampleDatabase:
    """Where failing sequences are kept, to be replayed first: outside any checkout."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    default = os.path.join(cache, "restmachine-orm", "hypothesis")
    return DirectoryBasedExampleDatabase(os.environ.get("RESTMACHINE_ORM_HYPOTHESIS_DB", default))


def _exploration() -> dict[str, Any]:
    """CI replays the same sequences every run; elsewhere, explore and remember failures.

    hypothesis cannot do both at once (a derandomized run has no database), so ``CI``
    (set by CI services) chooses; ``RESTMACHINE_ORM_DERANDOMIZE=1`` forces the CI mode.
    """
    if os.environ.get("CI") or os.environ.get("RESTMACHINE_ORM_DERANDOMIZE"):
        return {"derandomize": True}
    return {"database": _failure_database()}


def run_differential(
    make_backend: Callable[[], Backend],
    *,
    keys: Keys = "simple",
    examples: int = 500,
    steps: int = 12,
    release: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Check a backend against the oracle over random operation sequences.

    Args:
        make_backend: Returns the backend under test (its models are cleared before every
            example).
        keys: ``"simple"``: a model with one key field and a unique field; ``"composite"``:
            a model with a partition and a sort key; ``"expiring"``: the simple model with
            an expiry (``Field(ttl=True)``), its rows expiring as the sequence moves a
            clock on (backends with the ``ttl`` capability); ``"templates"``: ``DiffOrder``
            and ``DiffLine`` under key templates, sharing partitions, ``DiffOrder`` read
            through its declared index too (which the backend must have: on DynamoDB,
            ``backend.ensure_indexes([DiffOrder])``).
        examples: How many sequences to run (in CI, the same ones every run).
        steps: At most this many operations per sequence.
        release: Awaited on a sequence's event loop before it closes, when the sequence
            made awaited calls: a driver's ``ateardown``, releasing what the backend holds
            on that loop.

    Raises:
        AssertionError: A step's result or error type differed; hypothesis prints the
            shortest sequence it found that shows it.
        ValueError: ``keys`` is not one of the machines' names.
    """
    if keys not in _MACHINES:
        raise ValueError(
            "run_differential: keys must be 'simple', 'composite', 'expiring' or 'templates', "
            f"not {keys!r}"
        )
    target = {
        "make_target": staticmethod(make_backend),
        "release": staticmethod(release or _nothing_to_release),
    }
    machine = type(f"Differential{keys.title()}", (_MACHINES[keys],), target)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            **_exploration(),
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def _against(orm: tuple[Any, str], keys: Keys, examples: int) -> None:
    """Run one machine on the test's backend (its driver's loop released at each end)."""
    client, _ = orm
    run_differential(
        lambda: client.driver.backend,
        keys=keys,
        examples=examples,
        release=client.driver.ateardown,
    )


class TestDifferential(SuiteBase):
    """Random operation sequences give the oracle's results on the backend under test."""

    def get_test_models(self) -> list[type[Model]]:
        """The suite's models, and those of the key templates machine (their index made)."""
        return [*super().get_test_models(), DiffOrder, DiffLine]

    @since("1.0")
    @pytest.mark.orm_long_running
    def test_matches_the_reference(self, orm: tuple[Any, str]) -> None:
        _against(orm, "simple", _SIMPLE_EXAMPLES)

    @since("1.1")
    @pytest.mark.orm_long_running
    def test_matches_the_reference_with_composite_keys(self, orm: tuple[Any, str]) -> None:
        _against(orm, "composite", _COMPOSITE_EXAMPLES)

    @since("1.6")
    @pytest.mark.orm_long_running
    @requires("ttl")
    def test_matches_the_reference_with_expiring_rows(self, orm: tuple[Any, str]) -> None:
        _against(orm, "expiring", _EXPIRING_EXAMPLES)

    @since("1.8")
    @pytest.mark.orm_long_running
    def test_matches_the_reference_with_key_templates(self, orm: tuple[Any, str]) -> None:
        _against(orm, "templates", _TEMPLATES_EXAMPLES)
