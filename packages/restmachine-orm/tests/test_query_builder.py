"""The query builder: every lookup, and/or/not, limit/offset, count, exists, first, iteration."""

from __future__ import annotations

import datetime as dt

import pytest
from sample_models import Person

from restmachine_orm import Field, Model, Query, QueryError

UTC = dt.timezone.utc


@pytest.fixture(autouse=True)
def people() -> list[Person]:
    """Five people, two of them with no age, no birth date and no nickname."""
    return [
        Person.create(
            id="p1",
            name="Ann",
            nick="annie",
            age=30,
            score=1.5,
            active=True,
            born=dt.date(1990, 1, 1),
            seen=dt.datetime(2024, 1, 1, 9, 0, tzinfo=UTC),
            tags=["red", "blue"],
        ),
        Person.create(id="p2", name="Bob", age=None, score=2.0, active=False, tags=[]),
        Person.create(
            id="p3",
            name="Anna",
            nick="nan",
            age=25,
            score=0.5,
            active=True,
            born=dt.date(1995, 6, 15),
            seen=dt.datetime(2024, 3, 1, 9, 0, tzinfo=UTC),
            tags=["blue"],
        ),
        Person.create(
            id="p4",
            name="Cy",
            nick="cy",
            age=40,
            score=2.0,
            active=False,
            born=dt.date(1980, 12, 31),
            tags=["green"],
        ),
        Person.create(id="p5", name="bo", age=None, score=0.0, active=True, tags=["red"]),
    ]


def ids(query: Query[Person]) -> list[str]:
    return [person.id for person in query.all()]


# -- lookups ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"age": 30}, ["p1"]),
        ({"age__eq": 30}, ["p1"]),
        ({"age": None}, ["p2", "p5"]),
        ({"name": "ann"}, []),
        ({"name": "Ann"}, ["p1"]),
        ({"score": 2}, ["p2", "p4"]),
        ({"active": False}, ["p2", "p4"]),
        ({"born": dt.date(1995, 6, 15)}, ["p3"]),
        ({"tags": ["blue"]}, ["p3"]),
        ({"meta": {}}, ["p1", "p2", "p3", "p4", "p5"]),
    ],
)
def test_eq(filters, expected) -> None:
    assert ids(Person.where(**filters)) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"age__ne": 30}, ["p2", "p3", "p4", "p5"]),
        ({"age__ne": None}, ["p1", "p3", "p4"]),
        ({"nick__ne": "cy"}, ["p1", "p2", "p3", "p5"]),
        ({"active__ne": True}, ["p2", "p4"]),
    ],
)
def test_ne_matches_none(filters, expected) -> None:
    assert ids(Person.where(**filters)) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"age__gt": 25}, ["p1", "p4"]),
        ({"age__gte": 25}, ["p1", "p3", "p4"]),
        ({"age__lt": 30}, ["p3"]),
        ({"age__lte": 30}, ["p1", "p3"]),
        ({"age__gte": 0}, ["p1", "p3", "p4"]),
        ({"age__lt": 1000}, ["p1", "p3", "p4"]),
        ({"score__gt": 1.5}, ["p2", "p4"]),
        ({"name__gt": "B"}, ["p2", "p4", "p5"]),
        ({"nick__lt": "zzz"}, ["p1", "p3", "p4"]),
        ({"born__lt": dt.date(1991, 1, 1)}, ["p1", "p4"]),
        ({"born__gte": "1990-01-01"}, ["p1", "p3"]),
        ({"seen__gt": dt.datetime(2024, 2, 1, tzinfo=UTC)}, ["p3"]),
        ({"seen__lte": dt.datetime(2024, 3, 1, 9, 0, tzinfo=UTC)}, ["p1", "p3"]),
    ],
)
def test_ordering_lookups_never_match_none(filters, expected) -> None:
    assert ids(Person.where(**filters)) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"age__in": [25, 40]}, ["p3", "p4"]),
        ({"age__in": (None, 30)}, ["p1", "p2", "p5"]),
        ({"age__in": {40}}, ["p4"]),
        ({"age__in": []}, []),
        ({"name__in": ["Bob", "bo", "Zed"]}, ["p2", "p5"]),
    ],
)
def test_in(filters, expected) -> None:
    assert ids(Person.where(**filters)) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"age__between": (25, 30)}, ["p1", "p3"]),
        ({"age__between": [26, 29]}, []),
        ({"age__between": (30, 25)}, []),
        ({"score__between": (0.5, 1.5)}, ["p1", "p3"]),
        ({"born__between": (dt.date(1980, 1, 1), dt.date(1990, 1, 1))}, ["p1", "p4"]),
        ({"name__between": ("A", "B")}, ["p1", "p3"]),
    ],
)
def test_between_is_inclusive_and_never_matches_none(filters, expected) -> None:
    assert ids(Person.where(**filters)) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"name__startswith": "An"}, ["p1", "p3"]),
        ({"name__startswith": "b"}, ["p5"]),
        ({"name__startswith": ""}, ["p1", "p2", "p3", "p4", "p5"]),
        ({"nick__startswith": "an"}, ["p1"]),
        ({"nick__startswith": ""}, ["p1", "p3", "p4"]),
    ],
)
def test_startswith_is_case_sensitive_and_never_matches_none(filters, expected) -> None:
    assert ids(Person.where(**filters)) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"name__contains": "n"}, ["p1", "p3"]),
        ({"name__contains": "o"}, ["p2", "p5"]),
        ({"name__contains": "B"}, ["p2"]),
        ({"nick__contains": "n"}, ["p1", "p3"]),
        ({"nick__contains": ""}, ["p1", "p3", "p4"]),
    ],
)
def test_contains_on_a_str_field(filters, expected) -> None:
    assert ids(Person.where(**filters)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("red", ["p1", "p5"]), ("blue", ["p1", "p3"]), ("green", ["p4"]), ("purple", [])],
)
def test_contains_on_a_list_field(value, expected) -> None:
    assert ids(Person.where(tags__contains=value)) == expected


def test_contains_on_a_list_field_matches_elements_not_substrings() -> None:
    assert ids(Person.where(tags__contains="re")) == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"age__isnull": True}, ["p2", "p5"]),
        ({"age__isnull": False}, ["p1", "p3", "p4"]),
        ({"nick__isnull": True}, ["p2", "p5"]),
        ({"born__isnull": False}, ["p1", "p3", "p4"]),
        ({"name__isnull": True}, []),
    ],
)
def test_isnull(filters, expected) -> None:
    assert ids(Person.where(**filters)) == expected


def test_a_naive_datetime_never_orders_against_stored_aware_ones() -> None:
    naive = dt.datetime(2024, 2, 1)
    assert ids(Person.where(seen__gt=naive)) == []
    assert ids(Person.where(seen__lte=naive)) == []
    assert ids(Person.where(seen__between=(naive, dt.datetime(2025, 1, 1)))) == []
    assert ids(Person.where(seen__isnull=False).not_(seen__gt=naive)) == ["p1", "p3"]
    assert Person.where(seen__gt=naive).count() == 0


def test_between_a_naive_and_an_aware_bound_is_a_query_error() -> None:
    with pytest.raises(QueryError, match=r"Person\.seen: seen__between takes two naive or two"):
        Person.where(seen__between=(dt.datetime(2024, 1, 1), dt.datetime(2025, 1, 1, tzinfo=UTC)))


# -- combinations ----------------------------------------------------------------------


def test_several_filters_all_hold() -> None:
    assert ids(Person.where(active=True, age__gte=26)) == ["p1"]


def test_and() -> None:
    assert ids(Person.where(active=True).and_(age__isnull=True)) == ["p5"]
    assert ids(Person.where(active=True).and_(age__gte=26).and_(name="Cy")) == []


def test_or() -> None:
    assert ids(Person.where(age=30).or_(name="Cy")) == ["p1", "p4"]
    assert ids(Person.where(age=30).or_(name="Cy").or_(name="bo")) == ["p1", "p4", "p5"]


def test_or_with_several_filters_needs_all_of_them() -> None:
    assert ids(Person.where(name="Bob").or_(active=True, age__gt=26)) == ["p1", "p2"]


def test_or_of_an_unfiltered_query_matches_everything() -> None:
    assert ids(Person.where().or_(name="Cy")) == ["p1", "p2", "p3", "p4", "p5"]


def test_not() -> None:
    assert ids(Person.where(active=True).not_(name="Ann")) == ["p3", "p5"]
    # Rows without an age do not match age__gt, so their negation keeps them.
    assert ids(Person.where().not_(age__gt=26)) == ["p2", "p3", "p5"]


def test_not_with_several_filters_drops_rows_matching_all_of_them() -> None:
    assert ids(Person.where().not_(active=True, age__isnull=True)) == ["p1", "p2", "p3", "p4"]


def test_combinators_apply_left_to_right() -> None:
    assert ids(Person.where(age=30).or_(age=40).and_(active=True)) == ["p1"]
    assert ids(Person.where(active=True).and_(age=30).or_(name="Cy")) == ["p1", "p4"]
    assert ids(Person.where(age=30).or_(age=40).not_(name="Cy")) == ["p1"]


def test_key_filters_combined_with_others() -> None:
    assert ids(Person.where(id="p1")) == ["p1"]
    assert ids(Person.where(id="p1", name="Bob")) == []
    assert ids(Person.where(id="p1").or_(id="p2")) == ["p1", "p2"]
    assert ids(Person.where(id="p1").and_(id="p2")) == []
    assert ids(Person.where(id="nobody")) == []
    assert ids(Person.where().not_(id="p1")) == ["p2", "p3", "p4", "p5"]


def test_empty_combinators_change_nothing() -> None:
    query = Person.where(active=True)
    assert query.and_() is query
    assert query.or_() is query
    assert query.not_() is query


def test_queries_are_immutable() -> None:
    base = Person.where(active=True)
    narrowed = base.and_(age=30)
    base.order_by("-name").limit(1).offset(1)
    assert ids(base) == ["p1", "p3", "p5"]
    assert ids(narrowed) == ["p1"]


def test_building_a_query_does_not_touch_the_backend(recording) -> None:
    query = Person.where(active=True).or_(age=3).not_(name="x").order_by("-age").limit(2)
    assert recording.calls == []
    query.all()
    assert recording.names() == ["query"]


def test_a_query_reads_the_rows_stored_when_it_runs() -> None:
    query = Person.where(name__startswith="Z")
    assert ids(query) == []
    Person.create(id="p6", name="Zoe")
    assert ids(query) == ["p6"]


# -- all, iteration, first -------------------------------------------------------------


def test_model_all_in_insertion_order(people: list[Person]) -> None:
    assert Person.all() == people
    assert all(isinstance(person, Person) for person in Person.all())


def test_iteration() -> None:
    query = Person.where(active=True)
    assert [person.id for person in query] == ["p1", "p3", "p5"]
    assert list(query) == query.all()


def test_first() -> None:
    assert Person.where(active=False).first().id == "p2"  # type: ignore[union-attr]
    assert Person.where().order_by("-age").first().id == "p4"  # type: ignore[union-attr]
    assert Person.where(name="Zed").first() is None
    assert Person.where(active=True).offset(1).first().id == "p3"  # type: ignore[union-attr]


def test_first_respects_an_earlier_limit() -> None:
    assert Person.where().limit(0).all() == []
    assert Person.where().limit(0).first() is None
    assert Person.where().limit(3).first().id == "p1"  # type: ignore[union-attr]


def test_queries_of_a_model_never_stored() -> None:
    class Empty(Model):
        id: str = Field(primary_key=True)
        name: str = ""

    assert Empty.all() == []
    assert Empty.where(name="x").all() == []
    assert Empty.where(id="x").all() == []
    assert Empty.where().count() == 0
    assert Empty.where(name="x").count() == 0
    assert Empty.where().exists() is False
    assert Empty.where().first() is None


# -- limit and offset ------------------------------------------------------------------


def test_limit_and_offset() -> None:
    assert ids(Person.where().limit(2)) == ["p1", "p2"]
    assert ids(Person.where().offset(3)) == ["p4", "p5"]
    assert ids(Person.where().offset(1).limit(2)) == ["p2", "p3"]
    assert ids(Person.where().limit(2).offset(1)) == ["p2", "p3"]
    assert ids(Person.where().offset(5)) == []
    assert ids(Person.where().offset(50).limit(1)) == []
    assert ids(Person.where().limit(0)) == []
    assert ids(Person.where().limit(100)) == ["p1", "p2", "p3", "p4", "p5"]


def test_the_last_limit_and_offset_win() -> None:
    assert ids(Person.where().limit(4).limit(1)) == ["p1"]
    assert ids(Person.where().offset(4).offset(0)) == ["p1", "p2", "p3", "p4", "p5"]


def test_slicing_applies_after_filtering_and_ordering() -> None:
    assert ids(Person.where(active=True).limit(2)) == ["p1", "p3"]
    assert ids(Person.where().limit(2).order_by("name")) == ["p1", "p3"]
    assert ids(Person.where().order_by("-score").offset(1).limit(2)) == ["p4", "p1"]


# -- count and exists ------------------------------------------------------------------


def test_count() -> None:
    assert Person.where().count() == 5
    assert Person.where(active=True).count() == 3
    assert Person.where(age__isnull=True).count() == 2
    assert Person.where(name="Zed").count() == 0
    assert Person.where(id="p3").count() == 1


def test_count_respects_limit_and_offset() -> None:
    assert Person.where().limit(2).count() == 2
    assert Person.where().limit(0).count() == 0
    assert Person.where().limit(9).count() == 5
    assert Person.where().offset(3).count() == 2
    assert Person.where().offset(7).count() == 0
    assert Person.where().offset(4).limit(3).count() == 1
    assert Person.where(active=True).offset(1).limit(1).count() == 1
    assert Person.where(active=True).offset(2).count() == 1


def test_count_matches_the_rows_returned() -> None:
    queries = [
        Person.where(),
        Person.where(active=True).offset(1),
        Person.where(age__gte=20).limit(2),
        Person.where().not_(tags__contains="red").offset(1).limit(5),
    ]
    for query in queries:
        assert query.count() == len(query.all())


def test_exists() -> None:
    assert Person.where().exists() is True
    assert Person.where(name="Cy").exists() is True
    assert Person.where(name="Zed").exists() is False
    assert Person.where(age__gt=100).exists() is False


def test_exists_respects_limit_and_offset() -> None:
    assert Person.where(active=True).offset(2).exists() is True
    assert Person.where(active=True).offset(3).exists() is False
    assert Person.where().limit(0).exists() is False
    assert Person.where().limit(1).exists() is True


# -- segments ----------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, -1, True, 1.5, 1_000_001, "2"])
def test_segments_takes_a_whole_number_from_1_to_a_million(count: object) -> None:
    with pytest.raises(QueryError, match=r"^Person: segments\(\) takes a whole number"):
        Person.where().segments(count)


@pytest.mark.parametrize("count", [1, 2, 7, 1_000_000])
def test_in_memory_gives_the_same_rows_for_any_segments(count: int) -> None:
    assert ids(Person.where().segments(count)) == ["p1", "p2", "p3", "p4", "p5"]
    assert ids(Person.where(active=True).segments(count).limit(2)) == ["p1", "p3"]
    assert ids(Person.where().order_by("-score").segments(count)) == ids(
        Person.where().order_by("-score")
    )
    assert Person.where(age__isnull=True).segments(count).count() == 2
    assert Person.where(name="Zed").segments(count).exists() is False
