"""Create, read, update, upsert, delete, and the errors of each."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from restmachine_orm import DuplicateKeyError, NotFoundError, OrmError, QueryError

from ._base import SuiteBase, since
from .models import Event, Member

__all__ = ["TestCrud", "TestUniqueValues"]

Orm = tuple[Any, str]


def ann(**extra: Any) -> dict[str, Any]:
    """The data of a member, with overrides."""
    return {"id": "m1", "email": "ann@example.com", "name": "Ann", "age": 30} | extra


class TestCrud(SuiteBase):
    """The row lifecycle and its errors."""

    @since("1.0")
    def test_create_stores_exactly_the_row(self, orm: Orm) -> None:
        client, _ = orm
        member = client.create_and_verify(Member, **ann(tags=["a", "b"]))
        assert member.tags == ["a", "b"]

    @since("1.0")
    def test_get_returns_none_for_a_missing_key(self, orm: Orm) -> None:
        client, _ = orm
        client.get_and_verify_not_exists(Member, id="nobody")

    @since("1.0")
    def test_create_refuses_an_existing_key_and_keeps_the_row(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Member, **ann())
        error = client.expect_create_failure(
            Member, DuplicateKeyError, **ann(email="other@example.com", name="Other")
        )
        assert error.fields == ("id",)
        assert client.get_and_verify_exists(Member, id="m1").name == "Ann"
        assert client.count_models(Member) == 1

    @since("1.0")
    def test_invalid_data_is_a_validation_error_and_writes_nothing(self, orm: Orm) -> None:
        client, _ = orm
        client.expect_create_failure(Member, ValidationError, **ann(age=-1))
        client.expect_create_failure(Member, ValidationError, **ann(unknown="x"))
        client.expect_create_failure(Member, ValidationError, **ann(id=""))
        assert client.all_models(Member) == []

    @since("1.0")
    def test_update_saves_the_changes(self, orm: Orm) -> None:
        client, _ = orm
        member = client.create_and_verify(Member, **ann())
        updated = client.update_and_verify(member, age=31, nickname="annie")
        assert (updated.age, updated.nickname) == (31, "annie")

    @since("1.0")
    def test_update_of_a_missing_row_is_not_found_and_writes_nothing(self, orm: Orm) -> None:
        client, _ = orm
        ghost = Member(**ann())
        client.expect_update_failure(ghost, NotFoundError, age=5)
        assert client.all_models(Member) == []

    @since("1.0")
    def test_a_changed_key_cannot_be_saved(self, orm: Orm) -> None:
        client, _ = orm
        member = client.create_and_verify(Member, **ann())
        client.expect_update_failure(member, OrmError, id="m2")
        client.get_and_verify_not_exists(Member, id="m2")

    @since("1.0")
    def test_delete_removes_the_row(self, orm: Orm) -> None:
        client, _ = orm
        member = client.create_and_verify(Member, **ann())
        client.delete_and_verify(member)

    @since("1.0")
    def test_deleting_twice_is_not_found(self, orm: Orm) -> None:
        client, _ = orm
        member = client.create_and_verify(Member, **ann())
        member.delete()
        with pytest.raises(NotFoundError):
            member.delete()

    @since("1.0")
    def test_upsert_creates_then_replaces_the_whole_row(self, orm: Orm) -> None:
        client, _ = orm
        client.upsert_and_verify(Member, **ann(nickname="a", age=40))
        replaced = client.upsert_and_verify(Member, id="m1", email="ann@example.com", name="A2")
        assert (replaced.age, replaced.nickname) == (0, None)
        assert client.count_models(Member) == 1

    @since("1.0")
    def test_get_takes_exactly_the_key(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Member, **ann())
        with pytest.raises(QueryError):
            Member.get(email="ann@example.com")
        with pytest.raises(QueryError):
            Event.get(stream="s")

    @since("1.0")
    def test_composite_keys(self, orm: Orm) -> None:
        client, _ = orm
        for seq in (2, 1):
            client.create_and_verify(Event, stream="s", seq=seq)
        client.create_and_verify(Event, stream="t", seq=1)
        client.expect_create_failure(Event, DuplicateKeyError, stream="s", seq=1)
        assert client.get_and_verify_exists(Event, stream="s", seq=2).seq == 2
        client.get_and_verify_not_exists(Event, stream="t", seq=2)

    @since("1.0")
    def test_batches_create_all_or_nothing_and_read_in_order(self, orm: Orm) -> None:
        client, _ = orm
        Event.create_many([{"stream": "b", "seq": i} for i in range(30)])
        found = Event.get_many([{"stream": "b", "seq": 29}, {"stream": "b", "seq": 99}])
        assert [None if e is None else e.seq for e in found] == [29, None]
        with pytest.raises(DuplicateKeyError):
            Event.create_many([{"stream": "b", "seq": 100}, {"stream": "b", "seq": 0}])
        client.get_and_verify_not_exists(Event, stream="b", seq=100)


class TestUniqueValues(SuiteBase):
    """Unique values: claimed with the row, released when they change or the row goes."""

    @since("1.0")
    def test_a_taken_value_is_refused(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Member, **ann())
        error = client.expect_create_failure(
            Member, DuplicateKeyError, id="m2", email="ann@example.com", name="B"
        )
        assert (error.field, error.value) == ("email", "ann@example.com")
        client.get_and_verify_not_exists(Member, id="m2")

    @since("1.0")
    def test_a_changed_value_is_released(self, orm: Orm) -> None:
        client, _ = orm
        member = client.create_and_verify(Member, **ann())
        client.update_and_verify(member, email="ann2@example.com")
        client.create_and_verify(Member, id="m2", email="ann@example.com", name="B")

    @since("1.0")
    def test_an_update_to_a_taken_value_is_refused(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Member, **ann())
        bob = client.create_and_verify(Member, id="m2", email="bob@example.com", name="Bob")
        client.expect_update_failure(bob, DuplicateKeyError, email="ann@example.com")
        assert client.get_and_verify_exists(Member, id="m2").email == "bob@example.com"

    @since("1.0")
    def test_upsert_releases_the_old_value(self, orm: Orm) -> None:
        client, _ = orm
        client.upsert_and_verify(Member, **ann())
        client.upsert_and_verify(Member, **ann(email="new@example.com"))
        client.create_and_verify(Member, id="m2", email="ann@example.com", name="B")

    @since("1.0")
    def test_upsert_refuses_a_value_of_another_row(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Member, **ann())
        client.create_and_verify(Member, id="m2", email="bob@example.com", name="Bob")
        with pytest.raises(DuplicateKeyError):
            Member.upsert(id="m2", email="ann@example.com", name="Bob")
        assert client.get_and_verify_exists(Member, id="m2").email == "bob@example.com"

    @since("1.0")
    def test_delete_releases_the_value(self, orm: Orm) -> None:
        client, _ = orm
        member = client.create_and_verify(Member, **ann())
        client.delete_and_verify(member)
        client.create_and_verify(Member, id="m2", email="ann@example.com", name="B")

    @since("1.0")
    def test_a_unique_value_finds_its_row(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Member, **ann())
        assert [m.id for m in Member.where(email="ann@example.com")] == ["m1"]
        assert not client.model_exists(Member, email="nobody@example.com")
