"""Rows that expire, in the core: the field's checks, the clock, and liveness.

The behaviour on every backend is the conformance suite's (``TestExpiry``); these tests
cover what the core decides on its own.
"""

from __future__ import annotations

import datetime as dt

import pytest

from restmachine_orm import Field, InMemoryBackend, Model, ModelDefinitionError, clock
from restmachine_orm.query.expiry import epoch_microseconds, is_live, live_filter, live_spec
from restmachine_orm.query.filters import And, Condition
from restmachine_orm.query.spec import QuerySpec

UTC = dt.timezone.utc
T0 = dt.datetime(2030, 1, 1, tzinfo=UTC)


class Token(Model):
    id: str = Field(primary_key=True)
    owner: str = ""
    expires: dt.datetime | None = Field(None, ttl=True)


class NoTtl(InMemoryBackend):
    capabilities = InMemoryBackend.capabilities - {"ttl"}


@pytest.mark.parametrize(
    ("annotation", "options", "message"),
    [
        (int, {}, "ttl=True needs a datetime field"),
        (dt.datetime | None, {"unique": True}, "cannot also be a key, unique"),
        (dt.datetime | None, {"auto_now": True}, "auto_now"),
    ],
)
def test_the_expiry_field_must_be_a_plain_datetime(annotation, options, message) -> None:
    with pytest.raises(ModelDefinitionError, match=message):

        class Bad(Model):
            id: str = Field(primary_key=True)
            when: annotation = Field(None, ttl=True, **options)  # type: ignore[valid-type]

        Bad.orm_schema()


def test_a_model_has_one_expiry_field() -> None:
    with pytest.raises(ModelDefinitionError, match="only one field may set ttl=True"):

        class Twice(Model):
            id: str = Field(primary_key=True)
            a: dt.datetime | None = Field(None, ttl=True)
            b: dt.datetime | None = Field(None, ttl=True)

        Twice.orm_schema()


def test_a_row_is_live_until_its_time_naive_times_being_utc() -> None:
    schema = Token.orm_schema()
    assert is_live(schema, {"expires": None}, T0)
    assert is_live(schema, {"expires": T0 + dt.timedelta(microseconds=1)}, T0)
    assert not is_live(schema, {"expires": T0}, T0)
    assert not is_live(schema, {"expires": T0.replace(tzinfo=None)}, T0)
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert is_live(schema, {"expires": T0.astimezone(plus_two) + dt.timedelta(seconds=1)}, T0)
    assert epoch_microseconds(T0.replace(tzinfo=None)) == epoch_microseconds(T0)
    assert epoch_microseconds(dt.datetime(1970, 1, 1, 0, 0, 1, 5)) == 1_000_005


def test_the_live_filter_joins_a_query_so_that_its_pinned_fields_stay_pinned() -> None:
    schema = Token.orm_schema()
    live = live_filter(schema, T0)
    pinned = And((Condition("id", "eq", "t"), Condition("owner", "eq", "o")))
    spec = live_spec(QuerySpec(schema, pinned), T0)
    assert spec.filter == And((*pinned.children, live))
    assert live_spec(QuerySpec(schema), T0).filter == live


def test_the_clock_is_the_tests_inside_using_and_refuses_naive_sources() -> None:
    with clock.using(lambda: T0):
        assert clock.now() == T0
    assert clock.now() != T0
    with (
        pytest.raises(ValueError, match="timezone-aware"),
        clock.using(lambda: T0.replace(tzinfo=None)),
    ):
        pass  # pragma: no cover


def test_stamps_take_the_orms_clock() -> None:
    class Stamped(Model):
        id: str = Field(primary_key=True)
        at: dt.datetime | None = Field(None, auto_now_add=True)

    Stamped.model_backend = InMemoryBackend()
    with clock.using(lambda: T0):
        assert Stamped.create(id="s").at == T0


def test_a_backend_without_ttl_refuses_the_model_on_every_call() -> None:
    Token.model_backend = NoTtl()
    try:
        for call in (
            lambda: Token.create(id="t"),
            lambda: Token.get(id="t"),
            lambda: Token.where().count(),
            lambda: Token.upsert(id="t"),
        ):
            with pytest.raises(ModelDefinitionError, match="lacks the 'ttl' capability"):
                call()
    finally:
        Token.model_backend = InMemoryBackend()
