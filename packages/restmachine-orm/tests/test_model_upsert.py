"""``Model.upsert``: insert, or replace the whole row with the same key."""

from __future__ import annotations

import pydantic
import pytest
from sample_models import Account, Message, User

from restmachine_orm import DuplicateKeyError


def test_upsert_creates_a_missing_row(rows_of) -> None:
    user = User.upsert(id="u1", email="a@example.com", name="Ann", age=3)
    assert isinstance(user, User)
    assert User.get(id="u1") == user
    assert len(rows_of(User)) == 1
    assert user.created_at is not None
    assert user.updated_at is not None


def test_upsert_replaces_the_whole_row(rows_of) -> None:
    User.create(id="u1", email="a@example.com", name="Ann", age=30, nickname="A", tags=["x"])
    replaced = User.upsert(id="u1", email="a@example.com", name="Anna")
    stored = User.get(id="u1")
    assert stored == replaced
    # Fields left out take their defaults, not the old values.
    assert (stored.name, stored.age, stored.nickname, stored.tags) == ("Anna", 0, None, [])
    assert len(rows_of(User)) == 1


def test_upsert_leaves_other_rows_alone() -> None:
    Message.create(thread="t", seq=1, body="one")
    Message.create(thread="t", seq=2, body="two")
    Message.upsert(thread="t", seq=2, body="TWO")
    assert [m.body for m in Message.all()] == ["one", "TWO"]


def test_upsert_releases_the_old_unique_value() -> None:
    User.create(id="u1", email="old@example.com", name="Ann")
    User.upsert(id="u1", email="new@example.com", name="Ann")
    claimed = User.create(id="u2", email="old@example.com", name="Bob")
    assert User.get(id="u2") == claimed
    assert User.where(email="old@example.com").first() == claimed
    with pytest.raises(DuplicateKeyError):
        User.create(id="u3", email="new@example.com", name="Cy")


def test_upsert_keeps_its_own_unique_value() -> None:
    User.create(id="u1", email="a@example.com", name="Ann")
    User.upsert(id="u1", email="a@example.com", name="Anna")
    assert User.get(id="u1").name == "Anna"  # type: ignore[union-attr]
    with pytest.raises(DuplicateKeyError):
        User.create(id="u2", email="a@example.com", name="Bob")


def test_upsert_of_an_existing_row_with_another_rows_unique_value(rows_of) -> None:
    User.create(id="u1", email="a@example.com", name="Ann")
    User.create(id="u2", email="b@example.com", name="Bob")
    before = rows_of(User)
    with pytest.raises(DuplicateKeyError) as caught:
        User.upsert(id="u2", email="a@example.com", name="Bob")
    assert caught.value.fields == ("email",)
    assert caught.value.value == "a@example.com"
    assert caught.value.unique is True
    assert rows_of(User) == before
    # u2 kept its own value, which is still taken.
    with pytest.raises(DuplicateKeyError):
        User.create(id="u3", email="b@example.com", name="Cy")


def test_upsert_of_a_new_row_with_a_taken_unique_value(rows_of) -> None:
    User.create(id="u1", email="a@example.com", name="Ann")
    before = rows_of(User)
    with pytest.raises(DuplicateKeyError):
        User.upsert(id="u2", email="a@example.com", name="Bob")
    assert rows_of(User) == before
    assert User.get(id="u2") is None


def test_upsert_with_two_unique_fields_claims_neither_when_one_is_taken(rows_of) -> None:
    Account.create(id="a1", email="a@example.com", handle="ann")
    before = rows_of(Account)
    with pytest.raises(DuplicateKeyError):
        Account.upsert(id="a2", email="free@example.com", handle="ann")
    assert rows_of(Account) == before
    Account.create(id="a3", email="free@example.com")


def test_upsert_with_an_unknown_field_is_a_validation_error(rows_of) -> None:
    User.create(id="u1", email="a@example.com", name="Ann")
    before = rows_of(User)
    with pytest.raises(pydantic.ValidationError):
        User.upsert(id="u1", email="a@example.com", name="Ann", nmae="typo")
    with pytest.raises(pydantic.ValidationError):
        User.upsert(id="", email="b@example.com", name="Bob")
    assert rows_of(User) == before


def test_upsert_validates_before_writing(untouchable) -> None:
    with pytest.raises(pydantic.ValidationError):
        User.upsert(id="u1", email="a@example.com", name="Ann", age=-5)
    assert untouchable.calls == []
