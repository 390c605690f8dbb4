"""Conditional writes: ``save(condition=...)`` and ``delete(condition=...)`` (suite 1.4).

A condition is written with the lookups of ``where`` and checked on the stored row,
atomically with the write: a refused write raises ``ConditionFailedError`` and changes
nothing, not even a unique value it would have claimed. A missing row is still
``NotFoundError`` and a stale versioned write ``ConcurrentModificationError``: those are
decided first. Racing writers that each read a row, then write it on condition that it is
still as they read it, are serialised: exactly one wins (a compare-and-set). The package's
own tests run this class on an in-memory backend that ignores conditions: exactly the
tests of refusals fail.
"""

from __future__ import annotations

from typing import Any

from restmachine_orm import (
    ConcurrentModificationError,
    ConditionFailedError,
    DuplicateKeyError,
    NotFoundError,
)

from ..markers import requires
from ._base import SuiteBase, since
from .concurrency import WRITERS, one_winner, race
from .models import Account, Awkward, Member

__all__ = ["TestConditionalWrites"]

Orm = tuple[Any, str]

#: Conditions on the row ``Awkward(key="k", order="o", name="alpha", count=5)``, each with
#: whether it holds: every lookup of ``where``, on fields named by reserved words.
CONDITIONS: list[tuple[dict[str, Any], bool]] = [
    ({"count": 5}, True),
    ({"count": 6}, False),
    ({"count__ne": 5}, False),
    ({"count__gt": 4}, True),
    ({"count__gte": 6}, False),
    ({"count__lt": 5}, False),
    ({"count__lte": 5}, True),
    ({"count__in": [1, 5]}, True),
    ({"count__in": [1, 2]}, False),
    ({"count__between": (5, 9)}, True),
    ({"count__between": (6, 9)}, False),
    ({"status__isnull": True}, True),
    ({"status__isnull": False}, False),
    ({"name__startswith": "al"}, True),
    ({"name__startswith": "ph"}, False),
    ({"name__contains": "ph"}, True),
    ({"name__contains": "x"}, False),
    ({"name": "alpha", "count__gte": 5}, True),
    ({"name": "alpha", "count__gte": 6}, False),
]


def stored_awkward(client: Any) -> Any:
    return client.create_and_verify(Awkward, key="k", order="o", name="alpha", count=5)


@requires("conditions")
class TestConditionalWrites(SuiteBase):
    """Writes that hold only if a condition holds on the stored row."""

    @since("1.4")
    def test_a_save_whose_condition_holds_is_written(self, orm: Orm) -> None:
        client, _ = orm
        row = stored_awkward(client)
        saved = client.update_and_verify(row, condition={"count__gte": 5}, count=4)
        assert saved.count == 4

    @since("1.4")
    def test_a_save_whose_condition_fails_raises_and_writes_nothing(self, orm: Orm) -> None:
        client, _ = orm
        row = stored_awkward(client)
        error = client.expect_update_failure(
            row, ConditionFailedError, condition={"count__gte": 10}, count=0, name="beta"
        )
        assert isinstance(error, ConditionFailedError)
        assert (error.model, error.key, error.condition) == (
            "Awkward",
            {"key": "k", "order": "o"},
            "count__gte=10",
        )
        assert "Awkward(key='k', order='o')" in str(error) and "count__gte=10" in str(error)
        stored = client.get_and_verify_exists(Awkward, key="k", order="o")
        assert (stored.name, stored.count) == ("alpha", 5)

    @since("1.4")
    def test_every_where_lookup_decides_a_condition_as_where_would(self, orm: Orm) -> None:
        client, _ = orm
        row = stored_awkward(client)
        for condition, holds in CONDITIONS:
            found = client.query_models(Awkward, {"key": "k", **condition}).data
            assert bool(found) is holds, f"where({condition}) found {found}"
            if holds:
                row = client.update_and_verify(row, condition=condition, name="alpha")
            else:
                client.expect_update_failure(
                    row, ConditionFailedError, condition=condition, name="alpha"
                )

    @since("1.4")
    def test_a_delete_whose_condition_fails_keeps_the_row(self, orm: Orm) -> None:
        client, _ = orm
        row = stored_awkward(client)
        try:
            row.delete(condition={"name__startswith": "z"})
        except ConditionFailedError as error:
            assert error.condition == "name__startswith='z'"
        else:
            raise AssertionError("a delete whose condition fails was not refused")
        client.get_and_verify_exists(Awkward, key="k", order="o")
        client.delete_and_verify(row, condition={"name__startswith": "al"})

    @since("1.4")
    def test_a_refused_save_claims_no_unique_value_and_releases_none(self, orm: Orm) -> None:
        client, _ = orm
        member = client.create_and_verify(Member, id="m1", email="a@x.io", name="Ann", age=30)
        client.expect_update_failure(
            member, ConditionFailedError, condition={"age__lt": 18}, email="b@x.io"
        )
        client.expect_create_failure(Member, DuplicateKeyError, id="m2", email="a@x.io", name="Bob")
        client.create_and_verify(Member, id="m3", email="b@x.io", name="Cy")
        stored = client.get_and_verify_exists(Member, id="m1")
        assert stored.email == "a@x.io"

    @since("1.4")
    def test_a_conditional_save_of_a_unique_value_claims_it_when_it_holds(self, orm: Orm) -> None:
        client, _ = orm
        member = client.create_and_verify(Member, id="m1", email="a@x.io", name="Ann", age=30)
        client.update_and_verify(member, condition={"age__gte": 18}, email="b@x.io")
        client.create_and_verify(Member, id="m2", email="a@x.io", name="Bob")
        client.expect_create_failure(Member, DuplicateKeyError, id="m3", email="b@x.io", name="Cy")

    @since("1.4")
    def test_a_missing_row_is_not_found_before_its_condition(self, orm: Orm) -> None:
        client, _ = orm
        row = stored_awkward(client)
        other = client.get_and_verify_exists(Awkward, key="k", order="o")
        client.delete_and_verify(other)
        client.expect_update_failure(row, NotFoundError, condition={"count": 99}, count=1)

    @since("1.4")
    def test_a_stale_version_is_a_conflict_before_its_condition(self, orm: Orm) -> None:
        client, _ = orm
        account = client.create_and_verify(Account, id="a1", handle="ann", balance=10)
        fresh = client.get_and_verify_exists(Account, id="a1")
        client.update_and_verify(fresh, note="moved on")
        client.expect_update_failure(
            account, ConcurrentModificationError, condition={"balance__gte": 99}, balance=0
        )

    @since("1.4")
    def test_one_of_eight_compare_and_set_writers_wins(self, orm: Orm) -> None:
        client, _ = orm
        stored_awkward(client)
        copies = [client.get_and_verify_exists(Awkward, key="k", order="o") for _ in range(WRITERS)]

        def withdraw(index: int) -> int:
            row = copies[index]
            seen = row.count
            row.count = seen - 1
            row.name = f"writer {index}"
            row.save(condition={"count": seen})
            return index

        winner = one_winner(race(withdraw), ConditionFailedError)
        stored = client.get_and_verify_exists(Awkward, key="k", order="o")
        assert (stored.count, stored.name) == (4, f"writer {winner}")
