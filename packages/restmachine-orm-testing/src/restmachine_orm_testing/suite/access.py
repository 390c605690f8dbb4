"""Access paths: ``explain()`` names the same one everywhere; ``allow_scan=False`` (suite 1.8).

How a query finds its rows (``key``, ``unique``, ``partition``, ``index`` or ``scan``) is
decided from the model's keys alone, so ``query.explain().access`` is the same on every
backend, though the request it names (``plan.operation``) is each backend's own. A model
declared ``allow_scan=False`` refuses, with a ``QueryError`` naming the model and the query,
every read whose path is a scan: ``all()``, filters on other fields, counts, existence
checks, ``first()``, pages, ``values()``, iteration, ``find_by``; and serves the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from restmachine_orm import Collection, Model, Plan, QueryError

from ._base import refused, since
from .models import (
    Bulletin,
    Event,
    Ledger,
    Member,
    Purchase,
    PurchaseLine,
    PurchaseNote,
)
from .single_table import SingleTableBase

__all__ = ["TestAccessPaths", "TestScanRefusal"]

Orm = tuple[Any, str]

#: Queries, and the access path each takes: the same on every backend.
EXPLAINED: list[tuple[str, type[Model], dict[str, Any]]] = [
    ("key", Purchase, {"purchase_id": "p1"}),
    ("key", PurchaseLine, {"purchase_id": "p1", "line": "a"}),
    ("key", PurchaseLine, {"purchase_id": "p1", "line": "a", "quantity": 2}),
    ("key", Member, {"id": "m1"}),
    ("key", Event, {"stream": "s", "seq": 1}),
    ("unique", Purchase, {"reference": "r1"}),
    ("unique", Ledger, {"code": "c1", "amount": 3}),
    ("unique", Member, {"email": "ann@example.com"}),
    ("partition", PurchaseLine, {"purchase_id": "p1"}),
    ("partition", PurchaseLine, {"purchase_id": "p1", "line__gt": "a"}),
    ("partition", PurchaseNote, {"purchase_id": "p1", "text": "x"}),
    ("partition", Ledger, {"account": "a1"}),
    ("partition", Bulletin, {"day": "d1"}),
    ("partition", Bulletin, {}),
    ("partition", Event, {"stream": "s"}),
    ("index", Purchase, {"buyer": "b1"}),
    ("index", Purchase, {"buyer": "b1", "status": "new", "total": 3}),
    ("index", Purchase, {"region": "eu", "shipped": "2024-01"}),
    ("index", Ledger, {"buyer": "b1"}),
    ("scan", Purchase, {}),
    ("scan", Purchase, {"status": "new"}),
    ("scan", Purchase, {"buyer": None}),
    ("scan", Purchase, {"buyer__in": ["b1", "b2"]}),
    ("scan", Purchase, {"region": "eu"}),  # shipped may be None: not all rows are indexed
    ("scan", PurchaseLine, {"line": "a"}),
    ("scan", Ledger, {"amount": 1}),  # explained, though Ledger refuses to run it
    ("scan", Member, {"age": 3}),
    ("scan", Event, {"seq": 1}),
]


def _case(access: str, model: type[Model], filters: dict[str, Any]) -> str:
    shown = ",".join(f"{name}={value!r}" for name, value in filters.items())
    return f"{access}-{model.__name__}({shown})"


class TestAccessPaths(SingleTableBase):
    """``explain()`` names the access path the reference names, and sends nothing."""

    def get_test_models(self) -> list[type[Any]]:
        """The models with key templates, and two without."""
        return [*super().get_test_models(), Member, Event]

    @since("1.8")
    @pytest.mark.parametrize(
        ("access", "model", "filters"),
        EXPLAINED,
        ids=[_case(*case) for case in EXPLAINED],
    )
    def test_explain_names_the_same_access_path(
        self, orm: Orm, access: str, model: type[Model], filters: dict[str, Any]
    ) -> None:
        plan = model.where(**filters).explain()
        assert isinstance(plan, Plan)
        assert plan.access == access, str(plan)
        assert plan.operation and str(plan)


#: A model's entries, one of whose ``code`` and ``buyer`` are set.
ENTRIES: list[dict[str, Any]] = [
    {"account": "a1", "entry": "e2", "amount": 5},
    {"account": "a1", "entry": "e1", "buyer": "b1", "code": "c1", "amount": 3},
    {"account": "a2", "entry": "e1", "amount": 5},
]

#: Reads whose access path is a scan: a name, what the refusal shows of it, the read.
SCANS: list[tuple[str, str, Callable[[], Any]]] = [
    ("all", "all()", lambda: Ledger.all()),
    ("where-all", "all()", lambda: Ledger.where().all()),
    ("filter", "Ledger.where(amount=5)", lambda: Ledger.where(amount=5).all()),
    ("iterate", "Ledger.where(amount=5)", lambda: list(Ledger.where(amount=5))),
    ("count", "Ledger.where(amount=5)", lambda: Ledger.where(amount=5).count()),
    ("exists", "Ledger.where(amount=5)", lambda: Ledger.where(amount=5).exists()),
    ("first", "Ledger.where(amount=5)", lambda: Ledger.where(amount=5).first()),
    ("paginate", "Ledger.where(amount=5)", lambda: Ledger.where(amount=5).paginate(1)),
    ("values", "Ledger.where(amount=5)", lambda: Ledger.where(amount=5).values("entry")),
    ("find_by", "Ledger.where(amount=5)", lambda: Ledger.find_by(amount=5)),
    ("sort-field", "Ledger.where(entry='e1')", lambda: Ledger.where(entry="e1").all()),
    ("none", "Ledger.where(buyer=None)", lambda: Ledger.where(buyer=None).all()),
    (
        "prefix",
        "Ledger.where(account__startswith='a')",
        lambda: Ledger.where(account__startswith="a").all(),
    ),
]


class TestScanRefusal(SingleTableBase):
    """A model declared ``allow_scan=False`` refuses scans alike on every backend."""

    @since("1.8")
    @pytest.mark.parametrize(("shown", "read"), [s[1:] for s in SCANS], ids=[s[0] for s in SCANS])
    def test_a_scanning_read_is_refused_naming_the_model_and_query(
        self, orm: Orm, shown: str, read: Callable[[], Any]
    ) -> None:
        client, _ = orm
        for data in ENTRIES:
            client.create_and_verify(Ledger, **data)
        error = refused(read, QueryError, "allow_scan=False")
        assert shown in str(error)
        assert "every Ledger row" in str(error)
        assert len(Ledger.where(account="a1").all()) == 2

    @since("1.8")
    def test_reads_by_key_partition_unique_value_and_index_are_served(self, orm: Orm) -> None:
        client, _ = orm
        for data in ENTRIES:
            client.create_and_verify(Ledger, **data)
        entry = client.get_and_verify_exists(Ledger, account="a1", entry="e1")
        assert Ledger.where(account="a1", entry="e1").all() == [entry]
        assert Ledger.get_many([{"account": "a1", "entry": "e1"}]) == [entry]
        a1 = Ledger.where(account="a1")
        assert [e.entry for e in a1] == ["e1", "e2"]
        assert (a1.count(), a1.exists()) == (2, True)
        assert [e.entry for e in a1.where(amount=5)] == ["e2"]
        first = a1.first()
        assert first is not None and first.entry == "e1"
        assert [e.entry for e in a1.paginate(1).items] == ["e1"]
        assert a1.values("entry") == [{"entry": "e1"}, {"entry": "e2"}]
        assert Ledger.where(code="c1").all() == [entry]
        assert Ledger.find_by(code="c1") == entry
        assert Ledger.where(buyer="b1").all() == [entry]
        assert Ledger.where(buyer="b1").count() == 1
        assert Collection(Ledger).read(account="a2")[Ledger][0].amount == 5
        # Writes are not reads: they are served too.
        changed = client.update_and_verify(entry, amount=4)
        assert Ledger.where(code="c1").all() == [changed]
        client.delete_and_verify(changed)
        assert Ledger.where(account="a1").count() == 1

    @since("1.8")
    def test_a_refused_query_is_explained_all_the_same(self, orm: Orm) -> None:
        assert Ledger.where(amount=5).explain().access == "scan"
        assert Ledger.where().explain().access == "scan"
