from __future__ import annotations

import pickle

import pytest
from models import Message, User
from pydantic import ValidationError

from restmachine_orm import DuplicateKeyError, NotFoundError, OrmError, QueryError


def make(**extra):
    data = {"id": "u1", "email": "a@example.com", "name": "Ann", "age": 30} | extra
    return User.create(**data)


def test_create_stores_the_row_and_get_reads_it_back():
    created = make()
    loaded = User.get(id="u1")
    assert loaded == created
    assert loaded is not created
    assert User.get(id="nobody") is None


def test_create_refuses_an_existing_key_and_writes_nothing():
    original = make()
    with pytest.raises(DuplicateKeyError) as caught:
        User.create(id="u1", email="other@example.com", name="Other")
    error = caught.value
    assert (error.model, error.fields, error.field, error.value) == ("User", ("id",), "id", "u1")
    assert "User" in str(error) and "id" in str(error) and "'u1'" in str(error)
    assert User.get(id="u1") == original
    assert User.where(email="other@example.com").count() == 0


def test_create_refuses_a_taken_unique_value_and_writes_nothing():
    make()
    with pytest.raises(DuplicateKeyError) as caught:
        User.create(id="u2", email="a@example.com", name="Other")
    assert caught.value.field == "email" and caught.value.value == "a@example.com"
    assert "email" in str(caught.value) and "already taken" in str(caught.value)
    assert User.get(id="u2") is None
    assert User.where().count() == 1


def test_invalid_data_raises_validation_error_and_writes_nothing():
    with pytest.raises(ValidationError):
        User.create(id="u1", email="a@example.com", name="Ann", age=-1)
    with pytest.raises(ValidationError):
        User.create(id="u1", email="a@example.com", name="Ann", agee=3)
    with pytest.raises(ValidationError):
        User.create(id="", email="a@example.com", name="Ann")
    assert User.all() == []


def test_get_takes_exactly_the_key():
    make()
    with pytest.raises(QueryError, match=r"'email' is not a key field.*where"):
        User.get(email="a@example.com")
    with pytest.raises(QueryError, match="missing 'id'"):
        User.get()
    with pytest.raises(QueryError, match=r"User\.id"):
        User.get(id=["not", "a", "string"])


def test_composite_keys_need_both_parts():
    Message.create(thread="t", seq=1, body="a")
    Message.create(thread="t", seq=2, body="b")
    assert Message.get(thread="t", seq=2).body == "b"
    assert Message.get(thread="t", seq=3) is None
    with pytest.raises(QueryError, match="missing 'seq'"):
        Message.get(thread="t")
    with pytest.raises(DuplicateKeyError) as caught:
        Message.create(thread="t", seq=1, body="again")
    assert caught.value.fields == ("thread", "seq") and caught.value.value == ("t", 1)


def test_save_writes_changes_and_auto_now():
    user = make()
    first_update = user.updated_at
    user.name = "Annie"
    user.save()
    stored = User.get(id="u1")
    assert stored.name == "Annie"
    assert stored.updated_at >= first_update
    assert stored.created_at == user.created_at


def test_save_of_a_row_that_is_gone_is_not_found_and_writes_nothing():
    user = make()
    User.get(id="u1").delete()
    user.name = "Ghost"
    with pytest.raises(NotFoundError) as caught:
        user.save()
    assert caught.value.model == "User" and caught.value.key == {"id": "u1"}
    assert User.all() == []
    never_stored = User(id="zz", email="z@example.com", name="Z")
    with pytest.raises(NotFoundError):
        never_stored.save()
    assert User.all() == []


def test_keys_are_immutable():
    user = make()
    user.id = "u2"
    with pytest.raises(OrmError, match="immutable"):
        user.save()
    assert User.get(id="u2") is None and User.get(id="u1").id == "u1"


def test_auto_now_add_is_set_on_create_and_never_changed():
    user = User.create(id="u1", email="a@example.com", name="A", created_at=None)
    created = user.created_at
    assert created is not None and created.tzinfo is not None
    user.created_at = None
    user.save()
    assert User.get(id="u1").created_at == created
    again = User.upsert(id="u1", email="a@example.com", name="B")
    assert again.created_at == created


def test_upsert_creates_then_replaces_the_whole_row():
    first = User.upsert(id="u1", email="a@example.com", name="A", age=40, nickname="ace")
    assert User.get(id="u1") == first
    second = User.upsert(id="u1", email="new@example.com", name="B")
    stored = User.get(id="u1")
    assert stored == second
    assert (stored.age, stored.nickname, stored.email) == (0, None, "new@example.com")


def test_upsert_releases_old_unique_values_and_refuses_taken_ones():
    User.upsert(id="u1", email="a@example.com", name="A")
    User.upsert(id="u1", email="b@example.com", name="A")
    User.create(id="u2", email="a@example.com", name="Takes the released email")
    with pytest.raises(DuplicateKeyError):
        User.upsert(id="u1", email="a@example.com", name="A")
    assert User.get(id="u1").email == "b@example.com"


def test_delete_releases_unique_values_and_a_second_delete_is_not_found():
    user = make()
    user.delete()
    assert User.get(id="u1") is None
    User.create(id="u2", email="a@example.com", name="Reuses the email")
    with pytest.raises(NotFoundError):
        user.delete()
    assert User.where().count() == 1


def test_hooks_run_around_writes_and_not_after_a_failure():
    calls = []

    class Hooked(User):
        def before_save(self) -> None:
            calls.append(("before", self.id))
            self.name = self.name.strip()

        def after_save(self) -> None:
            calls.append(("after", self.id))

    Hooked.create(id="h1", email="h@example.com", name="  padded  ")
    assert Hooked.get(id="h1").name == "padded"
    hooked = Hooked.get(id="h1")
    hooked.save()
    Hooked.upsert(id="h1", email="h@example.com", name="x")
    assert calls == [("before", "h1"), ("after", "h1")] * 3
    calls.clear()
    with pytest.raises(DuplicateKeyError):
        Hooked.create(id="h1", email="other@example.com", name="dup")
    assert calls == [("before", "h1")]


def test_errors_survive_pickling():
    for error in (
        DuplicateKeyError("User", ("id",), "u1", unique=False),
        NotFoundError("User", {"id": "u1"}),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)


def test_create_many_is_all_or_nothing_and_get_many_keeps_order():
    make()
    batch = [{"id": f"b{i}", "email": f"b{i}@example.com", "name": "B"} for i in range(3)]
    created = User.create_many(batch)
    assert [u.id for u in created] == ["b0", "b1", "b2"]
    found = User.get_many([{"id": "b2"}, {"id": "missing"}, {"id": "u1"}])
    assert [None if u is None else u.id for u in found] == ["b2", None, "u1"]
    duplicate_inside = [{"id": "c1", "email": "c@example.com", "name": "C"}] * 2
    taken_outside = [
        {"id": "d1", "email": "d@example.com", "name": "D"},
        {"id": "d2", "email": "a@example.com", "name": "D"},
    ]
    for batch in (duplicate_inside, taken_outside):
        with pytest.raises(DuplicateKeyError):
            User.create_many(batch)
    assert User.where().count() == 4
