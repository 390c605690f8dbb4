"""``order_by``: any field, several fields, descending, ``None`` first, stable ties."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sample_models import Message, Person

from restmachine_orm import InMemoryBackend, Query

UTC = dt.timezone.utc


def ids(query: Query[Person]) -> list[str]:
    return [person.id for person in query.all()]


@pytest.fixture
def people() -> None:
    Person.create(id="a", name="Cy", age=30, score=2.5, active=True, born=dt.date(1990, 5, 1))
    Person.create(id="b", name="Ann", age=None, score=1.0, active=False)
    Person.create(
        id="c",
        name="bo",
        age=25,
        score=2.5,
        active=True,
        born=dt.date(1985, 1, 1),
        seen=dt.datetime(2024, 1, 1, tzinfo=UTC),
    )
    Person.create(id="d", name="Bob", age=30, score=0.5, active=False, born=dt.date(2000, 1, 1))
    Person.create(
        id="e",
        name="Ann",
        age=None,
        score=1.0,
        active=True,
        seen=dt.datetime(2023, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("field", "ascending"),
    [
        ("id", ["a", "b", "c", "d", "e"]),
        ("name", ["b", "e", "d", "a", "c"]),
        ("age", ["b", "e", "c", "a", "d"]),
        ("score", ["d", "b", "e", "a", "c"]),
        ("active", ["b", "d", "a", "c", "e"]),
        ("born", ["b", "e", "c", "a", "d"]),
        ("seen", ["a", "b", "d", "e", "c"]),
    ],
)
def test_order_by_any_field(people, field: str, ascending: list[str]) -> None:
    assert ids(Person.where().order_by(field)) == ascending


@pytest.mark.parametrize(
    ("field", "descending"),
    [
        ("id", ["e", "d", "c", "b", "a"]),
        ("name", ["c", "a", "d", "b", "e"]),
        ("age", ["a", "d", "c", "b", "e"]),
        ("score", ["a", "c", "b", "e", "d"]),
        ("active", ["a", "c", "e", "b", "d"]),
        ("born", ["d", "a", "c", "b", "e"]),
        ("seen", ["c", "e", "a", "b", "d"]),
    ],
)
def test_order_by_descending(people, field: str, descending: list[str]) -> None:
    assert ids(Person.where().order_by(f"-{field}")) == descending


def test_none_sorts_first_ascending_and_last_descending(people) -> None:
    ascending = [p.age for p in Person.where().order_by("age")]
    descending = [p.age for p in Person.where().order_by("-age")]
    assert ascending == [None, None, 25, 30, 30]
    assert descending == [30, 30, 25, None, None]


def test_ties_keep_insertion_order_in_both_directions(people) -> None:
    assert ids(Person.where(age=30).order_by("age")) == ["a", "d"]
    assert ids(Person.where(age=30).order_by("-age")) == ["a", "d"]
    assert ids(Person.where(name="Ann").order_by("-name")) == ["b", "e"]


def test_several_fields(people) -> None:
    assert ids(Person.where().order_by("age", "name")) == ["b", "e", "c", "d", "a"]
    assert ids(Person.where().order_by("-score", "name")) == ["a", "c", "b", "e", "d"]
    assert ids(Person.where().order_by("active", "-age")) == ["d", "b", "a", "c", "e"]
    assert ids(Person.where().order_by("-active", "age", "-id")) == ["e", "c", "a", "b", "d"]


def test_order_by_calls_add_fields(people) -> None:
    chained = Person.where().order_by("active").order_by("-age")
    assert ids(chained) == ids(Person.where().order_by("active", "-age"))


def test_order_by_with_a_filter(people) -> None:
    assert ids(Person.where(active=True).order_by("-score", "-id")) == ["c", "a", "e"]


def test_order_by_composite_key() -> None:
    for thread, seq in [("t", 3), ("s", 9), ("t", 1), ("s", 2)]:
        Message.create(thread=thread, seq=seq, body=f"{thread}{seq}")
    assert [m.body for m in Message.where().order_by("thread", "seq")] == ["s2", "s9", "t1", "t3"]
    assert [m.body for m in Message.where().order_by("-seq")] == ["s9", "t3", "s2", "t1"]


def test_order_by_without_fields_keeps_the_natural_order(people) -> None:
    assert ids(Person.where().order_by()) == ["a", "b", "c", "d", "e"]


# -- against a reference ---------------------------------------------------------------


def _reference(rows: list[dict[str, Any]], order: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    """Sort with one comparison over every field at once, ``None`` below every value."""

    def compare(left: dict[str, Any], right: dict[str, Any]) -> int:
        for field, descending in order:
            a, b = left[field], right[field]
            if a == b:
                continue
            if a is None:
                result = -1
            elif b is None:
                result = 1
            else:
                result = -1 if a < b else 1
            return -result if descending else result
        return left["position"] - right["position"]

    return sorted(rows, key=functools.cmp_to_key(compare))


ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(["a", "b", "c"]),
            "age": st.none() | st.integers(0, 3),
            "score": st.sampled_from([0.0, 0.5, 1.0]),
        }
    ),
    max_size=12,
)
ORDERS = st.lists(
    st.tuples(st.sampled_from(["name", "age", "score", "id"]), st.booleans()),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=ROWS, order=ORDERS)
def test_ordering_matches_a_reference_sort(
    backend: InMemoryBackend, rows: list[dict[str, Any]], order: list[tuple[str, bool]]
) -> None:
    backend.clear()
    stored = [
        {"id": f"p{position:02d}", "position": position, **row} for position, row in enumerate(rows)
    ]
    for row in stored:
        Person.create(id=row["id"], name=row["name"], age=row["age"], score=row["score"])
    text = [("-" if descending else "") + field for field, descending in order]
    expected = [row["id"] for row in _reference(stored, order)]
    assert ids(Person.where().order_by(*text)) == expected
