"""Unique values: claimed atomically with the write, released when they change or the row goes."""

from __future__ import annotations

import pytest
from sample_models import Account, User

from restmachine_orm import DuplicateKeyError, Field, Model


def _claimable(email: str, key: str = "probe") -> bool:
    """Whether a new row could take this email now (the probe row is removed again)."""
    try:
        probe = Account.create(id=key, email=email)
    except DuplicateKeyError:
        return False
    probe.delete()
    return True


def test_taken_value_is_refused_on_create(rows_of) -> None:
    Account.create(id="a1", email="a@example.com")
    before = rows_of(Account)
    with pytest.raises(DuplicateKeyError) as caught:
        Account.create(id="a2", email="a@example.com")
    assert (caught.value.model, caught.value.field, caught.value.value) == (
        "Account",
        "email",
        "a@example.com",
    )
    assert rows_of(Account) == before


def test_none_is_never_taken() -> None:
    Account.create(id="a1", email="a@example.com")
    Account.create(id="a2", email="b@example.com")
    assert [a.handle for a in Account.all()] == [None, None]


def test_a_second_unique_field_refusing_means_the_first_is_not_claimed(rows_of) -> None:
    Account.create(id="a1", email="a@example.com", handle="ann")
    with pytest.raises(DuplicateKeyError) as caught:
        Account.create(id="a2", email="b@example.com", handle="ann")
    assert caught.value.field == "handle"
    assert len(rows_of(Account)) == 1
    assert _claimable("b@example.com")


def test_save_to_a_free_value_releases_the_old_one() -> None:
    account = Account.create(id="a1", email="old@example.com")
    account.email = "new@example.com"
    account.save()
    assert _claimable("old@example.com")
    assert not _claimable("new@example.com")
    assert Account.where(email="new@example.com").all() == [account]
    assert Account.where(email="old@example.com").all() == []


def test_save_to_a_taken_value_is_refused_and_writes_nothing(rows_of) -> None:
    Account.create(id="a1", email="a@example.com")
    second = Account.create(id="a2", email="b@example.com")
    before = rows_of(Account)
    second.email = "a@example.com"
    with pytest.raises(DuplicateKeyError) as caught:
        second.save()
    assert caught.value.value == "a@example.com"
    assert rows_of(Account) == before
    # Both rows still own their values.
    assert not _claimable("a@example.com")
    assert not _claimable("b@example.com")
    assert Account.where(email="a@example.com").first().id == "a1"  # type: ignore[union-attr]


def test_save_to_none_releases_the_value() -> None:
    account = Account.create(id="a1", email="a@example.com", handle="ann")
    account.handle = None
    account.save()
    Account.create(id="a2", email="b@example.com", handle="ann")
    assert Account.where(handle="ann").first().id == "a2"  # type: ignore[union-attr]


def test_save_keeping_its_own_value_is_no_conflict() -> None:
    account = Account.create(id="a1", email="a@example.com")
    account.name = "Ann"
    account.save()
    assert Account.get(id="a1").name == "Ann"  # type: ignore[union-attr]
    assert not _claimable("a@example.com")


def test_swapping_values_through_a_free_one() -> None:
    first = Account.create(id="a1", email="a@example.com")
    second = Account.create(id="a2", email="b@example.com")
    first.email = "tmp@example.com"
    first.save()
    second.email = "a@example.com"
    second.save()
    first.email = "b@example.com"
    first.save()
    assert {a.id: a.email for a in Account.all()} == {"a1": "b@example.com", "a2": "a@example.com"}
    assert _claimable("tmp@example.com")


def test_a_stale_instance_changing_another_field_keeps_the_current_value() -> None:
    Account.create(id="a1", email="a@example.com")
    first = Account.get(id="a1")
    stale = Account.get(id="a1")
    assert first is not None and stale is not None
    first.email = "b@example.com"
    first.save()
    stale.name = "Ann"
    stale.save()
    assert Account.get(id="a1").email == "b@example.com"  # type: ignore[union-attr]
    assert _claimable("a@example.com")
    assert not _claimable("b@example.com")


def test_delete_releases_every_unique_value() -> None:
    Account.create(id="a1", email="a@example.com", handle="ann").delete()
    again = Account.create(id="a2", email="a@example.com", handle="ann")
    assert Account.all() == [again]


def test_upsert_releases_and_refuses() -> None:
    Account.create(id="a1", email="a@example.com")
    Account.create(id="a2", email="b@example.com")
    Account.upsert(id="a1", email="c@example.com")
    assert _claimable("a@example.com")
    with pytest.raises(DuplicateKeyError):
        Account.upsert(id="a1", email="b@example.com")
    assert Account.get(id="a1").email == "c@example.com"  # type: ignore[union-attr]


def test_unique_values_are_per_model() -> None:
    User.create(id="u1", email="a@example.com", name="Ann")
    Account.create(id="a1", email="a@example.com")
    assert User.where(email="a@example.com").count() == 1
    assert Account.where(email="a@example.com").count() == 1


def test_unique_values_are_compared_after_validation() -> None:
    class Numbered(Model):
        id: str = Field(primary_key=True)
        number: int = Field(unique=True)

    Numbered.create(id="n1", number=7)
    with pytest.raises(DuplicateKeyError) as caught:
        Numbered.create(id="n2", number="7")
    assert caught.value.value == 7
    assert Numbered.where(number=7).count() == 1
