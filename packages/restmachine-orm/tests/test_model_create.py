"""``Model.create`` and ``Model.create_many``."""

from __future__ import annotations

import pickle

import pydantic
import pytest
from sample_models import Account, Message, User

from restmachine_orm import DuplicateKeyError, Field, Model


def test_create_stores_and_returns_the_instance(rows_of) -> None:
    user = User.create(id="u1", email="a@example.com", name="Ann", age=30, tags=["x"])
    assert isinstance(user, User)
    assert (user.id, user.email, user.name, user.age, user.tags) == (
        "u1",
        "a@example.com",
        "Ann",
        30,
        ["x"],
    )
    assert User.get(id="u1") == user
    [row] = rows_of(User)
    assert row == user.model_dump()


def test_create_applies_defaults() -> None:
    user = User.create(id="u1", email="a@example.com", name="Ann")
    assert user.age == 0
    assert user.nickname is None
    assert user.tags == []


def test_create_validates_and_coerces_like_pydantic() -> None:
    message = Message.create(thread="t", seq="7", body="hi")
    assert message.seq == 7
    assert Message.get(thread="t", seq=7) == message


def test_unknown_field_is_a_validation_error_and_nothing_is_stored(rows_of) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        User.create(id="u1", email="a@example.com", name="Ann", emial="typo@example.com")
    assert caught.value.errors()[0]["type"] == "extra_forbidden"
    assert caught.value.errors()[0]["loc"] == ("emial",)
    assert rows_of(User) == []
    assert User.get(id="u1") is None


def test_missing_required_field_is_a_validation_error(rows_of) -> None:
    with pytest.raises(pydantic.ValidationError):
        User.create(id="u1", name="Ann")
    assert rows_of(User) == []


def test_wrong_type_is_a_validation_error(rows_of) -> None:
    with pytest.raises(pydantic.ValidationError):
        User.create(id="u1", email="a@example.com", name="Ann", age="old")
    assert rows_of(User) == []


def test_duplicate_key(rows_of) -> None:
    original = User.create(id="u1", email="a@example.com", name="Ann")
    with pytest.raises(DuplicateKeyError) as caught:
        User.create(id="u1", email="other@example.com", name="Bob")
    error = caught.value
    assert error.model == "User"
    assert error.fields == ("id",)
    assert error.field == "id"
    assert error.value == "u1"
    assert error.unique is False
    assert "User" in str(error)
    assert "id" in str(error)
    assert "'u1'" in str(error)
    assert rows_of(User) == [original.model_dump()]
    # The duplicate did not claim its unique value either.
    User.create(id="u2", email="other@example.com", name="Bob")


def test_duplicate_composite_key(rows_of) -> None:
    original = Message.create(thread="t", seq=1, body="first")
    with pytest.raises(DuplicateKeyError) as caught:
        Message.create(thread="t", seq=1, body="second")
    assert caught.value.model == "Message"
    assert caught.value.fields == ("thread", "seq")
    assert caught.value.value == ("t", 1)
    assert "Message" in str(caught.value)
    assert rows_of(Message) == [original.model_dump()]


def test_taken_unique_value(rows_of) -> None:
    original = User.create(id="u1", email="a@example.com", name="Ann")
    with pytest.raises(DuplicateKeyError) as caught:
        User.create(id="u2", email="a@example.com", name="Bob")
    error = caught.value
    assert (error.model, error.fields, error.field, error.value, error.unique) == (
        "User",
        ("email",),
        "email",
        "a@example.com",
        True,
    )
    assert "User" in str(error)
    assert "email" in str(error)
    assert "'a@example.com'" in str(error)
    assert rows_of(User) == [original.model_dump()]
    assert User.get(id="u2") is None


def test_raised_duplicate_error_survives_pickling() -> None:
    User.create(id="u1", email="a@example.com", name="Ann")
    with pytest.raises(DuplicateKeyError) as caught:
        User.create(id="u2", email="a@example.com", name="Bob")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copy, DuplicateKeyError)
    assert (copy.model, copy.fields, copy.value, copy.unique) == (
        "User",
        ("email",),
        "a@example.com",
        True,
    )
    assert str(copy) == str(caught.value)


def test_same_key_in_another_model_is_no_duplicate() -> None:
    User.create(id="x", email="a@example.com", name="Ann")
    Account.create(id="x", email="a@example.com")
    assert User.get(id="x") is not None
    assert Account.get(id="x") is not None


def test_instance_is_equal_to_a_loaded_copy_but_not_the_same_object() -> None:
    user = User.create(id="u1", email="a@example.com", name="Ann")
    loaded = User.get(id="u1")
    assert loaded == user
    assert loaded is not user


def test_instances_of_different_classes_are_never_equal() -> None:
    class Twin(Model):
        id: str = Field(primary_key=True)
        email: str = Field(unique=True)
        handle: str | None = Field(None, unique=True)
        name: str = ""

    assert Account(id="a", email="e") == Account(id="a", email="e")
    assert Account(id="a", email="e") != Account(id="a", email="f")
    assert Account(id="a", email="e") != Twin(id="a", email="e")
    assert Account(id="a", email="e") != {"id": "a", "email": "e"}
    with pytest.raises(TypeError):
        hash(Account(id="a", email="e"))


# -- create_many -----------------------------------------------------------------------


def test_create_many_stores_every_row_in_order() -> None:
    created = User.create_many(
        [
            {"id": "u1", "email": "a@example.com", "name": "Ann"},
            {"id": "u2", "email": "b@example.com", "name": "Bob", "age": 4},
        ]
    )
    assert [user.id for user in created] == ["u1", "u2"]
    assert created[1].age == 4
    assert User.all() == created
    assert all(user.created_at is not None for user in created)


def test_create_many_of_nothing() -> None:
    assert User.create_many([]) == []
    assert User.all() == []


def test_create_many_with_a_duplicate_key_inside_the_batch_writes_nothing(rows_of) -> None:
    with pytest.raises(DuplicateKeyError) as caught:
        User.create_many(
            [
                {"id": "u1", "email": "a@example.com", "name": "Ann"},
                {"id": "u2", "email": "b@example.com", "name": "Bob"},
                {"id": "u1", "email": "c@example.com", "name": "Cy"},
            ]
        )
    assert caught.value.fields == ("id",)
    assert caught.value.value == "u1"
    assert rows_of(User) == []
    # No unique value was claimed by the failed batch.
    User.create(id="u9", email="a@example.com", name="Ann")
    User.create(id="u8", email="b@example.com", name="Bob")


def test_create_many_with_a_repeated_unique_value_inside_the_batch_writes_nothing(rows_of) -> None:
    with pytest.raises(DuplicateKeyError) as caught:
        User.create_many(
            [
                {"id": "u1", "email": "a@example.com", "name": "Ann"},
                {"id": "u2", "email": "a@example.com", "name": "Bob"},
            ]
        )
    assert caught.value.fields == ("email",)
    assert caught.value.value == "a@example.com"
    assert caught.value.unique is True
    assert rows_of(User) == []


def test_create_many_against_a_stored_key_writes_nothing(rows_of) -> None:
    stored = User.create(id="u2", email="z@example.com", name="Zed")
    with pytest.raises(DuplicateKeyError) as caught:
        User.create_many(
            [
                {"id": "u1", "email": "a@example.com", "name": "Ann"},
                {"id": "u2", "email": "b@example.com", "name": "Bob"},
            ]
        )
    assert caught.value.value == "u2"
    assert rows_of(User) == [stored.model_dump()]


def test_create_many_against_a_stored_unique_value_writes_nothing(rows_of) -> None:
    stored = User.create(id="u0", email="b@example.com", name="Zed")
    with pytest.raises(DuplicateKeyError) as caught:
        User.create_many(
            [
                {"id": "u1", "email": "a@example.com", "name": "Ann"},
                {"id": "u2", "email": "b@example.com", "name": "Bob"},
            ]
        )
    assert caught.value.fields == ("email",)
    assert rows_of(User) == [stored.model_dump()]
    User.create(id="u3", email="a@example.com", name="Ann")


def test_create_many_with_invalid_data_writes_nothing(rows_of) -> None:
    with pytest.raises(pydantic.ValidationError):
        User.create_many(
            [
                {"id": "u1", "email": "a@example.com", "name": "Ann"},
                {"id": "u2", "email": "b@example.com", "name": "Bob", "colour": "red"},
            ]
        )
    assert rows_of(User) == []


def test_create_many_with_composite_keys() -> None:
    Message.create_many(
        [
            {"thread": "t", "seq": 1, "body": "a"},
            {"thread": "t", "seq": 2, "body": "b"},
        ]
    )
    with pytest.raises(DuplicateKeyError):
        Message.create_many([{"thread": "t", "seq": 2, "body": "again"}])
    assert [m.body for m in Message.all()] == ["a", "b"]
