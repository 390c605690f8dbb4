"""Single-table design: rows addressed by key templates, and declared indexes (suite 1.8).

Models declaring ``model_keys`` (``suite.models.SINGLE_TABLE_MODELS``) share partitions and
indexes in one store. Every backend must give them what the in-memory reference gives: the
rows written, read back exactly; a read pinning a partition in the text order of the sort
keys, with no ``order_by``; a read pinning a leading sort field (``SUITEPOST#{day}#{seq}``,
``day="d1"``) only that field's rows, never ``d10``'s; a read of one model never another's
rows, though their sort keys share a prefix; the same values refused (those holding a
template's separator, updates touching part of an index's fields) before anything is
stored; and an index read returning the same rows in the same order, with rows whose index
fields are ``None`` left out of the index but never out of a query's answer.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from restmachine_orm import DuplicateKeyError, F, QueryError, transaction

from ..markers import requires
from ._base import SuiteBase, refused, since
from .models import (
    SINGLE_TABLE_MODELS,
    Bulletin,
    Ledger,
    Purchase,
    PurchaseLine,
    PurchaseNote,
)

__all__ = ["SingleTableBase", "TestKeyTemplates", "TestSecondaryIndexes"]

Orm = tuple[Any, str]

#: Orders of buyer ``b1``, their index sort keys (``{status}#{placed}``) in text order:
#: ``ne#2``, ``new#10``, ``new#5``, ``newer#1``. ``p5`` has no buyer: it is in no partition
#: of ``suite_gsi1``; the unshipped ones (``shipped=None``) in none of ``suite_gsi2``.
PURCHASES: list[dict[str, Any]] = [
    {"purchase_id": "p0", "buyer": "b1", "status": "new", "placed": 5},
    {"purchase_id": "p1", "buyer": "b1", "status": "newer", "placed": 1, "shipped": "2024-02"},
    {"purchase_id": "p2", "buyer": "b1", "status": "ne", "placed": 2},
    {"purchase_id": "p3", "buyer": "b1", "status": "new", "placed": 10, "shipped": "2024-01"},
    {"purchase_id": "p4", "buyer": "b2", "status": "new", "placed": 3, "region": "us"},
    {"purchase_id": "p5", "status": "new", "placed": 1, "shipped": "2024-01"},
]
#: ``b1``'s orders in the natural order of the index.
B1_IN_INDEX_ORDER = ["p2", "p3", "p0", "p1"]


def ids(rows: Any) -> list[str]:
    """The order ids of purchases, in the order given."""
    return [row.purchase_id for row in rows]


def load_purchases(client: Any) -> None:
    """Store the orders of ``PURCHASES``, and two ledger entries in ``b1``'s index partition."""
    for data in PURCHASES:
        client.create_and_verify(Purchase, **data)
    for entry in ("e2", "e1"):
        client.create_and_verify(Ledger, account="a1", entry=entry, buyer="b1")


def load_partition(client: Any, purchase_id: str = "p1") -> Purchase:
    """An order, its lines ``b``, ``a``, ``c``, ``ab`` and its notes 2, 10, 1, written so."""
    purchase: Purchase = client.create_and_verify(Purchase, purchase_id=purchase_id, buyer="b1")
    for line in ("b", "a", "c", "ab"):
        client.create_and_verify(PurchaseLine, purchase_id=purchase_id, line=line, sku=line)
    for number in (2, 10, 1):
        client.create_and_verify(PurchaseNote, purchase_id=purchase_id, number=number)
    return purchase


class SingleTableBase(SuiteBase):
    """Base of the single-table classes: their models start empty in every test."""

    def get_test_models(self) -> list[type[Any]]:
        """The models with key templates."""
        return list(SINGLE_TABLE_MODELS)


class TestKeyTemplates(SingleTableBase):
    """Rows stored under key templates: written, read, ordered and refused alike."""

    @since("1.8")
    def test_rows_round_trip_through_create_get_save_upsert_and_delete(self, orm: Orm) -> None:
        client, _ = orm
        purchase = client.create_and_verify(
            Purchase,
            purchase_id="p1",
            buyer="b1",
            placed=3,
            region="us",
            shipped="2024-05",
            reference="r1",
            total=40,
        )
        line = client.create_and_verify(
            PurchaseLine, purchase_id="p1", line="a", quantity=2, sku="s1"
        )
        note = client.create_and_verify(PurchaseNote, purchase_id="p1", number=7, text="hi")
        post = client.create_and_verify(Bulletin, day="d1", seq=3, body="first")
        entry = client.create_and_verify(Ledger, account="a1", entry="e1", code="c1", amount=5)
        assert Purchase.where(purchase_id="p1").all() == [purchase]
        assert PurchaseLine.get_many([{"purchase_id": "p1", "line": "a"}]) == [line]
        assert client.get_and_verify_exists(PurchaseNote, purchase_id="p1", number=7) == note
        assert client.get_and_verify_exists(Bulletin, day="d1", seq=3) == post
        assert client.get_and_verify_exists(Ledger, account="a1", entry="e1") == entry
        assert client.update_and_verify(line, quantity=5).quantity == 5
        assert client.update_and_verify(purchase, total=41, buyer=None).buyer is None
        assert client.update_and_verify(entry, buyer="b1", amount=6).amount == 6
        replaced = client.upsert_and_verify(Purchase, purchase_id="p1", total=1)
        assert (replaced.region, replaced.reference, replaced.total) == ("eu", None, 1)
        client.delete_and_verify(note)
        client.delete_and_verify(post)
        assert client.get_and_verify_exists(PurchaseLine, purchase_id="p1", line="a").quantity == 5

    @since("1.8")
    def test_keys_and_unique_values_are_taken_once(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Purchase, purchase_id="p1", reference="r1")
        client.create_and_verify(PurchaseLine, purchase_id="p1", line="a")
        error = client.expect_create_failure(
            PurchaseLine, DuplicateKeyError, purchase_id="p1", line="a"
        )
        assert error.fields == ("purchase_id", "line")
        client.expect_create_failure(Purchase, DuplicateKeyError, purchase_id="p1")
        taken = client.expect_create_failure(
            Purchase, DuplicateKeyError, purchase_id="p2", reference="r1"
        )
        assert (taken.field, taken.value) == ("reference", "r1")
        client.get_and_verify_not_exists(Purchase, purchase_id="p2")
        # A line of p2, whose sort key begins with an order's, is no order of p2.
        client.create_and_verify(PurchaseLine, purchase_id="p2", line="a")
        client.get_and_verify_not_exists(Purchase, purchase_id="p2")
        assert [p.reference for p in Purchase.where(reference="r1")] == ["r1"]

    @since("1.8")
    def test_a_partition_reads_in_the_text_order_of_its_sort_keys(self, orm: Orm) -> None:
        client, _ = orm
        load_partition(client)
        client.create_and_verify(PurchaseLine, purchase_id="p2", line="0")
        lines = PurchaseLine.where(purchase_id="p1")
        assert [line.line for line in lines] == ["a", "ab", "b", "c"]
        # The number is text in the key: 10 comes before 2.
        assert [note.number for note in PurchaseNote.where(purchase_id="p1")] == [1, 10, 2]
        first = lines.first()
        assert first is not None and first.line == "a"
        assert [line.line for line in lines.limit(2)] == ["a", "ab"]
        assert lines.values("line") == [{"line": v} for v in ("a", "ab", "b", "c")]
        assert (lines.count(), lines.exists()) == (4, True)
        assert PurchaseLine.where(purchase_id="p9").all() == []

    @since("1.8")
    def test_lookups_on_the_sort_field_select_within_the_partition(self, orm: Orm) -> None:
        client, _ = orm
        load_partition(client)

        def lines(**lookups: Any) -> list[str]:
            return [line.line for line in PurchaseLine.where(purchase_id="p1", **lookups)]

        assert lines(line__gt="a") == ["ab", "b", "c"]
        assert lines(line__startswith="a") == ["a", "ab"]
        assert lines(line__between=("ab", "b")) == ["ab", "b"]
        assert lines(line__lt="b") == ["a", "ab"]
        assert sorted(lines(line__in=["c", "a", "z"])) == ["a", "c"]
        # Compared as numbers, returned in key order.
        numbers = PurchaseNote.where(purchase_id="p1", number__gte=2)
        assert [note.number for note in numbers] == [10, 2]
        assert numbers.count() == 2

    @since("1.8")
    def test_a_read_of_one_model_never_returns_another_models_rows(self, orm: Orm) -> None:
        client, _ = orm
        purchase = load_partition(client)
        # The order's sort key (SUITEPURCHASE) begins those of its lines and notes.
        assert Purchase.where(purchase_id="p1").all() == [purchase]
        assert Purchase.where().all() == [purchase]
        assert Purchase.where(total=0).count() == 1
        assert PurchaseLine.where(purchase_id="p1").count() == 4
        assert PurchaseLine.where(purchase_id="p1", quantity=1).count() == 4
        assert all(type(row) is PurchaseNote for row in PurchaseNote.where(purchase_id="p1"))
        assert PurchaseNote.where(purchase_id="p1").count() == 3
        client.delete_and_verify(purchase)
        assert PurchaseLine.where(purchase_id="p1").count() == 4
        assert Purchase.where().exists() is False

    @since("1.8")
    def test_a_leading_sort_field_selects_only_its_own_rows(self, orm: Orm) -> None:
        client, _ = orm
        for day, seq in [("d1", 2), ("d10", 1), ("d1", 10), ("d2", 1), ("d1", 1)]:
            client.create_and_verify(Bulletin, day=day, seq=seq)

        def posts(**filters: Any) -> list[tuple[str, int]]:
            return [(post.day, post.seq) for post in Bulletin.where(**filters)]

        # The key begins SUITEPOST#d1#: d10's rows share SUITEPOST#d1 but not the '#'.
        assert posts(day="d1") == [("d1", 1), ("d1", 10), ("d1", 2)]
        assert posts(day="d10") == [("d10", 1)]
        assert posts(day="d") == []
        assert posts(day__startswith="d1") == [("d1", 1), ("d1", 10), ("d1", 2), ("d10", 1)]
        assert Bulletin.where(day="d1").count() == 3
        first = Bulletin.where(day="d2").first()
        assert first is not None and (first.day, first.seq) == ("d2", 1)

    @since("1.8")
    def test_a_partition_key_without_fields_holds_every_row_in_key_order(self, orm: Orm) -> None:
        client, _ = orm
        for day, seq in [("d2", 1), ("d1", 2), ("d10", 1), ("d1", 1)]:
            client.create_and_verify(Bulletin, day=day, seq=seq)
        every = [("d1", 1), ("d1", 2), ("d10", 1), ("d2", 1)]
        assert [(post.day, post.seq) for post in Bulletin.where()] == every
        assert [(post.day, post.seq) for post in Bulletin.all()] == every
        assert (Bulletin.where().count(), Bulletin.where().exists()) == (4, True)
        assert [post.seq for post in Bulletin.where(body="")] == [1, 2, 1, 1]

    @since("1.8")
    def test_filters_beyond_the_key_narrow_a_partition_read(self, orm: Orm) -> None:
        client, _ = orm
        load_partition(client)
        client.create_and_verify(PurchaseLine, purchase_id="p1", line="d", quantity=3, sku="x")
        client.create_and_verify(PurchaseLine, purchase_id="p1", line="e", quantity=3, sku="y")
        both = PurchaseLine.where(purchase_id="p1", quantity__gte=2, sku="x")
        assert [line.line for line in both] == ["d"]
        assert both.count() == 1
        ranged = PurchaseLine.where(purchase_id="p1", line__gt="a", quantity=1)
        assert [line.line for line in ranged] == ["ab", "b", "c"]
        for day, seq in [("d1", 2), ("d1", 10), ("d1", 1), ("d2", 5)]:
            client.create_and_verify(Bulletin, day=day, seq=seq)
        assert [post.seq for post in Bulletin.where(day="d1", seq__gte=2)] == [10, 2]

    @since("1.8")
    def test_a_value_holding_a_templates_separator_is_refused(self, orm: Orm) -> None:
        client, _ = orm
        # status is followed by '#' in suite_gsi1's sort key, day in the table's.
        error = client.expect_create_failure(
            Purchase, ValidationError, purchase_id="p1", status="a#b"
        )
        assert "'#'" in str(error)
        client.expect_create_failure(Bulletin, ValidationError, day="d#1", seq=1)
        client.get_and_verify_not_exists(Purchase, purchase_id="p1")
        client.get_and_verify_not_exists(Bulletin, day="d#1", seq=1)
        stored = client.create_and_verify(Purchase, purchase_id="p2", buyer="b1")
        client.expect_update_failure(stored, ValidationError, status="x#y")
        refused(lambda: Purchase.upsert(purchase_id="p2", status="x#y"), ValidationError, "'#'")
        assert client.get_and_verify_exists(Purchase, purchase_id="p2").status == "new"
        # A separator where the template ends is only text.
        assert client.create_and_verify(Purchase, purchase_id="p#3").purchase_id == "p#3"

    @since("1.8")
    @requires("atomic_updates")
    def test_an_update_holding_a_templates_separator_is_a_query_error(self, orm: Orm) -> None:
        client, _ = orm
        stored = client.create_and_verify(Purchase, purchase_id="p1", buyer="b1", placed=1)
        changes: dict[str, Any] = {"buyer": "b1", "status": "x#y", "placed": 2}
        refused(lambda: stored.update(**changes), QueryError, "'#'")
        refused(lambda: Purchase.update_by_key({"purchase_id": "p1"}, **changes), QueryError, "'#'")
        assert client.get_and_verify_exists(Purchase, purchase_id="p1") == stored


class TestSecondaryIndexes(SingleTableBase):
    """Declared indexes: the same rows in the same order, sparse, and kept in step."""

    @since("1.8")
    def test_an_index_partition_reads_in_the_order_of_its_sort_keys(self, orm: Orm) -> None:
        client, _ = orm
        load_purchases(client)
        b1 = Purchase.where(buyer="b1")
        assert ids(b1) == B1_IN_INDEX_ORDER
        assert (b1.count(), b1.exists()) == (4, True)
        first = b1.first()
        assert first is not None and first.purchase_id == "p2"
        assert ids(b1.limit(2)) == ["p2", "p3"]
        assert ids(Purchase.where(buyer="b2")) == ["p4"]
        nobody = Purchase.where(buyer="b9")
        assert (nobody.all(), nobody.count(), nobody.exists()) == ([], 0, False)

    @since("1.8")
    def test_a_leading_index_sort_field_selects_only_its_own_rows(self, orm: Orm) -> None:
        client, _ = orm
        load_purchases(client)
        # The index key begins new#: newer#1 shares "new" but not the '#'.
        assert ids(Purchase.where(buyer="b1", status="new")) == ["p3", "p0"]
        assert Purchase.where(buyer="b1", status="new").count() == 2
        assert ids(Purchase.where(buyer="b1", status="ne")) == ["p2"]
        assert ids(Purchase.where(buyer="b1", status="newer", placed=1)) == ["p1"]
        assert ids(Purchase.where(buyer="b1", status__startswith="ne")) == B1_IN_INDEX_ORDER
        assert Purchase.where(buyer="b2", status="newer").exists() is False

    @since("1.8")
    def test_an_index_shared_by_two_models_keeps_to_each_ones_rows(self, orm: Orm) -> None:
        client, _ = orm
        load_purchases(client)
        # Ledger's rows are in b1's partition of suite_gsi1 too, ahead of the orders.
        assert ids(Purchase.where(buyer="b1")) == B1_IN_INDEX_ORDER
        first = Purchase.where(buyer="b1").first()
        assert first is not None and first.purchase_id == "p2"
        entries = Ledger.where(buyer="b1")
        assert [entry.entry for entry in entries] == ["e1", "e2"]
        assert entries.count() == 2
        assert Ledger.where(buyer="b2").exists() is False

    @since("1.8")
    def test_rows_left_out_of_a_sparse_index_are_still_found(self, orm: Orm) -> None:
        client, _ = orm
        load_purchases(client)
        assert client.get_and_verify_exists(Purchase, purchase_id="p5").buyer is None
        assert ids(Purchase.where(buyer=None)) == ["p5"]
        assert ids(Purchase.where(buyer__isnull=True)) == ["p5"]
        assert sorted(ids(Purchase.where(status="new"))) == ["p0", "p3", "p4", "p5"]
        assert all(p.purchase_id != "p5" for p in Purchase.where(buyer="b1"))
        # shipped may be None, so a read of a region without it cannot use suite_gsi2.
        assert sorted(ids(Purchase.where(region="eu"))) == ["p0", "p1", "p2", "p3", "p5"]
        assert Purchase.where(region="eu").count() == 5
        assert sorted(ids(Purchase.where(region="eu", shipped="2024-01"))) == ["p3", "p5"]
        assert Purchase.where(region="eu", shipped="2024-01").count() == 2
        assert sorted(ids(Purchase.where(region="eu", shipped__isnull=True))) == ["p0", "p2"]
        assert sorted(ids(Purchase.where(region="eu", shipped__gte="2024-01"))) == [
            "p1",
            "p3",
            "p5",
        ]

    @since("1.8")
    def test_filters_beyond_the_key_narrow_an_index_read(self, orm: Orm) -> None:
        client, _ = orm
        load_purchases(client)
        assert ids(Purchase.where(buyer="b1", status="new", placed__gte=6)) == ["p3"]
        assert ids(Purchase.where(buyer="b1", placed__lte=5, total=0)) == ["p2", "p0", "p1"]
        assert Purchase.where(buyer="b1", placed__lte=5, total=0).count() == 3

    @since("1.8")
    def test_an_index_keyed_on_a_key_field_too_follows_its_other_fields(self, orm: Orm) -> None:
        client, _ = orm
        # suite_gsi1 of Ledger is keyed on buyer and on entry, the table's sort key.
        entry = client.create_and_verify(Ledger, account="a1", entry="e1")
        other = client.create_and_verify(Ledger, account="a2", entry="e0", buyer="b1")
        entry = client.update_and_verify(entry, buyer="b1")
        assert [(e.account, e.entry) for e in Ledger.where(buyer="b1")] == [
            ("a2", "e0"),
            ("a1", "e1"),
        ]
        entry = client.update_and_verify(entry, buyer="b2", amount=3)
        assert Ledger.where(buyer="b2").all() == [entry]
        assert Ledger.where(buyer="b1").all() == [other]
        client.update_and_verify(entry, buyer=None)
        assert Ledger.where(buyer="b2").exists() is False
        assert Ledger.where(buyer="b1").count() == 1

    @since("1.8")
    @requires("atomic_updates")
    def test_an_update_of_part_of_an_indexs_fields_is_refused(self, orm: Orm) -> None:
        client, _ = orm
        load_purchases(client)
        stored = client.get_and_verify_exists(Purchase, purchase_id="p0")
        key = {"purchase_id": "p0"}
        partial: list[dict[str, Any]] = [
            {"status": "paid"},
            {"placed": 9},
            {"buyer": "b2", "status": "paid"},
            {"buyer": "b1", "status": "new", "placed": F("placed") + 1},
        ]
        for changes in partial:
            with pytest.raises(QueryError, match="suite_gsi1"):
                stored.update(**changes)
            with pytest.raises(QueryError, match="suite_gsi1"):
                Purchase.update_by_key(key, **changes)
        refused(lambda: stored.update(shipped="2024-03"), QueryError, "suite_gsi2")
        assert client.get_and_verify_exists(Purchase, **key) == stored
        assert ids(Purchase.where(buyer="b1")) == B1_IN_INDEX_ORDER
        # Every field of the index at once, or none of them, is an update like any other.
        moved = stored.update(buyer="b2", status="paid", placed=4)
        assert (moved.buyer, moved.status, moved.total) == ("b2", "paid", 0)
        assert ids(Purchase.where(buyer="b2")) == ["p4", "p0"]
        assert ids(Purchase.where(buyer="b1")) == ["p2", "p3", "p1"]
        assert Purchase.update_by_key(key, total=7).total == 7
        assert ids(Purchase.where(buyer="b2", status="paid")) == ["p0"]

    @since("1.8")
    @requires("transactions", "atomic_updates")
    def test_a_transaction_updating_part_of_an_index_sends_nothing(self, orm: Orm) -> None:
        client, _ = orm
        load_purchases(client)
        stored = client.get_and_verify_exists(Purchase, purchase_id="p0")
        with pytest.raises(QueryError, match="suite_gsi1"), transaction() as tx:
            tx.create(PurchaseLine, purchase_id="p0", line="a")
            tx.update(stored, status="paid")
        client.get_and_verify_not_exists(PurchaseLine, purchase_id="p0", line="a")
        assert client.get_and_verify_exists(Purchase, purchase_id="p0") == stored

    @since("1.8")
    def test_saving_a_changed_index_field_moves_the_row_in_the_index(self, orm: Orm) -> None:
        client, _ = orm
        load_purchases(client)
        row = client.get_and_verify_exists(Purchase, purchase_id="p0")
        row = client.update_and_verify(row, status="paid")
        assert ids(Purchase.where(buyer="b1")) == ["p2", "p3", "p1", "p0"]
        assert ids(Purchase.where(buyer="b1", status="paid")) == ["p0"]
        assert ids(Purchase.where(buyer="b1", status="new")) == ["p3"]
        row = client.update_and_verify(row, buyer=None)
        assert ids(Purchase.where(buyer="b1")) == ["p2", "p3", "p1"]
        assert sorted(ids(Purchase.where(buyer=None))) == ["p0", "p5"]
        client.update_and_verify(row, buyer="b2", placed=2)
        assert ids(Purchase.where(buyer="b2")) == ["p4", "p0"]
        shipped = client.get_and_verify_exists(Purchase, purchase_id="p5")
        client.update_and_verify(shipped, shipped=None)
        assert ids(Purchase.where(region="eu", shipped="2024-01")) == ["p3"]
        client.upsert_and_verify(Purchase, purchase_id="p3")
        assert ids(Purchase.where(buyer="b1")) == ["p2", "p1"]
        client.delete_and_verify(client.get_and_verify_exists(Purchase, purchase_id="p2"))
        assert ids(Purchase.where(buyer="b1")) == ["p1"]
        assert Purchase.where(region="eu", shipped="2024-01").exists() is False
