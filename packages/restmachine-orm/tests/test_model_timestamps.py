"""``auto_now_add`` (set on create, kept after) and ``auto_now`` (set on every write)."""

from __future__ import annotations

import datetime as dt

import pytest
from sample_models import User

from restmachine_orm import NotFoundError

UTC = dt.timezone.utc
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=UTC)


def _now() -> dt.datetime:
    return dt.datetime.now(UTC)


def _wait_past(moment: dt.datetime) -> dt.datetime:
    """Spin until the clock has moved past ``moment`` and return the new time."""
    now = _now()
    while now <= moment:
        now = _now()
    return now


def _stored(user_id: str = "u1") -> User:
    found = User.get(id=user_id)
    assert found is not None
    return found


def test_create_sets_both_timestamps_to_the_current_utc_time() -> None:
    before = _now()
    user = User.create(id="u1", email="a@example.com", name="Ann")
    after = _now()
    assert user.created_at is not None and user.updated_at is not None
    assert before <= user.created_at <= after
    assert before <= user.updated_at <= after
    assert user.created_at.utcoffset() == dt.timedelta(0)
    assert _stored().created_at == user.created_at
    assert _stored().updated_at == user.updated_at


def test_create_overrides_given_timestamps() -> None:
    before = _now()
    user = User.create(
        id="u1", email="a@example.com", name="Ann", created_at=LONG_AGO, updated_at=LONG_AGO
    )
    assert user.created_at is not None and user.created_at >= before
    assert user.updated_at is not None and user.updated_at >= before
    assert _stored().created_at == user.created_at


def test_save_refreshes_auto_now_and_keeps_auto_now_add() -> None:
    user = User.create(id="u1", email="a@example.com", name="Ann")
    created, updated = user.created_at, user.updated_at
    assert created is not None and updated is not None
    mark = _wait_past(updated)
    user.name = "Anna"
    user.save()
    assert user.created_at == created
    assert user.updated_at is not None and user.updated_at >= mark > updated
    stored = _stored()
    assert stored.created_at == created
    assert stored.updated_at == user.updated_at


def test_save_without_changes_still_refreshes_auto_now() -> None:
    user = User.create(id="u1", email="a@example.com", name="Ann")
    assert user.updated_at is not None
    mark = _wait_past(user.updated_at)
    user.save()
    assert _stored().updated_at is not None
    assert _stored().updated_at >= mark  # type: ignore[operator]


def test_save_never_stores_a_changed_auto_now_add() -> None:
    user = User.create(id="u1", email="a@example.com", name="Ann")
    created = user.created_at
    user.created_at = LONG_AGO
    user.save()
    assert _stored().created_at == created
    # The instance shows what is stored again.
    assert user.created_at == created


def test_auto_now_add_survives_several_saves() -> None:
    user = User.create(id="u1", email="a@example.com", name="Ann")
    created = user.created_at
    for age in range(1, 4):
        user.age = age
        user.save()
    loaded = _stored()
    loaded.age = 10
    loaded.save()
    assert _stored().created_at == created


def test_upsert_of_an_existing_row_keeps_auto_now_add_and_refreshes_auto_now() -> None:
    user = User.create(id="u1", email="a@example.com", name="Ann")
    created, updated = user.created_at, user.updated_at
    assert updated is not None
    mark = _wait_past(updated)
    replaced = User.upsert(id="u1", email="a@example.com", name="Anna", created_at=LONG_AGO)
    assert replaced.created_at == created
    assert replaced.updated_at is not None and replaced.updated_at >= mark
    stored = _stored()
    assert stored.created_at == created
    assert stored.updated_at == replaced.updated_at


def test_upsert_of_a_new_row_sets_auto_now_add() -> None:
    before = _now()
    user = User.upsert(id="u1", email="a@example.com", name="Ann", created_at=LONG_AGO)
    assert user.created_at is not None and user.created_at >= before
    assert _stored().created_at == user.created_at


def test_create_many_sets_timestamps() -> None:
    before = _now()
    users = User.create_many(
        [
            {"id": "u1", "email": "a@example.com", "name": "Ann"},
            {"id": "u2", "email": "b@example.com", "name": "Bob", "created_at": LONG_AGO},
        ]
    )
    for user in users:
        assert user.created_at is not None and user.created_at >= before
        assert user.updated_at is not None and user.updated_at >= before
        assert _stored(user.id).created_at == user.created_at


def test_failed_save_stores_no_timestamp() -> None:
    user = User.create(id="u1", email="a@example.com", name="Ann")
    user.delete()
    with pytest.raises(NotFoundError):
        user.save()
    assert User.get(id="u1") is None


def test_auto_fields_declared_without_a_default_need_no_value() -> None:

    from restmachine_orm import Field, Model

    class Stamped(Model):
        id: str = Field(primary_key=True)
        created: dt.datetime = Field(auto_now_add=True)
        updated: dt.datetime = Field(auto_now=True)

    row = Stamped.create(id="s1")
    assert row.created is not None and row.updated is not None
    assert Stamped.get(id="s1") == row
