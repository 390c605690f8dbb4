"""The awaitable twins: the same results and errors as the sync API, on each kind of backend.

A sync-only backend serves them from a worker thread, the in-memory backend on the event
loop itself, and an async-only backend refuses the sync API naming the twin to use.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sample_models import Message, User

from restmachine_orm import (
    AsyncOnlyBackendError,
    Backend,
    DuplicateKeyError,
    InMemoryBackend,
    NotFoundError,
    QueryError,
)
from restmachine_orm.backends.base import Key, Row
from restmachine_orm.query import QuerySpec
from restmachine_orm.schema import ModelSchema


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_every_write_twin_gives_what_the_sync_call_gives() -> None:
    async def scenario() -> None:
        ada = await User.acreate(id="u1", email="ada@example.com", name="Ada")
        assert ada.created_at is not None and ada.updated_at is not None
        assert await User.aget(id="u1") == ada
        ada.name = "Ada L."
        assert await ada.asave() is ada
        assert (await User.aget(id="u1")).name == "Ada L."  # type: ignore[union-attr]
        replaced = await User.aupsert(id="u1", email="ada@example.com", name="A")
        assert replaced.created_at == ada.created_at  # an upsert keeps auto_now_add
        made = await User.acreate_many(
            [
                {"id": "u2", "email": "b@example.com", "name": "B"},
                {"id": "u3", "email": "c@x.io", "name": "C"},
            ]
        )
        assert [user.id for user in made] == ["u2", "u3"]
        found = await User.aget_many([{"id": "u3"}, {"id": "nobody"}, {"id": "u2"}])
        assert [user and user.id for user in found] == ["u3", None, "u2"]
        await replaced.adelete()
        assert await User.aget(id="u1") is None
        assert sorted(user.id for user in await User.aall()) == ["u2", "u3"]

    run(scenario())
    assert sorted(user.id for user in User.all()) == ["u2", "u3"]  # and the sync API sees it


def test_twins_raise_the_sync_errors() -> None:
    async def scenario() -> None:
        user = await User.acreate(id="u1", email="a@example.com", name="A")
        with pytest.raises(DuplicateKeyError, match="already exists"):
            await User.acreate(id="u1", email="other@example.com", name="B")
        with pytest.raises(DuplicateKeyError, match="unique field"):
            await User.acreate(id="u2", email="a@example.com", name="B")
        with pytest.raises(QueryError, match=r"User\.aget\(\) takes exactly the key fields"):
            await User.aget(email="a@example.com")
        await user.adelete()
        with pytest.raises(NotFoundError):
            await user.asave()
        with pytest.raises(NotFoundError):
            await user.adelete()

    run(scenario())


def test_query_twins() -> None:
    for seq in range(7):
        Message.create(thread="t", seq=seq, body=f"m{seq}")
    query = Message.where(thread="t").order_by("-seq")

    async def scenario() -> None:
        assert [m.seq for m in await query.aall()] == [6, 5, 4, 3, 2, 1, 0]
        assert (await query.afirst()).seq == 6  # type: ignore[union-attr]
        assert await Message.where(thread="none").afirst() is None
        assert await query.acount() == 7
        assert await query.offset(5).acount() == 2
        assert await query.aexists()
        assert not await Message.where(thread="none").aexists()
        assert not await query.offset(7).aexists()
        assert [m.seq async for m in query] == [6, 5, 4, 3, 2, 1, 0]
        seen, cursor = [], None
        while True:
            page = await query.apaginate(3, cursor)
            assert page == query.paginate(3, cursor)  # the same pages and cursors as sync
            seen += [m.seq for m in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == [6, 5, 4, 3, 2, 1, 0]
        with pytest.raises(QueryError, match="page_size"):
            await query.apaginate(0)

    run(scenario())


def test_eight_tasks_creating_one_key_on_one_loop_give_one_winner() -> None:
    async def scenario() -> list[Any]:
        attempts = [User.acreate(id="same", email=f"{n}@example.com", name="N") for n in range(8)]
        return await asyncio.gather(*attempts, return_exceptions=True)

    outcomes = run(scenario())
    assert sum(isinstance(outcome, User) for outcome in outcomes) == 1
    assert sum(isinstance(outcome, DuplicateKeyError) for outcome in outcomes) == 7


# -- where the backend's work runs --------------------------------------------------------


class ThreadRecorder(InMemoryBackend):
    """The in-memory backend, noting the thread each insert and query ran on."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []

    def insert(self, schema: ModelSchema, row: Row) -> None:
        self.threads.append(threading.get_ident())
        super().insert(schema, row)


class SyncOnly(ThreadRecorder):
    """A backend that waits on I/O in its sync methods, as a third party's would."""

    blocking = True


@pytest.fixture
def bound(monkeypatch: pytest.MonkeyPatch) -> Any:
    def bind(backend: Backend) -> Backend:
        monkeypatch.setattr(User, "model_backend", backend)
        return backend

    return bind


def loop_thread_of(coroutine: Any) -> int:
    async def with_thread() -> int:
        await coroutine
        return threading.get_ident()

    return int(run(with_thread()))


def test_in_memory_backend_serves_async_on_the_loop_without_a_thread_hop(bound: Any) -> None:
    backend = bound(ThreadRecorder())
    loop_thread = loop_thread_of(User.acreate(id="u", email="e@example.com", name="N"))
    assert backend.threads == [loop_thread]


def test_sync_only_backend_serves_async_from_a_worker_thread(bound: Any) -> None:
    # The proof that the test above can fail: the same check on a blocking backend.
    backend = bound(SyncOnly())
    loop_thread = loop_thread_of(User.acreate(id="u", email="e@example.com", name="N"))
    assert backend.threads and backend.threads != [loop_thread]
    assert User.get(id="u") is not None


class Lazy(InMemoryBackend):
    """A blocking backend whose query counts the rows it has produced."""

    blocking = True

    def __init__(self) -> None:
        super().__init__()
        self.produced = 0

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        for row in super().query(spec):
            self.produced += 1
            yield row


def test_sync_only_query_is_read_a_trip_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = Lazy()
    for seq in range(1000):
        backend.insert(
            Message.orm_schema(), {"thread": "t", "seq": seq, "body": "", "author": None}
        )
    monkeypatch.setattr(Message, "model_backend", backend)

    async def first_row_then_count() -> tuple[int, int]:
        rows = Message.where(thread="t").__aiter__()
        await rows.__anext__()
        early = backend.produced
        rest = [row async for row in rows]
        return early, len(rest)

    early, rest = run(first_row_then_count())
    assert early <= 256  # one trip to the worker thread, not the whole result
    assert rest == 999


class AsyncOnly(Backend):
    """A backend implementing only the awaitable side, over an in-memory one."""

    def __init__(self) -> None:
        self.inner = InMemoryBackend()

    async def ainsert(self, schema: ModelSchema, row: Row) -> None:
        self.inner.insert(schema, row)

    async def aget(self, schema: ModelSchema, key: Key) -> Row | None:
        return self.inner.get(schema, key)

    async def aupdate(
        self, schema: ModelSchema, key: Key, changes: Row, previous: Row | None = None
    ) -> Row:
        return self.inner.update(schema, key, changes, previous)

    async def aupsert(self, schema: ModelSchema, row: Row) -> Row:
        return self.inner.upsert(schema, row)

    async def adelete(self, schema: ModelSchema, key: Key, previous: Row | None = None) -> None:
        self.inner.delete(schema, key, previous)

    async def aquery(self, spec: QuerySpec) -> AsyncIterator[Row]:
        for row in self.inner.query(spec):
            yield row

    async def acount(self, spec: QuerySpec) -> int:
        return self.inner.count(spec)

    async def aexists(self, spec: QuerySpec) -> bool:
        return self.inner.exists(spec)

    async def aclear(self, schema: ModelSchema | None = None) -> None:
        self.inner.clear(schema)

    async def ainsert_many(self, schema: ModelSchema, rows: Any) -> None:
        self.inner.insert_many(schema, rows)

    async def aget_many(self, schema: ModelSchema, keys: Any) -> list[Row | None]:
        return self.inner.get_many(schema, keys)


@pytest.mark.parametrize(
    ("call", "advice"),
    [
        (lambda: User.create(id="u", email="e@x.io", name="N"), r"await User\.acreate\(\.\.\.\)"),
        (lambda: User.get(id="u"), r"await User\.aget\(\.\.\.\)"),
        (lambda: User.get_many([{"id": "u"}]), r"await User\.aget_many\(\.\.\.\)"),
        (lambda: User.upsert(id="u", email="e@x.io", name="N"), r"await User\.aupsert"),
        (lambda: User.create_many([]), r"await User\.acreate_many"),
        (lambda: User.where(name="N").all(), r"await User\.where\(\.\.\.\)\.aall\(\)"),
        (lambda: User.where(name="N").count(), r"\.acount\(\)"),
        (lambda: User.where(name="N").exists(), r"\.aexists\(\)"),
    ],
)
def test_sync_call_on_an_async_only_backend_names_the_twin(
    bound: Any, call: Any, advice: str
) -> None:
    bound(AsyncOnly())
    with pytest.raises(
        AsyncOnlyBackendError, match="AsyncOnly serves only the async API"
    ) as caught:
        call()
    assert caught.match(advice)


def test_async_only_backend_serves_the_async_api(bound: Any) -> None:
    bound(AsyncOnly())

    async def scenario() -> None:
        user = await User.acreate(id="u", email="e@example.com", name="N")
        user.name = "M"
        await user.asave()
        with pytest.raises(AsyncOnlyBackendError, match=r"await instance\.asave\(\)"):
            user.save()
        with pytest.raises(AsyncOnlyBackendError, match=r"await instance\.adelete\(\)"):
            user.delete()
        assert [u.name for u in await User.where(id="u").aall()] == ["M"]
        await user.adelete()
        assert not await User.where(id="u").aexists()

    run(scenario())


def test_a_backend_lacking_both_sides_of_a_pair_cannot_be_made() -> None:
    class Partial(Backend):
        def insert(self, schema: ModelSchema, row: Row) -> None:
            pass

    with pytest.raises(TypeError, match="Partial: it must implement get or aget, update or au"):
        Partial()
    with pytest.raises(TypeError, match="insert or ainsert"):
        Backend()


def test_a_backend_implementing_one_side_of_every_pair_can_be_made() -> None:
    assert isinstance(AsyncOnly(), Backend)
    assert isinstance(InMemoryBackend(), Backend)
