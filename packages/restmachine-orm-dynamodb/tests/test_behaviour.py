"""The DynamoDB backend behaves as the in-memory reference: same rows, same errors."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

import pytest

from restmachine_orm import (
    DuplicateKeyError,
    Field,
    InMemoryBackend,
    Model,
    NotFoundError,
    QueryError,
)
from restmachine_orm_dynamodb import DynamoDBBackend


class Color(str, enum.Enum):
    RED = "red"
    BLUE = "blue"


class Person(Model):
    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    name: str
    status: str | None = None
    count: int = 0
    score: float | None = None
    balance: decimal.Decimal = decimal.Decimal("0")
    active: bool = True
    born: dt.date | None = None
    seen: dt.datetime | None = None
    color: Color = Color.RED
    tags: list[str] = []
    extra: dict[str, Any] = {}
    created_at: dt.datetime | None = Field(None, auto_now_add=True)


class Event(Model):
    stream: str = Field(partition_key=True)
    at: int = Field(sort_key=True)
    kind: str


PEOPLE = [
    dict(
        id="p1",
        email="ann@x.io",
        name="Ann",
        status="active",
        count=3,
        score=1.5,
        balance=decimal.Decimal("10.25"),
        born=dt.date(1990, 5, 1),
        tags=["a", "b"],
        seen=dt.datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=dt.timezone.utc),
    ),
    dict(
        id="p2",
        email="bob@x.io",
        name="Bob",
        count=7,
        score=None,
        active=False,
        color=Color.BLUE,
        tags=["b"],
        extra={"k": [1, 2], "n": None},
    ),
    dict(
        id="p3",
        email="cy@x.io",
        name="Cy",
        status="away",
        count=5,
        score=-2.0,
        born=dt.date(1985, 1, 1),
    ),
    dict(
        id="p4",
        email="di@x.io",
        name="Di 🎉",
        status="active",
        count=0,
        score=0.0,
        tags=[],
        seen=dt.datetime(2025, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc),
    ),
]

QUERIES: list[dict[str, Any]] = [
    {},
    {"status": "active"},
    {"status__ne": "active"},
    {"status__isnull": True},
    {"status__isnull": False},
    {"count__gt": 3},
    {"count__gte": 3, "count__lte": 5},
    {"count__in": [0, 7, 99]},
    {"status__in": ["away", None]},
    {"count__between": (1, 6)},
    {"count__between": (6, 1)},
    {"name__startswith": "D"},
    {"name__contains": "y"},
    {"name__contains": ""},
    {"tags__contains": "b"},
    {"score__lt": 1},
    {"active": False},
    {"color": Color.BLUE},
    {"born__gte": dt.date(1989, 1, 1)},
    {"seen__lt": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)},
    {"balance__gt": decimal.Decimal("10")},
    {"email": "cy@x.io"},
    {"email": "nobody@x.io"},
    {"id": "p2"},
    {"id": "p2", "count": 1},
]


@pytest.fixture(params=["inmemory", "dynamodb"])
def store(request, backend: DynamoDBBackend) -> Any:
    chosen = InMemoryBackend() if request.param == "inmemory" else backend
    for model in (Person, Event):
        model.model_backend = chosen
    yield chosen
    for model in (Person, Event):
        del model.model_backend


def rows(found: list[Model]) -> list[dict[str, Any]]:
    return [m.model_dump(exclude={"created_at"}) for m in found]


def load_people() -> None:
    for data in PEOPLE:
        Person.create(**data)


@pytest.mark.parametrize("filters", QUERIES, ids=[str(q) for q in QUERIES])
def test_every_lookup_selects_the_same_rows_as_the_reference(store, filters):
    load_people()
    found = Person.where(**filters).order_by("id").all()
    reference = InMemoryBackend()
    Person.model_backend = reference
    load_people()
    expected = Person.where(**filters).order_by("id").all()
    Person.model_backend = store
    assert rows(found) == rows(expected)
    assert Person.where(**filters).count() == len(expected)
    assert Person.where(**filters).exists() == bool(expected)


def test_and_or_not_combinations(store):
    load_people()
    query = Person.where(status="active").or_(count__gte=7).not_(name__startswith="D")
    assert [p.id for p in query.order_by("id")] == ["p1", "p2"]


def test_values_round_trip_exactly(store):
    load_people()
    for data in PEOPLE:
        stored = Person.get(id=data["id"])
        assert stored is not None
        for name, value in data.items():
            assert getattr(stored, name) == value, name
        for name, value in data.items():
            assert type(getattr(stored, name)) is type(value), name
    nested = Person.get(id="p2")
    assert nested is not None
    assert nested.extra == {"k": [1, 2], "n": None}
    assert [type(v) for v in nested.extra["k"]] == [int, int]


def test_ordering_several_fields_none_first_and_descending(store):
    load_people()
    assert [p.id for p in Person.where().order_by("status", "-count")] == ["p2", "p1", "p4", "p3"]
    assert [p.id for p in Person.where().order_by("-score", "id")] == ["p1", "p4", "p3", "p2"]


def test_limit_offset_and_pagination(store):
    load_people()
    assert [p.id for p in Person.where().order_by("id").offset(1).limit(2)] == ["p2", "p3"]
    seen, cursor = [], None
    while True:
        page = Person.where().order_by("-count").paginate(3, cursor)
        seen += [p.id for p in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["p2", "p3", "p1", "p4"]


def test_duplicates_not_found_and_unique_release(store):
    load_people()
    with pytest.raises(DuplicateKeyError) as key_taken:
        Person.create(id="p1", email="new@x.io", name="X")
    assert key_taken.value.fields == ("id",)
    with pytest.raises(DuplicateKeyError) as value_taken:
        Person.create(id="p9", email="ann@x.io", name="X")
    assert value_taken.value.field == "email" and value_taken.value.value == "ann@x.io"
    assert Person.get(id="p9") is None
    ann = Person.get(id="p1")
    assert ann is not None
    ann.email = "ann2@x.io"
    ann.save()
    Person.create(id="p9", email="ann@x.io", name="Reuses Ann's old email")
    with pytest.raises(DuplicateKeyError):
        Person.upsert(id="p2", email="ann2@x.io", name="Bob")
    assert Person.get(id="p2").email == "bob@x.io"  # type: ignore[union-attr]
    Person.upsert(id="p2", email="bob2@x.io", name="Bob")
    Person.create(id="p10", email="bob@x.io", name="Takes Bob's old email")
    ann.delete()
    Person.create(id="p11", email="ann2@x.io", name="Takes the released email")
    with pytest.raises(NotFoundError):
        ann.delete()
    with pytest.raises(NotFoundError):
        ann.save()


def test_upsert_keeps_auto_now_add_and_resets_left_out_fields(store):
    first = Person.upsert(id="u1", email="u@x.io", name="U", count=4)
    second = Person.upsert(id="u1", email="u@x.io", name="U2")
    assert second.created_at == first.created_at
    assert second.count == 0
    assert Person.get(id="u1") == second


def test_composite_keys(store):
    for at in (3, 1, 2):
        Event.create(stream="s", at=at, kind="k")
    Event.create(stream="t", at=1, kind="k")
    assert [e.at for e in Event.where(stream="s").order_by("at")] == [1, 2, 3]
    assert Event.get(stream="s", at=2) is not None
    assert Event.get(stream="t", at=2) is None
    with pytest.raises(QueryError):
        Event.get(stream="s")


def test_batch_create_and_get(store):
    Event.create_many([{"stream": "b", "at": i, "kind": "k"} for i in range(130)])
    keys = [{"stream": "b", "at": i} for i in (5, 500, 129)]
    found = Event.get_many(keys)
    assert [None if e is None else e.at for e in found] == [5, None, 129]
    with pytest.raises(DuplicateKeyError):
        Event.create_many(
            [{"stream": "b", "at": 999, "kind": "k"}, {"stream": "b", "at": 5, "kind": "k"}]
        )
    assert Event.get(stream="b", at=999) is None
    assert Event.where(stream="b").count() == 130


def test_models_sharing_a_table_never_see_each_other(backend):
    class Left(Model):
        id: str = Field(primary_key=True)

    class Right(Model):
        id: str = Field(primary_key=True)

    Left.model_backend = Right.model_backend = backend
    Left.create(id="same")
    assert Right.get(id="same") is None
    assert Right.all() == []
    assert Right.where().count() == 0
    backend.clear(Right.orm_schema())
    assert Left.get(id="same") is not None


def test_large_scan_pages_to_the_end_and_matches_the_reference(store):
    text = "y" * 9_000
    Event.create_many([{"stream": f"s{i % 7}", "at": i, "kind": text} for i in range(220)])
    found = Event.where(at__gte=10).order_by("-at").all()
    assert [e.at for e in found] == list(range(219, 9, -1))
