"""What users of the earlier restmachine-orm-testing relied on (issue 19).

``EXCLUDED_BACKENDS`` and ``@multi_backend_test_class`` choose a class's backends; the
unverified DSL calls (``create_model`` ... ``upsert_model``), ``clear_storage`` and
``is_backend`` run on both clients. The DSL classes here run on the in-memory and the
DynamoDB backend, each test once with ``orm`` and once, awaited, with ``aorm``.
"""

from __future__ import annotations

import asyncio
import inspect

import pytest
from pydantic import ValidationError
from test_dsl import SidedDriver

from restmachine_orm import DuplicateKeyError, Field, InMemoryBackend, Model, NotFoundError
from restmachine_orm_testing import (
    AsyncOrmClient,
    InMemoryDriver,
    MultiBackendTestBase,
    OperationResult,
    OrmClient,
    VerificationError,
    multi_backend_test_class,
)

# -- EXCLUDED_BACKENDS and @multi_backend_test_class: the ids collected ----------------------

EXCLUSIONS = """
from restmachine_orm_testing import MultiBackendTestBase, multi_backend_test_class


class TestBoth(MultiBackendTestBase):
    ENABLED_BACKENDS = ["inmemory", "dynamodb"]

    def test_a(self, orm):
        pass


class TestNoDynamo(TestBoth):
    EXCLUDED_BACKENDS = ["dynamodb"]

    async def test_b(self, aorm):
        pass


class TestInherits(TestNoDynamo):
    def test_c(self, orm):
        pass


class TestBackAgain(TestNoDynamo):
    EXCLUDED_BACKENDS = []


class TestNotEnabled(MultiBackendTestBase):
    EXCLUDED_BACKENDS = ["dynamodb", "sqlite"]

    def test_d(self, orm):
        pass


@multi_backend_test_class(
    enabled_backends=["inmemory", "dynamodb"], excluded_backends=["inmemory"]
)
class TestDecorated(MultiBackendTestBase):
    def test_e(self, orm):
        pass


@multi_backend_test_class(enabled_backends=["dynamodb", "inmemory"])
class TestDecoratedEnabledOnly(MultiBackendTestBase):
    def test_f(self, orm):
        pass
"""

# What each class collects: ENABLED_BACKENDS less EXCLUDED_BACKENDS, inherited or not.
EXCLUSION_IDS = {
    "TestBoth::test_a[inmemory]",
    "TestBoth::test_a[dynamodb]",
    "TestNoDynamo::test_a[inmemory]",
    "TestNoDynamo::test_b[inmemory]",
    "TestInherits::test_a[inmemory]",
    "TestInherits::test_b[inmemory]",
    "TestInherits::test_c[inmemory]",
    "TestBackAgain::test_a[inmemory]",
    "TestBackAgain::test_a[dynamodb]",
    "TestBackAgain::test_b[inmemory]",
    "TestBackAgain::test_b[dynamodb]",
    "TestNotEnabled::test_d[inmemory]",
    "TestDecorated::test_e[dynamodb]",
    "TestDecoratedEnabledOnly::test_f[dynamodb]",
    "TestDecoratedEnabledOnly::test_f[inmemory]",
}


def collected(pytester, *args):
    """The ids an inner run collects, as ``Class::test[backend]``, and its result."""
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider", *args)
    ids = {line.split("::", 1)[1] for line in result.outlines if "::" in line}
    return ids, result


def test_excluded_backends_leave_the_class_and_its_subclasses(pytester):
    pytester.makepyfile(test_exclusions=EXCLUSIONS)
    ids, result = collected(pytester)
    assert result.ret == 0
    assert ids == EXCLUSION_IDS


def test_the_runs_selection_still_narrows_what_exclusion_leaves(pytester):
    pytester.makepyfile(test_exclusions=EXCLUSIONS)
    ids, result = collected(pytester, "--orm-backend", "dynamodb")
    assert ids == {name for name in EXCLUSION_IDS if name.endswith("[dynamodb]")}
    # An excluded backend is not brought back by selecting it: the class has no test left.
    assert not any(name.startswith(("TestNoDynamo", "TestInherits")) for name in ids)
    result.stdout.fnmatch_lines(["*5/15 tests collected (10 deselected)*"])


def test_an_excluded_backend_never_runs(pytester):
    pytester.makepyfile(
        test_runs="""
from restmachine_orm_testing import MultiBackendTestBase


class TestRuns(MultiBackendTestBase):
    ENABLED_BACKENDS = ["inmemory", "dynamodb"]
    EXCLUDED_BACKENDS = ["dynamodb"]

    def test_a(self, orm):
        assert orm[1] == "inmemory"

    async def test_b(self, aorm):
        assert aorm[1] == "inmemory"
"""
    )
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_runs.py::TestRuns  |  inmemory: 2 passed"])


def test_excluding_every_enabled_backend_is_a_collection_error_naming_the_class(pytester):
    pytester.makepyfile(
        test_none="""
from restmachine_orm_testing import MultiBackendTestBase, multi_backend_test_class


class TestNothingLeft(MultiBackendTestBase):
    ENABLED_BACKENDS = ["inmemory", "dynamodb"]
    EXCLUDED_BACKENDS = ["dynamodb", "inmemory"]

    def test_a(self, orm):
        pass


@multi_backend_test_class(excluded_backends=["inmemory"])
class TestDecoratedAway(MultiBackendTestBase):
    def test_b(self, orm):
        pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    assert result.stdout.lines.count("ERROR test_none.py::TestNothingLeft") == 1
    assert result.stdout.lines.count("ERROR test_none.py::TestDecoratedAway") == 1
    # Plain text: fnmatch would read the lists' brackets as character classes.
    assert (
        "TestNothingLeft.EXCLUDED_BACKENDS ['dynamodb', 'inmemory'] excludes every backend "
        "of ENABLED_BACKENDS ['inmemory', 'dynamodb']: the class has no backend to run on"
    ) in result.stdout.lines
    assert (
        "TestDecoratedAway.EXCLUDED_BACKENDS ['inmemory'] excludes every backend "
        "of ENABLED_BACKENDS ['inmemory']: the class has no backend to run on"
    ) in result.stdout.lines


def test_excluded_backends_given_as_a_string_is_a_collection_error(pytester):
    pytester.makepyfile(
        test_string="""
from restmachine_orm_testing import MultiBackendTestBase


class TestString(MultiBackendTestBase):
    ENABLED_BACKENDS = ["inmemory", "dynamodb"]
    EXCLUDED_BACKENDS = "dynamodb"

    def test_a(self, orm):
        pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*TestString.EXCLUDED_BACKENDS must be a list of backend names, not 'dynamodb'*"]
    )


def test_excluded_backends_defaults_to_none_excluded():
    assert MultiBackendTestBase.EXCLUDED_BACKENDS == []


# -- @multi_backend_test_class itself ---------------------------------------------------------


def test_the_decorator_sets_copies_of_the_lists_and_returns_the_class():
    enabled, excluded = ["inmemory", "dynamodb"], ["dynamodb"]
    decorate = multi_backend_test_class(enabled_backends=enabled, excluded_backends=excluded)

    class TestOne(MultiBackendTestBase):
        pass

    class TestTwo(MultiBackendTestBase):
        pass

    assert decorate(TestOne) is TestOne
    decorate(TestTwo)
    enabled.append("sqlite")
    excluded.clear()
    assert TestOne.ENABLED_BACKENDS == ["inmemory", "dynamodb"]
    assert TestOne.EXCLUDED_BACKENDS == ["dynamodb"]
    # Each class its own lists: changing one class's leaves the other's alone.
    TestOne.EXCLUDED_BACKENDS.append("inmemory")
    assert TestTwo.EXCLUDED_BACKENDS == ["dynamodb"]


def test_an_argument_left_out_leaves_the_attribute_as_inherited():
    class TestBase(MultiBackendTestBase):
        ENABLED_BACKENDS = ["inmemory", "dynamodb"]
        EXCLUDED_BACKENDS = ["dynamodb"]

    @multi_backend_test_class(excluded_backends=[])
    class TestChild(TestBase):
        pass

    assert "ENABLED_BACKENDS" not in vars(TestChild)
    assert TestChild.ENABLED_BACKENDS == ["inmemory", "dynamodb"]
    assert TestChild.EXCLUDED_BACKENDS == []
    assert TestBase.EXCLUDED_BACKENDS == ["dynamodb"]


def test_the_decorator_refuses_other_classes_naming_them():
    class TestPlain:
        pass

    with pytest.raises(TypeError, match=r"subclasses; \S*TestPlain is not one"):
        multi_backend_test_class(enabled_backends=["inmemory"])(TestPlain)
    function = test_the_decorator_refuses_other_classes_naming_them
    with pytest.raises(TypeError, match=f"subclasses; {function.__name__} is not one"):
        multi_backend_test_class()(function)


def test_the_decorator_refuses_a_string_and_a_missing_call():
    with pytest.raises(TypeError, match=r"enabled_backends takes a list.*\['dynamodb'\]"):
        multi_backend_test_class(enabled_backends="dynamodb")
    with pytest.raises(TypeError, match=r"excluded_backends takes a list.*\['dynamodb'\]"):
        multi_backend_test_class(excluded_backends="dynamodb")

    with pytest.raises(TypeError, match=r"write @multi_backend_test_class\(\.\.\.\)"):

        @multi_backend_test_class
        class TestBare(MultiBackendTestBase):
            pass


# -- the unverified DSL calls, clear_storage and is_backend, on both backends ---------------


class Owner(Model):
    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    name: str
    age: int = Field(ge=0, default=0)


class Pet(Model):
    id: str = Field(primary_key=True)
    kind: str


def checked(result, success):
    """The result, once it is an ``OperationResult`` with that outcome."""
    assert isinstance(result, OperationResult)
    assert result.success is success, result.error
    assert (result.error is None) is success
    return result


class TestUnverifiedCalls(MultiBackendTestBase):
    ENABLED_BACKENDS = ["inmemory", "dynamodb"]

    def get_test_models(self):
        return [Owner, Pet]

    def test_writes_and_reads(self, orm):
        client, _ = orm
        created = checked(client.create_model(Owner, id="o1", email="a@x.io", name="Ann"), True)
        assert created.instance.id == "o1" and created.data["name"] == "Ann"
        assert checked(client.get_model(Owner, id="o1"), True).instance == created.instance
        updated = checked(client.update_model(created.instance, age=31, name="Ann B"), True)
        assert (updated.instance.age, updated.instance.name) == (31, "Ann B")
        assert client.get_and_verify_exists(Owner, id="o1").age == 31
        upserted = checked(client.upsert_model(Owner, id="o1", email="b@x.io", name="Bo"), True)
        assert upserted.instance.email == "b@x.io"
        assert client.get_and_verify_exists(Owner, id="o1").name == "Bo"
        checked(client.upsert_model(Owner, id="o2", email="c@x.io", name="Cy"), True)
        deleted = checked(client.delete_model(upserted.instance), True)
        assert deleted.instance is upserted.instance
        client.get_and_verify_not_exists(Owner, id="o1")
        assert [o.id for o in client.all_models(Owner)] == ["o2"]

    def test_an_absent_row_is_success_with_no_instance(self, orm):
        client, _ = orm
        result = checked(client.get_model(Owner, id="nobody"), True)
        assert result.instance is None

    def test_the_orms_errors_are_returned_not_raised(self, orm):
        client, _ = orm
        ann = client.create_and_verify(Owner, id="o1", email="a@x.io", name="Ann")
        duplicate = checked(client.create_model(Owner, id="o1", email="z@x.io", name="Z"), False)
        assert isinstance(duplicate.error, DuplicateKeyError)
        invalid = checked(client.create_model(Owner, id="o2", email="b@x.io", age=-1), False)
        assert isinstance(invalid.error, ValidationError)
        upserted = checked(client.upsert_model(Owner, id="o3"), False)
        assert isinstance(upserted.error, ValidationError)
        ghost = Owner(id="ghost", email="g@x.io", name="G")
        assert isinstance(checked(client.update_model(ghost, age=2), False).error, NotFoundError)
        assert isinstance(checked(client.delete_model(ghost), False).error, NotFoundError)
        taken = checked(client.upsert_model(Owner, id="o4", email="a@x.io", name="D"), False)
        assert isinstance(taken.error, DuplicateKeyError)
        assert client.all_models(Owner) == [ann]

    def test_clear_storage_of_one_model_or_of_the_tests_models(self, orm):
        client, _ = orm
        client.create_and_verify(Owner, id="o1", email="a@x.io", name="Ann")
        client.create_and_verify(Owner, id="o2", email="b@x.io", name="Bo")
        client.create_and_verify(Pet, id="p1", kind="cat")
        assert client.clear_storage(Owner) is None
        assert client.all_models(Owner) == []
        assert [p.id for p in client.all_models(Pet)] == ["p1"]
        # The unique email is free again: its claim went with the row.
        client.create_and_verify(Owner, id="o3", email="a@x.io", name="Cy")
        client.clear_storage()
        assert (client.all_models(Owner), client.all_models(Pet)) == ([], [])

    def test_is_backend(self, orm):
        client, backend_name = orm
        assert client.is_backend(backend_name) is True
        assert client.is_backend("cassandra") is False

    async def test_writes_and_reads_awaited(self, aorm):
        client, _ = aorm
        created = checked(
            await client.create_model(Owner, id="o1", email="a@x.io", name="Ann"), True
        )
        assert created.instance.id == "o1" and created.data["name"] == "Ann"
        assert checked(await client.get_model(Owner, id="o1"), True).instance == created.instance
        updated = checked(await client.update_model(created.instance, age=31, name="Ann B"), True)
        assert (updated.instance.age, updated.instance.name) == (31, "Ann B")
        assert (await client.get_and_verify_exists(Owner, id="o1")).age == 31
        upserted = checked(
            await client.upsert_model(Owner, id="o1", email="b@x.io", name="Bo"), True
        )
        assert upserted.instance.email == "b@x.io"
        assert (await client.get_and_verify_exists(Owner, id="o1")).name == "Bo"
        checked(await client.upsert_model(Owner, id="o2", email="c@x.io", name="Cy"), True)
        deleted = checked(await client.delete_model(upserted.instance), True)
        assert deleted.instance is upserted.instance
        await client.get_and_verify_not_exists(Owner, id="o1")
        assert [o.id for o in await client.all_models(Owner)] == ["o2"]

    async def test_an_absent_row_is_success_with_no_instance_awaited(self, aorm):
        client, _ = aorm
        result = checked(await client.get_model(Owner, id="nobody"), True)
        assert result.instance is None

    async def test_the_orms_errors_are_returned_not_raised_awaited(self, aorm):
        client, _ = aorm
        ann = await client.create_and_verify(Owner, id="o1", email="a@x.io", name="Ann")
        duplicate = checked(
            await client.create_model(Owner, id="o1", email="z@x.io", name="Z"), False
        )
        assert isinstance(duplicate.error, DuplicateKeyError)
        invalid = checked(await client.create_model(Owner, id="o2", email="b@x.io", age=-1), False)
        assert isinstance(invalid.error, ValidationError)
        upserted = checked(await client.upsert_model(Owner, id="o3"), False)
        assert isinstance(upserted.error, ValidationError)
        ghost = Owner(id="ghost", email="g@x.io", name="G")
        updated = checked(await client.update_model(ghost, age=2), False)
        assert isinstance(updated.error, NotFoundError)
        assert isinstance(checked(await client.delete_model(ghost), False).error, NotFoundError)
        taken = checked(await client.upsert_model(Owner, id="o4", email="a@x.io", name="D"), False)
        assert isinstance(taken.error, DuplicateKeyError)
        assert await client.all_models(Owner) == [ann]

    async def test_clear_storage_of_one_model_or_of_the_tests_models_awaited(self, aorm):
        client, _ = aorm
        await client.create_and_verify(Owner, id="o1", email="a@x.io", name="Ann")
        await client.create_and_verify(Owner, id="o2", email="b@x.io", name="Bo")
        await client.create_and_verify(Pet, id="p1", kind="cat")
        assert await client.clear_storage(Owner) is None
        assert await client.all_models(Owner) == []
        assert [p.id for p in await client.all_models(Pet)] == ["p1"]
        await client.create_and_verify(Owner, id="o3", email="a@x.io", name="Cy")
        await client.clear_storage()
        assert (await client.all_models(Owner), await client.all_models(Pet)) == ([], [])

    async def test_is_backend_awaited(self, aorm):
        client, backend_name = aorm
        # A plain call: a coroutine, never awaited, would pass any ``if``.
        assert client.is_backend(backend_name) is True
        assert client.is_backend("cassandra") is False


class TestNoModelsDeclared(MultiBackendTestBase):
    ENABLED_BACKENDS = ["inmemory", "dynamodb"]

    def test_clear_storage_needs_a_model(self, orm):
        with pytest.raises(ValueError, match=r"get_test_models\(\).*clear_storage\(User\)"):
            orm[0].clear_storage()

    async def test_clear_storage_needs_a_model_awaited(self, aorm):
        with pytest.raises(ValueError, match=r"get_test_models\(\).*clear_storage\(User\)"):
            await aorm[0].clear_storage()


# -- the same steps on both clients, each through its own side of the driver -----------------


class Awaiting:
    """An ``AsyncOrmClient`` whose every storage call is awaited here, for sync tests."""

    def __init__(self, driver, models=()):
        self.inner = AsyncOrmClient(driver, models)

    def __getattr__(self, name):
        method = getattr(self.inner, name)
        return lambda *args, **kwargs: asyncio.run(method(*args, **kwargs))


class ForgetfulBackend(InMemoryBackend):
    """Stores every row with its name dropped: what only a verified call notices."""

    def insert(self, schema, row):
        super().insert(schema, {**row, "name": "lost"})


class UnclearableBackend(InMemoryBackend):
    def clear(self, schema=None):
        raise RuntimeError("the disk is on fire")

    async def aclear(self, schema=None):
        raise RuntimeError("the disk is on fire, awaited")


CLIENTS = {"sync": OrmClient, "async": Awaiting}


@pytest.fixture(params=sorted(CLIENTS))
def side(request):
    return request.param


@pytest.fixture
def bound():
    """Give the models back whatever ``model_backend`` the clients bind them to."""
    before = {model: model.__dict__.get("model_backend") for model in (Owner, Pet)}
    yield
    for model, backend in before.items():
        if backend is None:
            model.__dict__.get("model_backend") and delattr(model, "model_backend")
        else:
            model.model_backend = backend


def test_each_client_takes_its_own_side_of_the_driver(side, bound):
    driver = SidedDriver()
    client = CLIENTS[side](driver, [Owner, Pet])
    ann = client.create_model(Owner, id="o1", email="a@x.io", name="Ann").instance
    client.get_model(Owner, id="o1")
    client.update_model(ann, age=3)
    client.upsert_model(Pet, id="p1", kind="cat")
    client.delete_model(ann)
    client.clear_storage()
    assert driver.sides == {side}


def test_an_unverified_create_does_not_read_the_row_back(side, bound):
    client = CLIENTS[side](SidedDriver(ForgetfulBackend()))
    result = client.create_model(Owner, id="o1", email="a@x.io", name="Ann")
    assert result.success and result.instance.name == "Ann"
    assert client.get_model(Owner, id="o1").instance.name == "lost"
    with pytest.raises(VerificationError, match="name: expected 'Bo', stored 'lost'"):
        client.create_and_verify(Owner, id="o2", email="b@x.io", name="Bo")


def test_a_failed_clear_names_backend_model_and_error(side, bound):
    client = CLIENTS[side](SidedDriver(UnclearableBackend()), [Owner])
    awaited = ", awaited" if side == "async" else ""
    message = rf"\[inmemory\] Pet: clear failed with RuntimeError: the disk is on fire{awaited}$"
    with pytest.raises(VerificationError, match=message):
        client.clear_storage(Pet)
    with pytest.raises(VerificationError, match=r"\[inmemory\] Owner: clear failed"):
        client.clear_storage()


def test_is_backend_is_a_plain_call_on_both_clients():
    for client_class in (OrmClient, AsyncOrmClient):
        client = client_class(InMemoryDriver())
        assert not inspect.iscoroutinefunction(client.is_backend)
        assert client.is_backend("inmemory") and not client.is_backend("dynamodb")
    assert not inspect.iscoroutinefunction(AsyncOrmClient.is_backend)
    for name in ("create_model", "get_model", "update_model", "delete_model", "upsert_model"):
        assert inspect.iscoroutinefunction(getattr(AsyncOrmClient, name)), name
    assert inspect.iscoroutinefunction(AsyncOrmClient.clear_storage)


def test_a_hand_made_client_clears_only_what_it_is_told(side, bound):
    client = CLIENTS[side](SidedDriver())
    client.create_model(Pet, id="p1", kind="cat")
    with pytest.raises(ValueError, match=r"get_test_models\(\)"):
        client.clear_storage()
    client.clear_storage(Pet)
    assert client.all_models(Pet) == []
