"""Rows that expire: ``Field(ttl=True)`` (suite 1.6).

A row whose expiry has passed, by the ORM's clock, is absent at once from every read
(``get``, ``get_many``, ``where``, ``count``, ``exists``, pages) and every write that needs
the row; a create may take its key and unique values again, replacing it whole. Time is
the test's: each test moves the ORM's clock (the ``orm_clock`` fixture), starting from
the real time, so that a store deleting expired items on its own (DynamoDB's TTL)
never removes a row the test still holds live. The package's own tests run this class on
in-memory backends that read expired rows, that let writes meet them, or that check and
write apart: exactly the tests of each broken guarantee fail.
"""

from __future__ import annotations

from typing import Any

from restmachine_orm import DuplicateKeyError, F, Model, NotFoundError, Transaction

from ..clock import OrmClock
from ..markers import requires
from ._base import SuiteBase, since
from .concurrency import one_winner, race
from .models import Lease

__all__ = ["TestExpiry"]

Orm = tuple[Any, str]


def ids(rows: Any) -> list[str]:
    return sorted(row.id for row in rows)


@requires("ttl")
class TestExpiry(SuiteBase):
    """Rows with a ``ttl=True`` field vanish once their time has passed, on every backend."""

    def get_test_models(self) -> list[type[Model]]:
        """The expiring model."""
        return [Lease]

    @since("1.6")
    def test_an_expired_row_is_absent_from_every_read_at_once(
        self, orm: Orm, orm_clock: OrmClock
    ) -> None:
        client, _ = orm
        client.create_and_verify(Lease, id="a", token="ta", expires=orm_clock.after(10))
        client.create_and_verify(Lease, id="b", token="tb")
        # A naive expiry is UTC.
        client.create_and_verify(Lease, id="c", expires=orm_clock.after(20).replace(tzinfo=None))
        assert ids(client.all_models(Lease)) == ["a", "b", "c"]
        orm_clock.advance(9.999999)
        assert client.count_models(Lease) == 3
        orm_clock.advance(0.000001)  # a's time, to the microsecond: it has passed
        client.get_and_verify_not_exists(Lease, id="a")
        assert [row and row.id for row in Lease.get_many([{"id": "a"}, {"id": "b"}])] == [
            None,
            "b",
        ]
        assert ids(client.all_models(Lease)) == ["b", "c"]
        assert ids(client.query_models(Lease, {"id": "a"}).data) == []  # by key
        assert ids(client.query_models(Lease, {"token": "ta"}).data) == []  # by unique value
        assert ids(client.query_models(Lease, {"holder": ""}).data) == ["b", "c"]
        assert client.count_models(Lease) == 2
        assert client.count_models(Lease, token="ta") == 0
        assert not client.model_exists(Lease, id="a")
        first = Lease.where().paginate(1)
        assert [row.id for row in first.items] == ["b"]
        assert first.next_cursor is not None
        second = Lease.where().paginate(1, first.next_cursor)
        assert ([row.id for row in second.items], second.next_cursor) == (["c"], None)
        orm_clock.advance(10)
        assert ids(client.all_models(Lease)) == ["b"]
        assert client.count_models(Lease) == 1

    @since("1.6")
    def test_writes_to_an_expired_row_find_no_row(self, orm: Orm, orm_clock: OrmClock) -> None:
        client, _ = orm
        lease = client.create_and_verify(Lease, id="a", token="ta", expires=orm_clock.after(10))
        orm_clock.advance(10)
        client.expect_update_failure(lease, NotFoundError, holder="late")
        client.expect_update_failure(lease, NotFoundError, condition={"hits": 0}, hits=1)
        for write in (
            lambda: lease.update(hits=F("hits") + 1),
            lambda: Lease.update_by_key({"id": "a"}, holder="late"),
            lease.delete,
        ):
            try:
                write()
            except NotFoundError:
                continue
            raise AssertionError(f"{write} found the expired row")

    @since("1.6")
    def test_a_create_takes_the_key_and_unique_values_of_an_expired_row(
        self, orm: Orm, orm_clock: OrmClock
    ) -> None:
        client, _ = orm
        old = client.create_and_verify(
            Lease, id="a", token="t1", holder="old", expires=orm_clock.after(10)
        )
        client.update_and_verify(old, hits=5)  # version 2
        client.create_and_verify(Lease, id="m", token="tm", expires=orm_clock.after(10))
        client.expect_create_failure(Lease, DuplicateKeyError, id="a")
        client.expect_create_failure(Lease, DuplicateKeyError, id="z", token="t1")
        orm_clock.advance(10)
        new = client.create_and_verify(Lease, id="a", token="t2", holder="new")
        assert (new.version, new.hits, new.created_at) == (1, 0, orm_clock.now())
        client.create_and_verify(Lease, id="b", token="t1")  # the expired row's value
        Lease.create_many([{"id": "m", "token": "tm"}, {"id": "n", "token": "tn"}])
        assert ids(client.all_models(Lease)) == ["a", "b", "m", "n"]
        client.expect_create_failure(Lease, DuplicateKeyError, id="z", token="t2")
        client.expect_create_failure(Lease, DuplicateKeyError, id="z", token="tm")
        orm_clock.advance(3600)  # the new rows do not expire
        assert client.count_models(Lease) == 4

    @since("1.6")
    def test_an_upsert_over_an_expired_row_stores_a_new_row(
        self, orm: Orm, orm_clock: OrmClock
    ) -> None:
        client, _ = orm
        first = client.create_and_verify(Lease, id="a", token="t1", expires=orm_clock.after(10))
        created = first.created_at
        orm_clock.advance(5)
        live = client.upsert_and_verify(Lease, id="a", token="t1", expires=orm_clock.after(10))
        assert (live.version, live.created_at) == (2, created)  # replaced while live
        orm_clock.advance(10)
        new = client.upsert_and_verify(Lease, id="a", holder="new")
        assert (new.version, new.created_at, new.token) == (1, orm_clock.now(), None)
        client.create_and_verify(Lease, id="b", token="t1")

    @since("1.6")
    def test_a_new_expiry_moves_the_row_and_its_unique_values_with_it(
        self, orm: Orm, orm_clock: OrmClock
    ) -> None:
        client, _ = orm
        lease = client.create_and_verify(Lease, id="a", token="t1", expires=orm_clock.after(10))
        lease = client.update_and_verify(lease, expires=orm_clock.after(30))
        orm_clock.advance(20)
        client.get_and_verify_exists(Lease, id="a")
        client.expect_create_failure(Lease, DuplicateKeyError, id="z", token="t1")
        lease.update(expires=None)  # never expires
        orm_clock.advance(10**6)
        assert client.get_and_verify_exists(Lease, id="a").expires is None
        client.expect_create_failure(Lease, DuplicateKeyError, id="z", token="t1")
        lease.update(expires=orm_clock.now())  # expires at once
        client.get_and_verify_not_exists(Lease, id="a")
        client.create_and_verify(Lease, id="z", token="t1")

    @since("1.6")
    @requires("transactions")
    def test_a_transaction_meets_expired_rows_as_absent(
        self, orm: Orm, orm_clock: OrmClock
    ) -> None:
        client, _ = orm
        client.create_and_verify(
            Lease, id="a", token="t1", holder="old", expires=orm_clock.after(10)
        )
        b = client.create_and_verify(Lease, id="b", token="t2", expires=orm_clock.after(10))
        orm_clock.advance(10)

        def build(tx: Transaction) -> None:
            tx.create(Lease, id="a", token="t2")
            tx.update(b, hits=F("hits") + 1)

        client.expect_transaction_failure(build, reasons=[None, NotFoundError])
        # A create's condition is checked on the absent row, not on the expired one.
        client.transaction_and_verify(
            lambda tx: (
                tx.create(Lease, condition={"holder__ne": "old"}, id="a", token="t2"),
                tx.upsert(Lease, id="b", token="t1"),
            )
        )
        assert sorted((r.id, r.token, r.version) for r in client.all_models(Lease)) == [
            ("a", "t2", 1),
            ("b", "t1", 1),
        ]

    @since("1.6")
    def test_one_of_eight_creates_over_an_expired_row_wins(
        self, orm: Orm, orm_clock: OrmClock
    ) -> None:
        client, _ = orm
        client.create_and_verify(Lease, id="a", token="t0", expires=orm_clock.after(10))
        orm_clock.advance(10)
        winner = one_winner(
            race(lambda index: Lease.create(id="a", token=f"w{index}")), DuplicateKeyError
        )
        stored = client.get_and_verify_exists(Lease, id="a")
        assert stored.token == winner.token
        assert client.count_models(Lease, token__startswith="w") == 1
        client.create_and_verify(Lease, id="b", token="t0")
