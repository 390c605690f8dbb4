"""Atomic updates: ``instance.update(...)`` with ``F`` expressions (suite 1.4).

An update sends only its changes, in one write, with nothing read first: an expression
(``F("count") + 1``, ``F("tags") + ["x"]``) is applied to the stored value by the backend,
so updates racing each other never lose one. The instance then holds the row as stored.
Invalid changes are refused before anything is sent. The package's own tests run this
class on an in-memory backend that reads, then writes, without its lock: exactly the
race test fails.
"""

from __future__ import annotations

from typing import Any

from restmachine_orm import (
    ConditionFailedError,
    DuplicateKeyError,
    F,
    NotFoundError,
    QueryError,
)

from ..markers import requires
from ._base import SuiteBase, since
from .concurrency import WRITERS, race
from .models import Account, Awkward, Member

__all__ = ["TestAtomicUpdates"]

Orm = tuple[Any, str]
#: Increments each racing writer makes.
INCREMENTS = 50


def stored_awkward(client: Any) -> Any:
    return client.create_and_verify(Awkward, key="k", order="o", name="alpha", count=5)


@requires("atomic_updates")
class TestAtomicUpdates(SuiteBase):
    """Changes computed from the stored values, in the write itself."""

    @since("1.4")
    def test_an_increment_adds_to_the_stored_value_and_refreshes_the_instance(
        self, orm: Orm
    ) -> None:
        client, _ = orm
        row = stored_awkward(client)
        other = client.get_and_verify_exists(Awkward, key="k", order="o")
        client.update_and_verify(other, count=F("count") + 10)  # row is now stale
        updated = client.update_and_verify(row, count=F("count") - 2, name="beta")
        assert (updated.count, updated.name) == (13, "beta")
        assert (row.count, row.name) == (13, "beta")  # refreshed from the stored row

    @since("1.4")
    def test_an_append_extends_the_stored_list(self, orm: Orm) -> None:
        client, _ = orm
        member = client.create_and_verify(Member, id="m1", email="a@x.io", name="Ann", tags=["a"])
        other = client.get_and_verify_exists(Member, id="m1")
        client.update_and_verify(other, tags=F("tags") + ["b"])
        updated = client.update_and_verify(member, tags=F("tags") + ["c", "d"])
        assert updated.tags == ["a", "b", "c", "d"]

    @since("1.4")
    def test_update_by_key_changes_a_row_without_loading_it(self, orm: Orm) -> None:
        client, _ = orm
        stored_awkward(client)
        updated = Awkward.update_by_key({"key": "k", "order": "o"}, count=F("count") + 1)
        assert isinstance(updated, Awkward)
        assert (updated.key, updated.count, updated.name) == ("k", 6, "alpha")
        assert client.get_and_verify_exists(Awkward, key="k", order="o").count == 6
        try:
            Awkward.update_by_key({"key": "k", "order": "nope"}, count=F("count") + 1)
        except NotFoundError as error:
            assert error.key == {"key": "k", "order": "nope"}
        else:
            raise AssertionError("an update of a missing row did not raise NotFoundError")
        client.get_and_verify_not_exists(Awkward, key="k", order="nope")

    @since("1.4")
    def test_invalid_changes_are_refused_before_anything_is_written(self, orm: Orm) -> None:
        client, _ = orm
        row = stored_awkward(client)
        cases: list[tuple[dict[str, Any], str]] = [
            ({"name": F("name") + "x"}, "does not apply to a str field"),
            ({"count": F("count") + "1"}, "needs a number"),
            ({"count": F("count") + 1.5}, "not a valid value"),
            ({"count": F("name") + 1}, "reads another field"),
            ({"key": "other"}, "a key field cannot change"),
            ({"nope": 1}, "has no field 'nope'"),
            ({}, "at least one field"),
        ]
        for changes, message in cases:
            try:
                row.update(**changes)
            except QueryError as error:
                assert message in str(error), (changes, str(error))
            else:
                raise AssertionError(f"update({changes}) was not refused")
        stored = client.get_and_verify_exists(Awkward, key="k", order="o")
        assert (stored.name, stored.count) == ("alpha", 5)

    @since("1.4")
    @requires("conditions")
    def test_an_update_whose_condition_fails_writes_nothing(self, orm: Orm) -> None:
        client, _ = orm
        row = stored_awkward(client)
        client.expect_update_failure(
            row, ConditionFailedError, condition={"count__gte": 10}, count=F("count") - 10
        )
        assert client.get_and_verify_exists(Awkward, key="k", order="o").count == 5
        updated = client.update_and_verify(row, condition={"count__gte": 5}, count=F("count") - 5)
        assert updated.count == 0

    @since("1.4")
    def test_an_update_of_a_unique_value_claims_it_and_releases_the_old(self, orm: Orm) -> None:
        client, _ = orm
        member = client.create_and_verify(Member, id="m1", email="a@x.io", name="Ann")
        client.create_and_verify(Member, id="m2", email="b@x.io", name="Bob")
        client.expect_update_failure(member, DuplicateKeyError, email="b@x.io")
        client.update_and_verify(member, email="c@x.io", age=F("age") + 1)
        client.create_and_verify(Member, id="m3", email="a@x.io", name="Cy")
        client.expect_create_failure(Member, DuplicateKeyError, id="m4", email="c@x.io", name="D")
        assert client.get_and_verify_exists(Member, id="m1").age == 1

    @since("1.4")
    def test_each_update_raises_the_version_by_one(self, orm: Orm) -> None:
        client, _ = orm
        account = client.create_and_verify(Account, id="a1", handle="ann", balance=10)
        stale = client.get_and_verify_exists(Account, id="a1")
        updated = client.update_and_verify(account, balance=F("balance") + 5)
        assert (updated.balance, updated.version) == (15, 2)
        again = client.update_and_verify(stale, balance=F("balance") + 5)  # nothing read
        assert (again.balance, again.version) == (20, 3)

    @since("1.4")
    def test_racing_increments_lose_none(self, orm: Orm) -> None:
        client, _ = orm
        stored_awkward(client)

        def increment(index: int) -> int:
            for _ in range(INCREMENTS):
                Awkward.update_by_key({"key": "k", "order": "o"}, count=F("count") + 1)
            return index

        outcomes = race(increment)
        errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        assert not errors, errors
        stored = client.get_and_verify_exists(Awkward, key="k", order="o")
        assert stored.count == 5 + WRITERS * INCREMENTS, (
            f"{WRITERS} writers each adding 1 {INCREMENTS} times left {stored.count - 5}, "
            f"not {WRITERS * INCREMENTS}"
        )
