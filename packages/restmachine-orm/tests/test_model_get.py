"""``Model.get`` and ``Model.get_many``: by the whole key, nothing else."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sample_models import Message, User

from restmachine_orm import Field, Model, QueryError


@pytest.fixture
def ann() -> User:
    return User.create(id="u1", email="a@example.com", name="Ann", tags=["x"])


def test_get_returns_the_stored_instance(ann: User) -> None:
    found = User.get(id="u1")
    assert isinstance(found, User)
    assert found == ann


def test_get_missing_returns_none(ann: User) -> None:
    assert User.get(id="nobody") is None


def test_get_on_an_empty_model_returns_none() -> None:
    assert User.get(id="u1") is None


def test_get_by_composite_key_needs_both_parts() -> None:
    first = Message.create(thread="t", seq=1, body="first")
    second = Message.create(thread="t", seq=2, body="second")
    other = Message.create(thread="u", seq=1, body="other thread")
    assert Message.get(thread="t", seq=1) == first
    assert Message.get(thread="t", seq=2) == second
    assert Message.get(thread="u", seq=1) == other
    assert Message.get(thread="t", seq=3) is None
    assert Message.get(thread="v", seq=1) is None
    with pytest.raises(QueryError, match=r"Message\.get\(\) takes exactly the key fields"):
        Message.get(thread="t")
    with pytest.raises(QueryError, match="'seq'"):
        Message.get(thread="t")


def test_get_coerces_the_key_like_the_field() -> None:
    Message.create(thread="t", seq=5, body="x")
    assert Message.get(thread="t", seq="5") is not None


def test_get_with_a_field_that_is_not_the_key(ann: User) -> None:
    with pytest.raises(QueryError) as caught:
        User.get(email="a@example.com")
    message = str(caught.value)
    assert "User.get() takes exactly the key fields (id)" in message
    assert "'email' is not a key field" in message
    assert "where(...).first()" in message


def test_get_with_the_key_and_another_field(ann: User) -> None:
    with pytest.raises(QueryError, match="'name' is not a key field"):
        User.get(id="u1", name="Ann")


def test_get_with_no_key(ann: User) -> None:
    with pytest.raises(QueryError, match=r"takes exactly the key fields \(id\): missing 'id'"):
        User.get()


def test_get_composite_with_an_extra_field() -> None:
    with pytest.raises(QueryError, match="'body' is not a key field"):
        Message.get(thread="t", seq=1, body="x")
    with pytest.raises(QueryError, match="'body' is not a key field"):
        Message.get(thread="t", body="x")


@pytest.mark.parametrize(
    ("model", "key"),
    [
        (User, {"id": 5}),
        (User, {"id": None}),
        (User, {"id": ["u1"]}),
        (Message, {"thread": "t", "seq": "x"}),
        (Message, {"thread": "t", "seq": None}),
        (Message, {"thread": 3, "seq": 1}),
    ],
)
def test_get_with_a_value_of_the_wrong_type(model: type[Model], key: dict, untouchable) -> None:
    with pytest.raises(QueryError, match="is not a valid value"):
        model.get(**key)
    assert untouchable.calls == []


def test_key_mistakes_are_found_before_the_backend(untouchable) -> None:
    for bad in ({"email": "a"}, {}, {"id": "u1", "age": 3}):
        with pytest.raises(QueryError):
            User.get(**bad)
    with pytest.raises(QueryError):
        User.get_many([{"id": "u1"}, {"id": 3}])
    assert untouchable.calls == []


def test_get_by_typed_keys() -> None:
    class Reading(Model):
        sensor: uuid.UUID = Field(partition_key=True)
        at: dt.datetime = Field(sort_key=True)
        value: float

    sensor = uuid.uuid4()
    at = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
    stored = Reading.create(sensor=sensor, at=at, value=1.5)
    assert Reading.get(sensor=sensor, at=at) == stored
    assert Reading.get(sensor=str(sensor), at=at.isoformat()) == stored
    with pytest.raises(QueryError):
        Reading.get(sensor="not-a-uuid", at=at)


def test_get_does_not_find_a_row_of_another_model() -> None:
    class Other(Model):
        id: str = Field(primary_key=True)

    User.create(id="u1", email="a@example.com", name="Ann")
    assert Other.get(id="u1") is None


# -- get_many --------------------------------------------------------------------------


def test_get_many_is_aligned_with_its_input() -> None:
    ann = User.create(id="u1", email="a@example.com", name="Ann")
    bob = User.create(id="u2", email="b@example.com", name="Bob")
    found = User.get_many([{"id": "u2"}, {"id": "nobody"}, {"id": "u1"}, {"id": "u2"}])
    assert found == [bob, None, ann, bob]


def test_get_many_of_nothing() -> None:
    assert User.get_many([]) == []


def test_get_many_with_composite_keys() -> None:
    first = Message.create(thread="t", seq=1, body="first")
    found = Message.get_many([{"thread": "t", "seq": 2}, {"thread": "t", "seq": 1}])
    assert found == [None, first]


def test_get_many_rejects_a_bad_key() -> None:
    with pytest.raises(QueryError, match=r"User\.get_many\(\) takes exactly the key fields"):
        User.get_many([{"id": "u1"}, {"email": "a@example.com"}])
    with pytest.raises(QueryError, match="missing 'seq'"):
        Message.get_many([{"thread": "t"}])
