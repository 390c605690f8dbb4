"""Atomic updates: ``instance.update(...)`` with ``F`` expressions (suite 1.4).

An update sends only its changes, in one write, with nothing read first: an expression
(``F("count") + 1``, ``F("tags") + ["x"]``, and since suite 1.6 ``F("labels") | {"x"}`` and
``F("labels") - {"x"}``) is applied to the stored value by the backend, so updates racing
each other never lose one. The instance then holds the row as stored.
Invalid changes are refused before anything is sent. The package's own tests run this
class on an in-memory backend that reads, then writes, without its lock: exactly the
race tests fail.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from restmachine_orm import (
    ConditionFailedError,
    DuplicateKeyError,
    F,
    NotFoundError,
    QueryError,
)

from ..markers import requires
from ._base import SuiteBase, refused, since
from .concurrency import WRITERS, race
from .models import Account, Awkward, Color, Labeled, Member

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
            refused(partial(row.update, **changes), QueryError, message, f"update({changes})")
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

    @since("1.6")
    def test_set_elements_are_added_and_removed_in_the_stored_set(self, orm: Orm) -> None:
        client, _ = orm
        row = client.create_and_verify(Labeled, id="l1", labels={"a"})
        other = client.get_and_verify_exists(Labeled, id="l1")
        client.update_and_verify(other, labels=F("labels") | {"b"})  # row is now stale
        updated = client.update_and_verify(row, labels=F("labels") | {"c", "a"})
        assert updated.labels == {"a", "b", "c"}
        updated = client.update_and_verify(
            row,
            labels=F("labels") - {"a", "z"},
            scores=F("scores") | {3, 1, 2},
            colors=F("colors") | {Color.RED},
        )
        assert (updated.labels, updated.scores, updated.colors) == (
            {"b", "c"},
            frozenset({1, 2, 3}),
            {Color.RED},
        )
        assert client.count_models(Labeled, labels__contains="b") == 1
        # With a unique value moving too: a compare-and-set on the row as read.
        moved = client.update_and_verify(row, labels=F("labels") | {"d"}, code="c2")
        assert (moved.labels, moved.code) == ({"b", "c", "d"}, "c2")
        fresh = client.get_and_verify_exists(Labeled, id="l1")
        client.update_and_verify(fresh, condition={"labels": {"d", "c", "b"}}, code="c3")
        client.expect_update_failure(
            fresh, ConditionFailedError, condition={"labels": {"b"}}, code="x"
        )
        emptied = client.update_and_verify(row, labels=F("labels") - {"b", "c", "d"})
        assert emptied.labels == set()
        assert client.get_and_verify_exists(Labeled, id="l1").labels == set()
        assert client.update_and_verify(row, labels=F("labels") | {"x"}).labels == {"x"}

    @since("1.6")
    def test_an_empty_set_is_a_set_and_none_is_none(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Labeled, id="l1")
        client.create_and_verify(Labeled, id="l2", labels={"a"}, maybe=set())
        client.create_and_verify(Labeled, id="l3", labels={"a", "b"}, maybe={"m"})
        cases: list[tuple[dict[str, Any], set[str]]] = [
            ({"labels": set()}, {"l1"}),
            ({"labels__ne": set()}, {"l2", "l3"}),
            ({"labels": {"b", "a"}}, {"l3"}),
            ({"id": "l3", "labels": {"b", "a"}}, {"l3"}),  # by key
            ({"labels__isnull": True}, set()),
            ({"labels__isnull": False}, {"l1", "l2", "l3"}),
            ({"labels__in": [set(), {"a"}]}, {"l1", "l2"}),
            ({"maybe": set()}, {"l2"}),
            ({"maybe__isnull": True}, {"l1"}),
            ({"maybe__contains": "m"}, {"l3"}),
        ]
        for filters, expected in cases:
            found = {row.id for row in client.query_models(Labeled, filters).data}
            assert found == expected, (filters, found)
            assert client.count_models(Labeled, **filters) == len(expected), filters

    @since("1.6")
    def test_invalid_set_changes_are_refused_before_anything_is_written(self, orm: Orm) -> None:
        client, _ = orm
        row = client.create_and_verify(Labeled, id="l1", labels={"a"})
        member = client.create_and_verify(Member, id="m1", email="a@x.io", name="Ann")
        cases: list[tuple[Any, dict[str, Any], str]] = [
            (row, {"labels": F("labels") + {"x"}}, "add elements to a set with |"),
            (row, {"labels": F("labels") | set()}, "changes nothing"),
            (row, {"labels": F("labels") | "abc"}, "takes a set of elements"),
            (row, {"scores": F("scores") | {"x"}}, "not a valid element"),
            (row, {"maybe": F("maybe") | {"x"}}, "never None"),
            (member, {"tags": F("tags") | {"x"}}, "| adds elements to a set field only"),
            (member, {"age": F("age") | {1}}, "| adds elements to a set field only"),
        ]
        for instance, changes, message in cases:
            refused(partial(instance.update, **changes), QueryError, message, f"update({changes})")
        assert client.get_and_verify_exists(Labeled, id="l1").labels == {"a"}

    @since("1.6")
    def test_racing_set_changes_lose_none(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Labeled, id="l1", labels={"keep"})

        def add(index: int) -> int:
            for step in range(INCREMENTS // 5):
                element = f"w{index}-{step}"
                Labeled.update_by_key({"id": "l1"}, labels=F("labels") | {element, "gone"})
                Labeled.update_by_key({"id": "l1"}, labels=F("labels") - {"gone"})
            return index

        outcomes = race(add)
        errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        assert not errors, errors
        stored = client.get_and_verify_exists(Labeled, id="l1").labels
        expected = {"keep"} | {f"w{i}-{s}" for i in range(WRITERS) for s in range(INCREMENTS // 5)}
        assert stored - {"gone"} == expected, (
            f"{len(expected - stored)} of {len(expected)} added elements were lost"
        )
