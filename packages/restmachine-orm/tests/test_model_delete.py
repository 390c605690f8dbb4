"""``instance.delete()``: remove the row and release its unique values."""

from __future__ import annotations

import pytest
from sample_models import Account, Message, User

from restmachine_orm import NotFoundError, OrmError


def test_delete_removes_the_row(rows_of) -> None:
    ann = User.create(id="u1", email="a@example.com", name="Ann")
    bob = User.create(id="u2", email="b@example.com", name="Bob")
    assert ann.delete() is None
    assert User.get(id="u1") is None
    assert rows_of(User) == [bob.model_dump()]


def test_delete_releases_unique_values() -> None:
    account = Account.create(id="a1", email="a@example.com", handle="ann")
    account.delete()
    again = Account.create(id="a2", email="a@example.com", handle="ann")
    assert Account.where(email="a@example.com").all() == [again]
    assert Account.where(handle="ann").all() == [again]


def test_deleted_key_can_be_created_again() -> None:
    User.create(id="u1", email="a@example.com", name="Ann").delete()
    again = User.create(id="u1", email="a@example.com", name="Ann II")
    assert User.get(id="u1") == again


def test_delete_of_a_composite_key_removes_only_that_row() -> None:
    first = Message.create(thread="t", seq=1, body="first")
    second = Message.create(thread="t", seq=2, body="second")
    first.delete()
    assert Message.get(thread="t", seq=1) is None
    assert Message.all() == [second]


def test_deleting_twice_is_not_found(rows_of) -> None:
    ann = User.create(id="u1", email="a@example.com", name="Ann")
    bob = User.create(id="u2", email="b@example.com", name="Bob")
    ann.delete()
    with pytest.raises(NotFoundError) as caught:
        ann.delete()
    assert caught.value.model == "User"
    assert caught.value.key == {"id": "u1"}
    assert rows_of(User) == [bob.model_dump()]


def test_deleting_a_row_deleted_elsewhere_is_not_found(rows_of) -> None:
    ann = User.create(id="u1", email="a@example.com", name="Ann")
    other = User.get(id="u1")
    assert other is not None
    other.delete()
    with pytest.raises(NotFoundError):
        ann.delete()
    assert rows_of(User) == []


def test_deleting_a_row_never_stored_is_not_found(rows_of) -> None:
    stored = Message.create(thread="t", seq=1, body="kept")
    with pytest.raises(NotFoundError) as caught:
        Message(thread="t", seq=2, body="never stored").delete()
    assert caught.value.key == {"thread": "t", "seq": 2}
    assert str(caught.value) == "Message: no row with thread='t', seq=2"
    assert rows_of(Message) == [stored.model_dump()]


def test_deleting_with_a_changed_key_is_an_error(rows_of) -> None:
    ann = User.create(id="u1", email="a@example.com", name="Ann")
    User.create(id="u2", email="b@example.com", name="Bob")
    before = rows_of(User)
    ann.id = "u2"
    with pytest.raises(OrmError, match="immutable"):
        ann.delete()
    assert rows_of(User) == before
