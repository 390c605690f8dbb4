"""Access paths, explain, allow_scan and collections, on the in-memory backend."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from restmachine_orm import (
    Collection,
    Field,
    IndexKeys,
    InMemoryBackend,
    Keys,
    Model,
    ModelDefinitionError,
    QueryError,
)
from restmachine_orm.query.access import access_path


class SqOrder(Model, allow_scan=False):
    model_keys = Keys(
        pk="SQORDER#{order_id}",
        sk="SQORDER",
        indexes={"sqgsi": IndexKeys(pk="SQCUST#{customer}", sk="SQAT#{placed}")},
    )
    order_id: str = Field(primary_key=True)
    customer: str
    placed: str
    email: str | None = Field(None, unique=True)
    status: str = Field("new", index=True)


class SqLine(Model):
    model_keys = Keys(pk="SQORDER#{order_id}", sk="SQLINE#{line}")
    order_id: str = Field(partition_key=True)
    line: str = Field(sort_key=True)


class SqPlain(Model):
    tenant: str = Field(partition_key=True)
    id: str = Field(sort_key=True)


@pytest.fixture(autouse=True)
def store() -> Iterator[InMemoryBackend]:
    backend = InMemoryBackend()
    for model in (SqOrder, SqLine, SqPlain):
        model.model_backend = backend
    yield backend
    for model in (SqOrder, SqLine, SqPlain):
        del model.model_backend


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        (lambda: SqOrder.where(order_id="o1"), "key"),
        (lambda: SqOrder.where(email="a@x"), "unique"),
        (lambda: SqOrder.where(order_id__in=["o1", "o2"]), "keys"),
        (lambda: SqPlain.where(tenant="t", id__in=["a"]), "keys"),
        (lambda: SqPlain.where(tenant__in=["t"], id__in=["a"]), "scan"),
        (lambda: SqOrder.where(order_id__in=[]), "scan"),
        (lambda: SqLine.where(order_id="o1"), "partition"),
        (lambda: SqLine.where(order_id="o1", line__startswith="a"), "partition"),
        (lambda: SqOrder.where(customer="c"), "index"),
        (lambda: SqOrder.where(status="new"), "index"),
        (lambda: SqOrder.where(placed="x"), "scan"),
        (lambda: SqPlain.where(tenant="t"), "partition"),
        (lambda: SqPlain.where(id="i"), "scan"),
        (lambda: SqOrder.where(email=None), "scan"),
    ],
)
def test_the_access_path_of_a_query(query: object, kind: str) -> None:
    built = query()  # type: ignore[operator]
    assert access_path(built.spec.schema, built.spec.filter).kind == kind
    plan = built.explain()
    assert plan.access == kind
    assert plan.operation


def test_explain_on_memory_says_how_it_finds_rows() -> None:
    assert SqOrder.where(order_id="o1").explain().operation == "lookup by key"
    assert SqOrder.where(email="a@x").explain().operation == "lookup by unique value"
    assert SqLine.where().explain().operation == "pass over the model's rows"
    assert (
        str(SqLine.where().segments(4).explain())
        == "pass over the model's rows (scan)\n  segments: 4"
    )


def test_listed_keys_are_looked_up_in_memory() -> None:
    for order_id in ("o1", "o2", "o3"):
        SqOrder.create(order_id=order_id, customer="c", placed="1")
    found = SqOrder.where(order_id__in=["o3", "o1", "o9"])
    assert found.explain().operation == "lookup by keys"
    assert sorted(o.order_id for o in found) == ["o1", "o3"]
    assert SqOrder.where(order_id__in=["o1", "o2"], customer="x").count() == 0


def test_a_partition_reads_in_sort_key_order() -> None:
    for line in ("b", "c", "a"):
        SqLine.create(order_id="o1", line=line)
    SqLine.create(order_id="o2", line="0")
    assert [line.line for line in SqLine.where(order_id="o1")] == ["a", "b", "c"]
    assert [line.line for line in SqLine.where(order_id="o1").order_by("-line")] == ["c", "b", "a"]


def test_an_index_partition_reads_in_its_sort_key_order() -> None:
    for order_id, placed in (("o1", "2"), ("o2", "3"), ("o3", "1")):
        SqOrder.create(order_id=order_id, customer="c", placed=placed)
    assert [o.order_id for o in SqOrder.where(customer="c")] == ["o3", "o1", "o2"]


# -- allow_scan ------------------------------------------------------------------------------


def test_a_model_refusing_scans_refuses_every_scanning_read() -> None:
    SqOrder.create(order_id="o1", customer="c", placed="1")
    scanning = SqOrder.where(placed="1")
    for read in (
        scanning.all,
        scanning.count,
        scanning.exists,
        scanning.first,
        lambda: list(scanning),
        lambda: scanning.paginate(10),
        lambda: scanning.values("order_id"),
        lambda: asyncio.run(scanning.aall()),
        lambda: asyncio.run(scanning.acount()),
        SqOrder.all,
    ):
        with pytest.raises(QueryError, match=r"would scan every SqOrder row"):
            read()
    assert SqOrder.where(order_id="o1").count() == 1
    assert SqOrder.where(customer="c").exists()
    assert SqOrder.where(status="new").first() is not None


def test_the_refusal_names_the_query_and_the_ways_around_it() -> None:
    with pytest.raises(QueryError) as raised:
        SqOrder.where(placed="1", customer__ne="x").all()
    message = str(raised.value)
    assert message.startswith("SqOrder.where(placed='1', customer__ne='x') would scan")
    for way in ("the key (order_id)", "the unique field email", "index 'sqgsi' (customer)"):
        assert way in message
    assert "the indexed field status" in message


def test_a_backend_refusing_scans_refuses_them_for_every_model(store: InMemoryBackend) -> None:
    strict = InMemoryBackend(allow_scan=False)
    SqPlain.model_backend = strict
    with pytest.raises(QueryError, match=r"^A query of every SqPlain row \(all\(\)"):
        SqPlain.all()
    assert SqPlain.where(tenant="t").all() == []


def test_explain_works_on_a_refused_query() -> None:
    assert SqOrder.where(placed="1").explain().access == "scan"


def test_allow_scan_takes_a_bool() -> None:
    with pytest.raises(ModelDefinitionError, match=r"allow_scan takes True or False"):

        class SqBad(Model, allow_scan="no"):  # type: ignore[call-arg]
            id: str = Field(primary_key=True)


def test_subclasses_inherit_allow_scan() -> None:
    class SqChild(SqOrder):
        model_keys = Keys(pk="SQCHILD#{order_id}", sk="SQCHILD")

    assert SqChild.orm_schema().allow_scan is False


def test_a_subclass_needs_keys_of_its_own() -> None:
    with pytest.raises(ModelDefinitionError, match=r"SqHeir inherits the model_keys of SqOrder"):

        class SqHeir(SqOrder):
            pass


# -- collections -----------------------------------------------------------------------------


def test_a_collection_groups_a_partition_by_model() -> None:
    SqOrder.create(order_id="o1", customer="c", placed="1")
    SqLine.create(order_id="o1", line="b")
    SqLine.create(order_id="o1", line="a")
    SqLine.create(order_id="o2", line="z")
    rows = Collection(SqOrder, SqLine).read(order_id="o1")
    assert list(rows) == [SqOrder, SqLine]
    assert [o.order_id for o in rows[SqOrder]] == ["o1"]
    assert [line.line for line in rows[SqLine]] == ["a", "b"]
    assert repr(rows) == "CollectionRows(SqOrder: 1, SqLine: 2)"
    empty = asyncio.run(Collection(SqOrder, SqLine).aread(order_id="o9"))
    assert (empty[SqOrder], empty[SqLine]) == ([], [])


def test_collection_errors() -> None:
    with pytest.raises(ModelDefinitionError, match=r"SqPlain declares no model_keys"):
        Collection(SqLine, SqPlain)
    with pytest.raises(ModelDefinitionError, match=r"names a model twice"):
        Collection(SqLine, SqLine)
    with pytest.raises(ModelDefinitionError, match=r"at least one model"):
        Collection()

    class SqOther(Model):
        model_keys = Keys(pk="SQOTHER#{order_id}", sk="SQOTHER")
        order_id: str = Field(primary_key=True)

    with pytest.raises(ModelDefinitionError, match=r"SqOther's pk template 'SQOTHER#\{order_id\}'"):
        Collection(SqLine, SqOther)
    lines = Collection(SqOrder, SqLine)
    with pytest.raises(QueryError, match=r"takes the partition key fields \(order_id\), not line"):
        lines.read(line="a")
    SqLine.model_backend = InMemoryBackend()
    with pytest.raises(QueryError, match=r"bound to different backends"):
        lines.read(order_id="o1")
