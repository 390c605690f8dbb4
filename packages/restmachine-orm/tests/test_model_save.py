"""``instance.save()``: write an existing row's changes."""

from __future__ import annotations

import pydantic
import pytest
from sample_models import Account, Message, User

from restmachine_orm import NotFoundError, OrmError


@pytest.fixture
def ann() -> User:
    return User.create(id="u1", email="a@example.com", name="Ann", age=30, tags=["x"])


def test_save_stores_the_changes(ann: User) -> None:
    ann.name = "Anna"
    ann.age = 31
    assert ann.save() is ann
    stored = User.get(id="u1")
    assert stored is not None
    assert (stored.name, stored.age, stored.email) == ("Anna", 31, "a@example.com")
    assert stored == ann


def test_save_of_a_loaded_instance() -> None:
    Message.create(thread="t", seq=1, body="hi")
    loaded = Message.get(thread="t", seq=1)
    assert loaded is not None
    loaded.body = "edited"
    loaded.save()
    assert Message.get(thread="t", seq=1).body == "edited"  # type: ignore[union-attr]


def test_save_only_touches_its_own_row() -> None:
    first = Message.create(thread="t", seq=1, body="first")
    Message.create(thread="t", seq=2, body="second")
    first.body = "changed"
    first.save()
    assert [m.body for m in Message.all()] == ["changed", "second"]


def test_save_sends_only_the_changed_fields(recording) -> None:
    account = Account.create(id="a1", email="a@example.com", name="Ann")
    account.name = "Anna"
    account.save()
    assert recording.calls[-1] == ("update", (("a1",), {"name": "Anna"}))


def test_save_of_an_unchanged_instance_changes_nothing(recording) -> None:
    account = Account.create(id="a1", email="a@example.com", name="Ann")
    account.save()
    assert recording.calls[-1] == ("update", (("a1",), {}))
    assert Account.get(id="a1") == account


def test_two_instances_saving_different_fields_keep_both_changes(ann: User) -> None:
    first = User.get(id="u1")
    second = User.get(id="u1")
    assert first is not None and second is not None
    first.name = "Anna"
    first.save()
    second.age = 40
    second.save()
    stored = User.get(id="u1")
    assert stored is not None
    assert (stored.name, stored.age) == ("Anna", 40)
    # The second instance now shows the row as stored, the first one's change included.
    assert second.name == "Anna"


def test_save_of_a_deleted_row_is_not_found_and_writes_nothing(ann: User, rows_of) -> None:
    other = User.get(id="u1")
    assert other is not None
    other.delete()
    ann.name = "ghost"
    with pytest.raises(NotFoundError) as caught:
        ann.save()
    assert caught.value.model == "User"
    assert caught.value.key == {"id": "u1"}
    assert "User: no row with id='u1'" in str(caught.value)
    assert rows_of(User) == []
    assert User.get(id="u1") is None
    # Its unique value was not claimed back either.
    User.create(id="u2", email="a@example.com", name="Bob")


def test_save_of_an_instance_never_stored_is_not_found(rows_of) -> None:
    fresh = User(id="u1", email="a@example.com", name="Ann")
    with pytest.raises(NotFoundError):
        fresh.save()
    assert rows_of(User) == []


def test_save_after_delete_of_the_same_instance_is_not_found(ann: User, rows_of) -> None:
    ann.delete()
    with pytest.raises(NotFoundError):
        ann.save()
    assert rows_of(User) == []


def test_changing_the_key_and_saving_is_an_error(ann: User, rows_of) -> None:
    before = rows_of(User)
    ann.id = "u2"
    with pytest.raises(OrmError, match="key fields are immutable") as caught:
        ann.save()
    assert type(caught.value) is OrmError
    assert "{'id': 'u1'}" in str(caught.value)
    assert "{'id': 'u2'}" in str(caught.value)
    assert rows_of(User) == before
    assert User.get(id="u2") is None


def test_changing_a_sort_key_and_saving_is_an_error(rows_of) -> None:
    message = Message.create(thread="t", seq=1, body="hi")
    message.seq = 2
    with pytest.raises(OrmError, match="immutable"):
        message.save()
    assert rows_of(Message) == [{"thread": "t", "seq": 1, "body": "hi", "author": None}]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("age", -1),
        ("age", "old"),
        ("name", None),
        ("tags", "not a list"),
        ("email", 42),
        ("unknown", "x"),
        ("id", ""),
    ],
)
def test_assignment_is_validated(ann: User, field: str, value: object, rows_of) -> None:
    before = ann.model_dump()
    with pytest.raises(pydantic.ValidationError):
        setattr(ann, field, value)
    assert ann.model_dump() == before
    assert rows_of(User) == [before]


def test_assignment_coerces_like_pydantic(ann: User) -> None:
    ann.age = "32"  # type: ignore[assignment]
    assert ann.age == 32
    ann.save()
    assert User.get(id="u1").age == 32  # type: ignore[union-attr]


def test_unsaved_changes_are_not_stored(ann: User) -> None:
    ann.name = "Anna"
    ann.tags.append("y")
    stored = User.get(id="u1")
    assert stored is not None
    assert stored.name == "Ann"
    assert stored.tags == ["x"]


def test_saving_a_mutated_list_stores_it(ann: User) -> None:
    ann.tags.append("y")
    ann.save()
    assert User.get(id="u1").tags == ["x", "y"]  # type: ignore[union-attr]


def test_saving_a_mutated_list_of_a_loaded_instance_stores_it(ann: User) -> None:
    loaded = User.get(id="u1")
    assert loaded is not None
    loaded.tags.append("z")
    loaded.save()
    assert User.get(id="u1").tags == ["x", "z"]  # type: ignore[union-attr]
