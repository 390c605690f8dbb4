"""The DSL's 13 methods, and what their failures say: the same from both clients.

Every test runs on ``OrmClient`` and on ``AsyncOrmClient`` (each call awaited on an event
loop of its own), through the driver's sync and async methods respectively.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect

import pytest

from restmachine_orm import DuplicateKeyError, Field, InMemoryBackend, Model, NotFoundError
from restmachine_orm_testing import (
    AsyncOrmClient,
    DriverInterface,
    InMemoryDriver,
    OrmClient,
    VerificationError,
)


class User(Model):
    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    name: str
    age: int = Field(ge=0, default=0)


class ForgetfulBackend(InMemoryBackend):
    """Stores every row with its name dropped to 'lost': storage that lies."""

    def insert(self, schema, row):
        super().insert(schema, {**row, "name": "lost"})

    def transact(self, actions):
        lost = [
            dataclasses.replace(a, row={**a.row, "name": "lost"}) if a.verb == "insert" else a
            for a in actions
        ]
        return super().transact(lost)


class Awaiting:
    """An ``AsyncOrmClient`` whose every call is awaited here: the sync tests run it."""

    def __init__(self, driver):
        self.inner = AsyncOrmClient(driver)

    def __getattr__(self, name):
        method = getattr(self.inner, name)
        return lambda *args, **kwargs: asyncio.run(method(*args, **kwargs))


class SidedDriver(InMemoryDriver):
    """Notes which of its two ways in each operation took."""

    def __init__(self, backend=None):
        super().__init__()
        if backend is not None:
            self.backend = backend
        self.sides = set()

    def execute(self, operation):
        self.sides.add("sync")
        return super().execute(operation)

    async def aexecute(self, operation):
        self.sides.add("async")
        return await super().aexecute(operation)


CLIENTS = {"sync": OrmClient, "async": Awaiting}


@pytest.fixture(params=sorted(CLIENTS))
def side(request):
    return request.param


class ForgetfulDriver(InMemoryDriver):
    def __init__(self):
        self.backend = ForgetfulBackend()

    def get_backend_name(self):
        return "forgetful"


@pytest.fixture
def client(side):
    before = User.__dict__.get("model_backend")
    driver = SidedDriver()
    yield CLIENTS[side](driver)
    assert driver.sides == {side}
    if before is None:
        User.__dict__.get("model_backend") and delattr(User, "model_backend")


def test_the_async_client_has_the_sync_ones_methods_awaited():
    public = {name for name in vars(OrmClient) if not name.startswith("_")}
    assert len(public) == 21
    assert public == {name for name in vars(AsyncOrmClient) if not name.startswith("_")}
    for name in public:
        assert inspect.iscoroutinefunction(getattr(AsyncOrmClient, name)), name
        sync, awaited = (inspect.signature(getattr(c, name)) for c in (OrmClient, AsyncOrmClient))
        assert sync.parameters == awaited.parameters, name


def test_the_thirteen_methods(client):
    ann = client.create_and_verify(User, id="u1", email="a@x.io", name="Ann", age=30)
    client.create_and_verify(User, id="u2", email="b@x.io", name="Bob", age=25)
    client.create_and_verify(User, id="u3", email="c@x.io", name="Cy", age=60)
    client.expect_create_failure(User, DuplicateKeyError, id="u1", email="z@x.io", name="Z")
    assert client.get_and_verify_exists(User, id="u1") == ann
    client.get_and_verify_not_exists(User, id="nobody")
    updated = client.update_and_verify(ann, age=31, name="Ann Smith")
    assert (updated.age, updated.name) == (31, "Ann Smith")
    client.expect_update_failure(User(id="zz", email="z@x.io", name="Z"), NotFoundError, age=2)
    upserted = client.upsert_and_verify(User, id="u4", email="d@x.io", name="Di")
    client.delete_and_verify(upserted)
    result = client.query_models(
        User, filters={"age__gte": 25, "age__lte": 50}, order_by=["age"], limit=10
    )
    assert result.success
    assert [u.id for u in result.data] == ["u2", "u1"]
    found = client.query_and_verify_count(User, expected_count=2, filters={"age__gte": 30})
    assert sorted(u.id for u in found) == ["u1", "u3"]
    assert client.count_models(User, age__gte=30) == 2
    assert client.model_exists(User, email="a@x.io")
    assert not client.model_exists(User, email="nobody@x.io")
    assert sorted(u.id for u in client.all_models(User)) == ["u1", "u2", "u3"]


def test_a_failed_query_keeps_its_error(client):
    result = client.query_models(User, filters={"agee": 1})
    assert not result.success
    assert "agee" in str(result.error)


def test_verification_names_backend_model_and_differing_field(side):
    client = CLIENTS[side](ForgetfulDriver())
    with pytest.raises(VerificationError) as caught:
        client.create_and_verify(User, id="u1", email="a@x.io", name="Ann")
    message = str(caught.value)
    assert message.startswith("[forgetful] User:")
    assert "name: expected 'Ann', stored 'lost'" in message
    assert "email" not in message


def test_a_transaction_is_verified_row_by_row(client, side):
    ann = client.create_and_verify(User, id="u1", email="a@x.io", name="Ann")
    actions = client.transaction_and_verify(
        lambda tx: (tx.create(User, id="u2", email="b@x.io", name="Bo"), tx.update(ann, age=31))
    )
    assert [(a.verb, a.key) for a in actions] == [
        ("create", {"id": "u2"}),
        ("update", {"id": "u1"}),
    ]
    assert ann.age == 31
    error = client.expect_transaction_failure(
        lambda tx: (tx.create(User, id="u3", email="a@x.io", name="Cy"), tx.delete(ann)),
        reasons=[DuplicateKeyError, None],
    )
    assert isinstance(error.reasons[0], DuplicateKeyError)
    with pytest.raises(
        VerificationError,
        match=r"expected the reasons \[None, None\], got \[DuplicateKeyError, None\]",
    ):
        client.expect_transaction_failure(
            lambda tx: (tx.create(User, id="u3", email="a@x.io", name="Cy"), tx.delete(ann)),
            reasons=[None, None],
        )
    with pytest.raises(VerificationError, match="to raise TransactionError, but it succeeded"):
        client.expect_transaction_failure(
            lambda tx: tx.create(User, id="u4", email="d@x.io", name="Di"),
            reasons=[DuplicateKeyError],
        )
    client.get_and_verify_exists(User, id="u4")
    forgetful = CLIENTS[side](ForgetfulDriver())
    ForgetfulDriver.setup_backend(
        forgetful.inner.driver if side == "async" else forgetful.driver, User
    )
    with pytest.raises(VerificationError) as caught:
        forgetful.transaction_and_verify(
            lambda tx: tx.create(User, id="u1", email="a@x.io", name="Ann")
        )
    assert "action 1 (create id='u1'), the stored row differs: name: expected 'Ann'" in str(
        caught.value
    )


def test_expect_failure_says_what_it_saw(client):
    with pytest.raises(
        VerificationError, match="expected create to raise DuplicateKeyError, but it succeeded"
    ):
        client.expect_create_failure(User, DuplicateKeyError, id="u1", email="a@x.io", name="A")
    with pytest.raises(VerificationError, match=r"got ValidationError"):
        client.expect_create_failure(User, DuplicateKeyError, id="u2", email="b@x.io", age=-1)
    with pytest.raises(VerificationError, match=r"\[inmemory\] User: expected a row with id='x'"):
        client.get_and_verify_exists(User, id="x")
    with pytest.raises(VerificationError, match="returned 1 rows, expected 5"):
        client.query_and_verify_count(User, 5)
    with pytest.raises(VerificationError, match="create failed with DuplicateKeyError"):
        client.create_and_verify(User, id="u1", email="c@x.io", name="C")


def test_the_async_defaults_use_the_models_async_api():
    class SyncSideBroken(InMemoryBackend):
        """The sync methods fail: only the awaitable twins can serve the async client."""

        def insert(self, schema, row):
            raise AssertionError("the sync insert was called")

        async def ainsert(self, schema, row):
            InMemoryBackend.insert(self, schema, row)

    class Driver(InMemoryDriver):
        def __init__(self):
            self.backend = SyncSideBroken()

    created = Awaiting(Driver()).create_and_verify(User, id="u1", email="a@x.io", name="A")
    assert created.id == "u1"
    with pytest.raises(VerificationError, match="the sync insert was called"):
        OrmClient(Driver()).create_and_verify(User, id="u2", email="b@x.io", name="B")


def test_execute_and_aexecute_dispatch_on_the_operations_verb():
    assert {name for name in vars(DriverInterface) if name.startswith("execute_")} == {
        "execute_" + verb
        for verb in (
            "create",
            "get",
            "update",
            "delete",
            "upsert",
            "query",
            "count",
            "exists",
            "all",
            "clear",
            "transaction",
        )
    }
    for name in vars(DriverInterface):
        if name.startswith("execute_"):
            assert inspect.iscoroutinefunction(getattr(DriverInterface, "a" + name))
