"""Collections: the models sharing a partition, read together (suite 1.8).

``Collection(Purchase, PurchaseLine, PurchaseNote).read(purchase_id="p1")`` returns each
model's typed instances in that partition, each list in sort key order, an empty list for a
model with no rows there; ``aread`` the same. A backend may read the partition once for all
the models (``Backend.collect``) or once per model: the answer must be the reference's.
``TestAwaitedSingleTable`` reads collections, partitions and indexes through the awaitable
twins on the test's own event loop, and has them refuse scans as the sync API does.
"""

from __future__ import annotations

from typing import Any

import pytest

from restmachine_orm import Collection, ModelDefinitionError, QueryError

from ._base import refused, since
from .access import ENTRIES
from .models import Bulletin, Ledger, Member, Purchase, PurchaseLine, PurchaseNote
from .single_table import B1_IN_INDEX_ORDER, PURCHASES, SingleTableBase, ids

__all__ = ["TestAwaitedSingleTable", "TestCollections"]

Orm = tuple[Any, str]
AsyncOrm = tuple[Any, str]

ORDER = Collection(Purchase, PurchaseLine, PurchaseNote)


def _partitions(client: Any) -> Purchase:
    """Order p1 with lines and notes written out of order; p2's line; p3's lines only."""
    purchase: Purchase = client.create_and_verify(Purchase, purchase_id="p1", buyer="b1", total=3)
    for line in ("b", "a", "c"):
        client.create_and_verify(PurchaseLine, purchase_id="p1", line=line)
    for number in (2, 10, 1):
        client.create_and_verify(PurchaseNote, purchase_id="p1", number=number)
    client.create_and_verify(Purchase, purchase_id="p2")
    client.create_and_verify(PurchaseLine, purchase_id="p2", line="a")
    for line in ("y", "x"):
        client.create_and_verify(PurchaseLine, purchase_id="p3", line=line)
    return purchase


def _shape(rows: Any) -> dict[str, list[Any]]:
    """A collection's answer as plain values: each model's keys, in the order given."""
    return {
        "models": [model.__name__ for model in rows],
        "purchases": [p.purchase_id for p in rows[Purchase]],
        "lines": [(line.purchase_id, line.line) for line in rows[PurchaseLine]],
        "notes": [(note.purchase_id, note.number) for note in rows[PurchaseNote]],
    }


P1 = {
    "models": ["Purchase", "PurchaseLine", "PurchaseNote"],
    "purchases": ["p1"],
    "lines": [("p1", "a"), ("p1", "b"), ("p1", "c")],
    "notes": [("p1", 1), ("p1", 10), ("p1", 2)],
}
P3 = P1 | {"purchases": [], "lines": [("p3", "x"), ("p3", "y")], "notes": []}
NOTHING = P1 | {"purchases": [], "lines": [], "notes": []}


class TestCollections(SingleTableBase):
    """``Collection.read``: a partition's typed instances, grouped by model, in key order."""

    @since("1.8")
    def test_a_read_groups_a_partitions_rows_by_model_in_sort_key_order(self, orm: Orm) -> None:
        client, _ = orm
        purchase = _partitions(client)
        rows = ORDER.read(purchase_id="p1")
        assert _shape(rows) == P1
        assert len(rows) == 3
        assert rows[Purchase] == [purchase]
        assert all(type(line) is PurchaseLine for line in rows[PurchaseLine])
        assert all(type(note) is PurchaseNote for note in rows[PurchaseNote])
        assert rows[PurchaseLine] == PurchaseLine.where(purchase_id="p1").all()
        assert rows[PurchaseNote] == PurchaseNote.where(purchase_id="p1").all()
        # The models come in the order the collection names them.
        assert list(Collection(PurchaseNote, Purchase).read(purchase_id="p1")) == [
            PurchaseNote,
            Purchase,
        ]

    @since("1.8")
    def test_a_model_without_rows_in_the_partition_gets_an_empty_list(self, orm: Orm) -> None:
        client, _ = orm
        _partitions(client)
        assert _shape(ORDER.read(purchase_id="p3")) == P3
        assert _shape(ORDER.read(purchase_id="p9")) == NOTHING
        assert Collection(PurchaseNote).read(purchase_id="p2")[PurchaseNote] == []
        with pytest.raises(KeyError):
            ORDER.read(purchase_id="p1")[Ledger]

    @since("1.8")
    def test_a_read_sees_what_was_written_since(self, orm: Orm) -> None:
        client, _ = orm
        purchase = _partitions(client)
        client.delete_and_verify(purchase)
        line = client.get_and_verify_exists(PurchaseLine, purchase_id="p1", line="b")
        client.update_and_verify(line, quantity=7)
        client.create_and_verify(PurchaseLine, purchase_id="p1", line="ba")
        rows = ORDER.read(purchase_id="p1")
        assert rows[Purchase] == []
        assert [(x.line, x.quantity) for x in rows[PurchaseLine]] == [
            ("a", 1),
            ("b", 7),
            ("ba", 1),
            ("c", 1),
        ]

    @since("1.8")
    def test_single_model_collections_and_a_partition_key_without_fields(self, orm: Orm) -> None:
        client, _ = orm
        for data in ENTRIES:
            client.create_and_verify(Ledger, **data)
        # Ledger refuses scans; a collection reads one partition, which is no scan.
        entries = Collection(Ledger).read(account="a1")[Ledger]
        assert [(e.entry, e.amount) for e in entries] == [("e1", 3), ("e2", 5)]
        for day, seq in [("d2", 1), ("d1", 2), ("d10", 1), ("d1", 1)]:
            client.create_and_verify(Bulletin, day=day, seq=seq)
        posts = Collection(Bulletin).read()[Bulletin]
        assert [(p.day, p.seq) for p in posts] == [("d1", 1), ("d1", 2), ("d10", 1), ("d2", 1)]

    @since("1.8")
    def test_a_read_takes_exactly_the_partition_fields(self, orm: Orm) -> None:
        client, _ = orm
        _partitions(client)
        for wrong in ({}, {"order_id": "p1"}, {"purchase_id": "p1", "line": "a"}):
            with pytest.raises(QueryError, match="purchase_id"):
                ORDER.read(**wrong)
        refused(lambda: ORDER.read(purchase_id=5), QueryError, "purchase_id")
        refused(lambda: ORDER.read(purchase_id=None), QueryError, "purchase_id")
        refused(lambda: Collection(Bulletin).read(day="d1"), QueryError, "(none)")

    @since("1.8")
    def test_models_that_share_no_partition_key_template_are_refused(self, orm: Orm) -> None:
        refused(lambda: Collection(Purchase, Ledger), ModelDefinitionError, "Ledger")
        refused(lambda: Collection(Purchase, Member), ModelDefinitionError, "model_keys")
        refused(lambda: Collection(Purchase, Purchase), ModelDefinitionError, "twice")
        refused(lambda: Collection(), ModelDefinitionError, "at least one model")


class TestAwaitedSingleTable(SingleTableBase):
    """The awaitable twins, on the test's event loop, answer as their sync twins do.

    ``aread`` for collections, ``aall``/``acount``/``aexists``/``afirst`` for partitions and
    indexes, and the refusal of every awaited scan of a model declared ``allow_scan=False``.
    """

    _orm_forbid_blocking_io = True

    @since("1.8")
    async def test_awaited_collection_reads_answer_as_the_sync_ones(self, aorm: AsyncOrm) -> None:
        client, _ = aorm
        await client.create_and_verify(Purchase, purchase_id="p1", buyer="b1", total=3)
        for line in ("b", "a", "c"):
            await client.create_and_verify(PurchaseLine, purchase_id="p1", line=line)
        for number in (2, 10, 1):
            await client.create_and_verify(PurchaseNote, purchase_id="p1", number=number)
        for line in ("y", "x"):
            await client.create_and_verify(PurchaseLine, purchase_id="p3", line=line)
        assert _shape(await ORDER.aread(purchase_id="p1")) == P1
        assert _shape(await ORDER.aread(purchase_id="p3")) == P3
        assert _shape(await ORDER.aread(purchase_id="p9")) == NOTHING
        with pytest.raises(QueryError, match="purchase_id"):
            await ORDER.aread(order_id="p1")
        with pytest.raises(QueryError, match="purchase_id"):
            await ORDER.aread(purchase_id="p1", line="a")

    @since("1.8")
    async def test_awaited_partition_and_index_reads_keep_their_order(self, aorm: AsyncOrm) -> None:
        client, _ = aorm
        for data in PURCHASES:
            await client.create_and_verify(Purchase, **data)
        for line in ("b", "a", "ab"):
            await client.create_and_verify(PurchaseLine, purchase_id="p1", line=line)
        lines = PurchaseLine.where(purchase_id="p1")
        assert [line.line for line in await lines.aall()] == ["a", "ab", "b"]
        assert [line.line async for line in lines] == ["a", "ab", "b"]
        assert (await lines.acount(), await lines.aexists()) == (3, True)
        first = await lines.afirst()
        assert first is not None and first.line == "a"
        b1 = Purchase.where(buyer="b1")
        assert ids(await b1.aall()) == B1_IN_INDEX_ORDER
        assert await b1.acount() == 4
        assert ids(await Purchase.where(buyer="b1", status="new").aall()) == ["p3", "p0"]
        assert sorted(ids(await Purchase.where(region="eu").aall())) == [
            "p0",
            "p1",
            "p2",
            "p3",
            "p5",
        ]
        assert ids(await Purchase.where(buyer=None).aall()) == ["p5"]

    @since("1.8")
    async def test_awaited_scans_of_a_model_refusing_them_raise(self, aorm: AsyncOrm) -> None:
        client, _ = aorm
        for data in ENTRIES:
            await client.create_and_verify(Ledger, **data)
        scanning = Ledger.where(amount=5)
        for name in ("aall", "acount", "aexists", "afirst"):
            with pytest.raises(QueryError, match=r"Ledger\.where\(amount=5\).*allow_scan=False"):
                await getattr(scanning, name)()
        with pytest.raises(QueryError, match=r"Ledger.*all\(\).*allow_scan=False"):
            await Ledger.aall()
        with pytest.raises(QueryError, match="allow_scan=False"):
            await scanning.apaginate(1)
        with pytest.raises(QueryError, match="allow_scan=False"):
            await scanning.avalues("entry")
        with pytest.raises(QueryError, match="allow_scan=False"):
            _ = [entry async for entry in scanning]
        with pytest.raises(QueryError, match="allow_scan=False"):
            await Ledger.afind_by(amount=5)
        a1 = Ledger.where(account="a1")
        assert [entry.entry for entry in await a1.aall()] == ["e1", "e2"]
        assert await a1.acount() == 2
        assert [e.entry for e in await Ledger.where(buyer="b1").aall()] == ["e1"]
        assert (await Collection(Ledger).aread(account="a2"))[Ledger][0].amount == 5
        found = await Ledger.aget(account="a1", entry="e2")
        assert found is not None and found.amount == 5
