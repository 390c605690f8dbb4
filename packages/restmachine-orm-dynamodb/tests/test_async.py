"""The async twins on a real server: the same requests, rows and errors as the sync methods.

Each scenario runs twice from the same stored state, once through the sync API and once
through the async one (``asyncio.run``), and both runs must send the same requests, in the
same order, and end with the same result or error. Then what only async code can do:
many tasks on one event loop racing for one key or one unique value, streaming a query
page by page, and never sending a request through the blocking sender.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import Requests, one_winner
from test_behaviour import PEOPLE, QUERIES, Person
from test_requests import Draft, Message

from restmachine_orm import ConcurrentModificationError, Field, Model, NotFoundError
from restmachine_orm.query import Page
from restmachine_orm_dynamodb import DynamoDBBackend


class Note(Model):
    id: str = Field(primary_key=True)
    text: str = ""
    rank: int = 0


class Account(Model):
    id: str = Field(primary_key=True)
    email: str = Field(unique=True)


MODELS = (Note, Account, Draft, Message)


def sync_call(target: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    return getattr(target, method)(*args, **kwargs)


def async_call(target: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """The awaitable twin of ``target.method``, run to its end on a loop of its own."""
    return asyncio.run(getattr(target, "a" + method)(*args, **kwargs))


Call = Callable[..., Any]


def shown(value: Any) -> Any:
    """A result in a form two runs can be compared in."""
    if isinstance(value, Model):
        return type(value).__name__, value.model_dump()
    if isinstance(value, Page):
        return [shown(item) for item in value.items], value.next_cursor
    if isinstance(value, list):
        return [shown(item) for item in value]
    return value


@dataclass(frozen=True)
class Scenario:
    """Stored state made by ``setup`` (sync), then ``act`` through one of the two APIs."""

    id: str
    act: Callable[[Call, Any], Any]
    setup: Callable[[], Any] = lambda: None


def _stale_draft() -> Draft:
    stale = Draft.create(id="d1")
    Draft.upsert(id="d1", text="newer")
    stale.text = "stale"
    return stale


def _changed(instance: Model, **changes: Any) -> Model:
    for name, value in changes.items():
        setattr(instance, name, value)
    return instance


def _notes(count: int) -> None:
    Note.create_many([{"id": f"n{i:03}", "text": "t", "rank": i % 7} for i in range(count)])


SCENARIOS = [
    Scenario("create", lambda call, _: call(Note, "create", id="n1", text="a")),
    Scenario("create-unique", lambda call, _: call(Account, "create", id="a1", email="a@x")),
    Scenario(
        "create-taken-key",
        lambda call, _: call(Note, "create", id="n1"),
        lambda: Note.create(id="n1"),
    ),
    Scenario(
        "create-taken-value",
        lambda call, _: call(Account, "create", id="a2", email="a@x"),
        lambda: Account.create(id="a1", email="a@x"),
    ),
    Scenario("get", lambda call, _: call(Note, "get", id="n1"), lambda: Note.create(id="n1")),
    Scenario("get-missing", lambda call, _: call(Note, "get", id="nobody")),
    Scenario(
        "save",
        lambda call, note: call(_changed(note, text="changed"), "save"),
        lambda: Note.create(id="n1"),
    ),
    Scenario(
        "save-unique-value",
        lambda call, account: call(_changed(account, email="b@x"), "save"),
        lambda: Account.create(id="a1", email="a@x"),
    ),
    Scenario("save-stale-version", lambda call, stale: call(stale, "save"), _stale_draft),
    Scenario("upsert", lambda call, _: call(Note, "upsert", id="n1", text="whole")),
    Scenario(
        "upsert-unique",
        lambda call, _: call(Account, "upsert", id="a1", email="c@x"),
        lambda: Account.create(id="a1", email="a@x"),
    ),
    Scenario("delete", lambda call, note: call(note, "delete"), lambda: Note.create(id="n1")),
    Scenario(
        "delete-unique",
        lambda call, account: call(account, "delete"),
        lambda: Account.create(id="a1", email="a@x"),
    ),
    Scenario(
        "delete-missing",
        lambda call, note: call(note, "delete"),
        lambda: Note.create(id="n1").delete() or Note(id="n1"),
    ),
    Scenario(
        "create_many",
        lambda call, _: call(Note, "create_many", [{"id": f"n{i:03}"} for i in range(250)]),
    ),
    Scenario(
        "create_many-unique-taken",
        lambda call, _: call(
            Account, "create_many", [{"id": "a2", "email": "b@x"}, {"id": "a3", "email": "a@x"}]
        ),
        lambda: Account.create(id="a1", email="a@x"),
    ),
    Scenario(
        "get_many",
        lambda call, _: call(Note, "get_many", [{"id": f"n{i:03}"} for i in range(0, 300, 2)]),
        lambda: _notes(150),
    ),
    Scenario("all", lambda call, _: call(Note, "all"), lambda: _notes(20)),
    Scenario(
        "where-ordered-sliced",
        lambda call, _: call(
            Note.where(rank__gte=2).order_by("-rank", "id").offset(3).limit(5), "all"
        ),
        lambda: _notes(40),
    ),
    Scenario(
        "where-natural-sliced",
        lambda call, _: call(Note.where(rank__lt=5).offset(2).limit(4), "all"),
        lambda: _notes(40),
    ),
    Scenario(
        "where-whole-key",
        lambda call, _: call(Note.where(id="n003"), "all"),
        lambda: _notes(5),
    ),
    Scenario(
        "where-unique-value",
        lambda call, _: call(Account.where(email="a@x"), "first"),
        lambda: Account.create(id="a1", email="a@x"),
    ),
    Scenario(
        "where-partition",
        lambda call, _: call(Message.where(thread="t1", seq__gte=1).order_by("-seq"), "all"),
        lambda: [Message.create(thread=t, seq=s, body="b") for t in ("t1", "t2") for s in range(4)],
    ),
    Scenario("first", lambda call, _: call(Note.where(rank=3), "first"), lambda: _notes(20)),
    Scenario("count", lambda call, _: call(Note.where(rank__gte=2), "count"), lambda: _notes(20)),
    Scenario(
        "count-sliced",
        lambda call, _: call(Note.where(rank__gte=2).offset(3).limit(4), "count"),
        lambda: _notes(20),
    ),
    Scenario("exists", lambda call, _: call(Note.where(rank=6), "exists"), lambda: _notes(20)),
    Scenario("exists-not", lambda call, _: call(Note.where(rank=9), "exists"), lambda: _notes(20)),
    Scenario(
        "paginate",
        lambda call, _: call(Note.where(rank__lt=3).order_by("rank"), "paginate", 4, None),
        lambda: _notes(20),
    ),
]


def outcome(act: Callable[..., Any], *args: Any) -> Any:
    try:
        return shown(act(*args))
    except Exception as error:
        return type(error).__name__, str(error)


@pytest.fixture
def bound(bind):
    bind(*MODELS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_each_async_twin_sends_what_its_sync_twin_sends_and_ends_the_same(
    backend, bound, requests, scenario
):
    runs = []
    for call in (sync_call, async_call):
        backend.clear()
        prepared = scenario.setup()
        requests.reset()
        result = outcome(scenario.act, call, prepared)
        stored = sorted(map(repr, shown(Note.all() + Account.all() + Draft.all())))
        runs.append((requests.operations, result, stored))
    assert runs[1] == runs[0]
    assert runs[0][0], "the scenario sent no request: it proves nothing"


def test_the_counts_of_the_async_path_are_the_documented_ones(backend, bound, requests):
    # The sync counts are pinned in test_requests; these are the async ones, written out.
    async def scenario() -> None:
        await Note.acreate(id="n1")
        assert requests.operations == ["PutItem"]
        requests.reset()
        account = await Account.acreate(id="a1", email="a@x")
        assert requests.operations == ["TransactWriteItems"]
        requests.reset()
        await account.adelete()
        assert requests.operations == ["TransactWriteItems"]
        requests.reset()
        await Note.acreate_many([{"id": f"m{i:03}"} for i in range(250)])
        assert requests.counts() == {"BatchGetItem": 3, "TransactWriteItems": 3}
        requests.reset()
        await backend.aclear(Note.orm_schema())
        assert requests.counts() == {"Scan": 1, "BatchWriteItem": 11}  # 251 rows, 25 a request

    asyncio.run(scenario())


@pytest.mark.parametrize("filters", QUERIES, ids=[str(q) for q in QUERIES])
def test_every_lookup_selects_the_same_rows_through_the_async_api(backend, bind, filters):
    bind(Person)
    for data in PEOPLE:
        Person.create(**data)
    query = Person.where(**filters).order_by("id")

    async def looked_up() -> tuple[Any, ...]:
        streamed = [person async for person in Person.where(**filters)]
        return await query.aall(), streamed, await query.acount(), await query.aexists()

    everything, streamed, count, exists = asyncio.run(looked_up())
    expected = query.all()
    assert everything == expected
    assert sorted(streamed, key=lambda person: person.id) == expected
    assert (count, exists) == (len(expected), bool(expected))


def test_async_for_reads_one_page_at_a_time(backend, bound, requests):
    Note.create_many([{"id": f"n{i:03}", "text": "t" * 9_000} for i in range(250)])
    requests.reset()

    async def stream() -> None:
        rows = aiter(Note.where(rank__gte=0))
        await anext(rows)
        assert requests.operations == ["Scan"]  # ~2.2 MB of items: three pages, one read
        assert len([row async for row in rows]) == 249
        assert requests.operations == ["Scan"] * 3

    asyncio.run(stream())


# -- many tasks on one event loop -------------------------------------------------------------


def race(count: int, action: Callable[[int], Any]) -> list[Any]:
    """Start ``count`` tasks at once on one loop; what each returned or raised."""

    async def all_at_once() -> list[Any]:
        return await asyncio.gather(*(action(i) for i in range(count)), return_exceptions=True)

    return asyncio.run(all_at_once())


@pytest.mark.parametrize("model", [Note, Account])
def test_eight_tasks_creating_one_key(bound, model, claims):
    def data(i: int) -> dict[str, Any]:
        return (
            {"id": "same", "text": f"t{i}"} if model is Note else {"id": "same", "email": f"e{i}"}
        )

    winner = one_winner(race(8, lambda i: model.acreate(**data(i))), model)
    assert model.get(id="same") == winner
    if model is Account:
        claims(Account)  # only the winner's value is claimed


def test_eight_tasks_claiming_one_unique_value(bound, claims):
    outcomes = race(8, lambda i: Account.acreate(id=f"u{i}", email="wanted"))
    winner = one_winner(outcomes, Account, "email")
    assert [a.id for a in Account.all()] == [winner.id]
    claims(Account)


def without_conditions(operation: str, body: dict[str, Any]) -> None:
    """The broken writer of the proofs: creates and claims lose their conditions."""
    puts = [body] if operation == "PutItem" else []
    puts += [action["Put"] for action in body.get("TransactItems", ()) if "Put" in action]
    for put in puts:
        for part in (
            "ConditionExpression",
            "ExpressionAttributeNames",
            "ReturnValuesOnConditionCheckFailure",
        ):
            put.pop(part, None)


@pytest.mark.parametrize("model", [Note, Account])
def test_proof_without_conditions_eight_tasks_creating_one_key_all_win(bound, inject, model):
    # One key for Note, one unique value (and eight keys) for Account.
    def data(i: int) -> dict[str, Any]:
        return {"id": "same"} if model is Note else {"id": f"u{i}", "email": "same"}

    inject(without_conditions)
    outcomes = race(8, lambda i: model.acreate(**data(i)))
    assert all(isinstance(o, model) for o in outcomes), outcomes  # what the tests above catch


def test_eight_tasks_saving_one_versioned_row_one_wins(bound):
    Draft.create(id="d1")
    copies = [Draft.get(id="d1") for _ in range(8)]
    outcomes = race(8, lambda i: _changed(copies[i], text=f"t{i}").asave())
    winners = [o for o in outcomes if isinstance(o, Draft)]
    assert len(winners) == 1
    assert sum(isinstance(o, ConcurrentModificationError) for o in outcomes) == 7
    assert Draft.get(id="d1") == winners[0]


# -- the async path never blocks --------------------------------------------------------------


class Refusing:
    """A blocking sender that fails the test if anything sends through it."""

    def send(self, request: Any) -> Any:
        raise AssertionError(f"a blocking request on the async path: {request!r}")

    def close(self) -> None:
        pass


def test_the_async_path_never_sends_through_the_blocking_sender(backend, bound, monkeypatch):
    Account.create(id="a0", email="old@x")
    monkeypatch.setattr(backend, "_sender", Refusing())

    async def everything() -> None:
        account = await Account.acreate(id="a1", email="a@x")
        account.email = "b@x"
        await account.asave()
        await Account.aupsert(id="a2", email="c@x")
        await Account.acreate_many([{"id": "a3", "email": "d@x"}])
        assert len(await Account.aget_many([{"id": "a1"}, {"id": "a3"}])) == 2
        assert await Account.where(email="b@x").afirst() == account
        assert await Account.where().acount() == 4
        await (await Account.aget(id="a0")).adelete()
        with pytest.raises(NotFoundError):
            await Account(id="a0", email="old@x").adelete()
        await backend.aclear()

    asyncio.run(everything())
    monkeypatch.undo()
    assert Account.all() == []


def test_proof_the_refusing_sender_catches_a_blocking_request(backend, bound, monkeypatch):
    monkeypatch.setattr(backend, "_sender", Refusing())
    with pytest.raises(AssertionError, match="a blocking request on the async path"):
        Note.create(id="n1")


# -- lifecycle ---------------------------------------------------------------------------------


def test_async_with_closes_the_connections_and_the_backend_can_be_used_again(endpoint, backend):
    from conftest import make_client

    async def use() -> None:
        async with DynamoDBBackend(backend.table_name, client=make_client(endpoint)) as mine:
            Note.model_backend = mine
            await Note.acreate(id="n1")
        assert await Note.aget(id="n1") == Note(id="n1")  # opens a new connection
        await mine.aclose()
        mine.close()

    try:
        asyncio.run(use())
    finally:
        del Note.model_backend


def test_requests_counts_are_per_attempt_through_interceptors(backend, bound):
    # The counter of these tests sees async requests as it sees sync ones.
    counter = Requests(backend)
    try:
        asyncio.run(Note.aget(id="n1"))
    finally:
        counter.stop()
    assert counter.operations == ["GetItem"]
