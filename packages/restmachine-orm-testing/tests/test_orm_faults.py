"""``orm_faults``: failure as a test input, on its own and beside ``orm`` and ``aorm``."""

from __future__ import annotations

import pytest

from restmachine_orm import InMemoryBackend
from restmachine_orm_testing import FaultsUnsupportedError, OrmFaults

ON_ITS_OWN = """
import pytest

from restmachine_orm import BackendError, F, Field, InMemoryBackend, Model

BACKEND = InMemoryBackend()


class Counter(Model):
    id: str = Field(primary_key=True)
    hits: int = 0


Counter.model_backend = BACKEND


def test_attached_by_hand(orm_faults):
    orm_faults.attach(BACKEND)
    counter = Counter.create(id="c")
    orm_faults.lose_response(operation="update")
    orm_faults.throttle(operation="get", model=Counter, times=2)
    assert counter.update(hits=F("hits") + 1).hits == 1
    assert Counter.get(id="c").hits == 1
    assert (orm_faults.calls("update"), orm_faults.calls("get")) == (2, 3)
    orm_faults.fail(operation="delete", times=100)
    raise AssertionError("a failing test still gives the backend back")


def test_the_backend_is_given_back():
    assert "delete" not in vars(BACKEND)
    Counter.get(id="c").delete()
"""

BESIDE_ORM = """
from restmachine_orm import DuplicateKeyError, F, Field, Model, WriteOutcomeUnknownError
from restmachine_orm_testing import MultiBackendTestBase


class Tally(Model):
    id: str = Field(primary_key=True)
    count: int = 0


class TestFaults(MultiBackendTestBase):
    def get_test_models(self):
        return [Tally]

    def test_sync(self, orm, orm_faults):
        client, _ = orm
        orm_faults.lose_response(operation="create")
        assert Tally.create(id="t").count == 0
        orm_faults.lose_response(operation="update", times=2)
        Tally.update_by_key({"id": "t"}, count=F("count") + 1)
        assert client.get_and_verify_exists(Tally, id="t").count == 1

    async def test_async(self, aorm, orm_faults):
        client, _ = aorm
        orm_faults.lose_response(operation="create")
        await Tally.acreate(id="t")
        orm_faults.lose_response(operation="delete")
        try:
            await (await Tally.aget(id="t")).adelete()
        except WriteOutcomeUnknownError:
            pass
        else:
            raise AssertionError("a lost delete reported an outcome")
        await client.get_and_verify_not_exists(Tally, id="t")
        assert orm_faults.calls("create") == 2
"""

WITHOUT_THE_CAPABILITY = """
from restmachine_orm import Field, InMemoryBackend, Model
from restmachine_orm_testing import InMemoryDriver, MultiBackendTestBase


class Plain(InMemoryBackend):
    capabilities = InMemoryBackend.capabilities - {"faults"}


class PlainDriver(InMemoryDriver):
    def __init__(self):
        self.backend = Plain()


class Tally(Model):
    id: str = Field(primary_key=True)


class TestFaults(MultiBackendTestBase):
    ENABLED_BACKENDS = ["inmemory"]

    @classmethod
    def create_driver(cls, backend_name):
        return PlainDriver()

    def get_test_models(self):
        return [Tally]

    def test_needs_faults(self, orm, orm_faults):
        raise AssertionError("not run: the backend cannot act faults out")
"""


def test_orm_faults_on_its_own_is_attached_by_hand_and_detached_after_a_failure(pytester):
    pytester.makepyfile(test_plain=ON_ITS_OWN)
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*a failing test still gives the backend back*"])


def test_orm_faults_works_beside_orm_and_aorm(pytester):
    pytester.makepyfile(test_beside=BESIDE_ORM)
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error", "-rs")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("passed", 0) >= 2, outcomes


def test_orm_faults_skips_with_the_reason_on_a_backend_without_the_capability(pytester):
    pytester.makepyfile(test_plain=WITHOUT_THE_CAPABILITY)
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*inmemory cannot act out injected faults*"])


def test_attach_refuses_a_backend_without_the_capability() -> None:
    class Plain(InMemoryBackend):
        capabilities = InMemoryBackend.capabilities - {"faults"}

    with pytest.raises(FaultsUnsupportedError, match="Plain cannot act out injected faults"):
        OrmFaults().attach(Plain())


def test_attached_gives_the_backend_back_outside_pytest() -> None:
    backend = InMemoryBackend()
    faults = OrmFaults()
    with faults.attached(backend):
        assert "get" in vars(backend)
    assert "get" not in vars(backend)
