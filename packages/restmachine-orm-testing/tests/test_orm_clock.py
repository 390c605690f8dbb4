"""``orm_clock``: the ORM's clock in a test, on its own and beside ``orm`` and ``aorm``."""

from __future__ import annotations

import datetime as dt

import pytest

from restmachine_orm import clock
from restmachine_orm_testing import OrmClock

CLOCK_TESTS = """
import datetime as dt

from restmachine_orm import Field, Model, TimestampMixin, clock
from restmachine_orm.mixins import ExpirationMixin

NOON = dt.datetime(2030, 1, 2, 12, 0, tzinfo=dt.timezone.utc)


class Note(TimestampMixin, ExpirationMixin, Model):
    id: str = Field(primary_key=True)
    body: str = ""


def test_on_its_own(orm_clock):
    orm_clock.set(NOON)
    assert clock.now() == NOON
    note = Note.create(id="n1", expires_at=orm_clock.after(3600))
    assert note.created_at == note.updated_at == NOON
    orm_clock.advance(60)
    note.body = "edited"
    note.save()
    assert note.updated_at == NOON + dt.timedelta(seconds=60)
    assert Note.get(id="n1") is not None
    orm_clock.advance(dt.timedelta(hours=1))
    assert Note.get(id="n1") is None


def test_the_real_clock_is_back():
    assert abs(clock.now() - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(seconds=5)
"""

BESIDE_ORM = """
import datetime as dt

from restmachine_orm import Field, Model, TimestampMixin
from restmachine_orm.mixins import ExpirationMixin
from restmachine_orm_testing import MultiBackendTestBase

NOON = dt.datetime(2030, 1, 2, 12, 0, tzinfo=dt.timezone.utc)


class Lease(TimestampMixin, ExpirationMixin, Model):
    id: str = Field(primary_key=True)


class TestLeases(MultiBackendTestBase):
    def get_test_models(self):
        return [Lease]

    def test_sync(self, orm, orm_clock):
        client, _ = orm
        orm_clock.set(NOON)
        lease = client.create_and_verify(Lease, id="a", expires_at=orm_clock.after(3600))
        assert lease.created_at == NOON
        orm_clock.advance(3600)
        assert client.count_models(Lease) == 0

    async def test_async(self, aorm, orm_clock):
        client, _ = aorm
        orm_clock.set(NOON)
        await client.create_and_verify(Lease, id="a", expires_at=orm_clock.after(10))
        assert await client.count_models(Lease) == 1
        orm_clock.advance(10)
        assert await client.count_models(Lease) == 0
"""


def test_orm_clock_drives_the_orm_in_a_plain_test_and_is_restored(pytester):
    pytester.makepyfile(test_clock=CLOCK_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=2)


def test_orm_clock_works_beside_orm_and_aorm(pytester):
    pytester.makepyfile(test_beside=BESIDE_ORM)
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=2)


def test_the_clock_stands_still_until_moved() -> None:
    test_clock = OrmClock(dt.datetime(2030, 1, 1))
    assert test_clock.now() == dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)  # naive: UTC
    assert test_clock.now() == test_clock.now()
    assert test_clock.advance(1.5) == dt.datetime(2030, 1, 1, 0, 0, 1, 500000, dt.timezone.utc)
    test_clock.set(dt.datetime(2029, 12, 31, tzinfo=dt.timezone.utc))  # back in time too
    assert test_clock.now().year == 2029
    assert repr(test_clock) == "OrmClock(2029-12-31T00:00:00+00:00)"


def test_the_clock_starts_at_the_real_time() -> None:
    real = dt.datetime.now(dt.timezone.utc)
    assert abs(OrmClock().now() - real) < dt.timedelta(seconds=2)


@pytest.mark.parametrize("bad", [True, "10", None])
def test_advance_takes_seconds_or_a_timedelta(bad: object) -> None:
    with pytest.raises(TypeError, match=r"orm_clock takes seconds or a timedelta"):
        OrmClock().advance(bad)  # type: ignore[arg-type]


def test_set_takes_a_datetime() -> None:
    with pytest.raises(TypeError, match=r"orm_clock\.set\(\) takes a datetime"):
        OrmClock().set("2030-01-01")  # type: ignore[arg-type]


def test_running_restores_the_clock_after_a_failure() -> None:
    before = clock.now
    with pytest.raises(RuntimeError), OrmClock(dt.datetime(2030, 1, 1)).running():
        assert clock.now().year == 2030
        raise RuntimeError
    assert clock.now().year < 2030 and clock.now is before
