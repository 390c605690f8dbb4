"""Cursor pagination: ``paginate(page_size, cursor)`` walks every row once, in a stable order."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sample_models import Message, Person

from restmachine_orm import InMemoryBackend, Page, Query, QueryError


def walk(query: Query[Any], page_size: int) -> list[Page[Any]]:
    """Every page of a query, following the cursors to the end."""
    pages = [query.paginate(page_size)]
    while pages[-1].next_cursor is not None:
        pages.append(query.paginate(page_size, pages[-1].next_cursor))
        assert len(pages) < 1000, "pagination does not end"
    return pages


def walked_ids(query: Query[Any], page_size: int) -> list[str]:
    return [person.id for page in walk(query, page_size) for person in page.items]


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.fixture
def ten() -> list[Person]:
    """Ten people; ages repeat and two have none, so orderings have ties and Nones."""
    ages = [30, None, 25, 30, 41, 25, None, 30, 19, 25]
    return [Person.create(id=f"p{n}", name=f"n{n % 3}", age=age) for n, age in enumerate(ages)]


def test_pages_have_the_page_size_and_the_last_has_no_cursor(ten) -> None:
    pages = walk(Person.where(), 3)
    assert [len(page.items) for page in pages] == [3, 3, 3, 1]
    assert all(page.next_cursor is not None for page in pages[:-1])
    assert pages[-1].next_cursor is None
    assert all(isinstance(page, Page) for page in pages)
    assert all(isinstance(item, Person) for page in pages for item in page.items)


def test_walk_visits_every_row_once_in_key_order(ten) -> None:
    assert walked_ids(Person.where(), 3) == sorted(person.id for person in ten)


@pytest.mark.parametrize("page_size", [1, 2, 3, 4, 9, 10, 11, 50])
def test_any_page_size_gives_the_same_rows(ten, page_size: int) -> None:
    expected = [p.id for p in Person.where().order_by("age", "id")]
    assert walked_ids(Person.where().order_by("age"), page_size) == expected


def test_exact_multiple_of_the_page_size_has_no_empty_last_page(ten) -> None:
    pages = walk(Person.where(), 5)
    assert [len(page.items) for page in pages] == [5, 5]
    assert pages[-1].next_cursor is None


def test_one_page_for_everything(ten) -> None:
    page = Person.where().paginate(10)
    assert len(page.items) == 10
    assert page.next_cursor is None


def test_empty_result() -> None:
    page = Person.where().paginate(5)
    assert page.items == []
    assert page.next_cursor is None


@pytest.mark.parametrize("order", [("age",), ("-age",), ("name", "-age"), ("-name", "age")])
def test_ordered_walk_with_ties_and_none_matches_the_ordered_query(ten, order) -> None:
    # Ties are broken by the key, ascending, after the requested fields.
    expected = [p.id for p in Person.where().order_by(*order, "id")]
    walked = walked_ids(Person.where().order_by(*order), 3)
    assert walked == expected
    assert len(set(walked)) == len(ten)


def test_descending_walk_puts_none_last(ten) -> None:
    ages = [p.age for page in walk(Person.where().order_by("-age"), 4) for p in page.items]
    assert ages == [41, 30, 30, 30, 25, 25, 25, 19, None, None]


def test_descending_key_order(ten) -> None:
    assert walked_ids(Person.where().order_by("-id"), 4) == sorted(
        (p.id for p in ten), reverse=True
    )


def test_walk_with_a_filter(ten) -> None:
    expected = [p.id for p in Person.where(age__gte=25).order_by("-age", "id")]
    assert walked_ids(Person.where(age__gte=25).order_by("-age"), 2) == expected


def test_composite_key_walk() -> None:
    for thread in ("b", "a"):
        for seq in (3, 1, 2):
            Message.create(thread=thread, seq=seq, body=f"{thread}{seq}")
    bodies = [m.body for page in walk(Message.where(), 4) for m in page.items]
    assert bodies == ["a1", "a2", "a3", "b1", "b2", "b3"]


def test_rows_written_between_pages_do_not_shift_the_rest(ten) -> None:
    query = Person.where().order_by("age")
    first = query.paginate(4)
    seen = [p.id for p in first.items]
    # Rows that sort before the cursor, and a removed row that was already read.
    Person.create(id="early", name="x", age=None)
    Person.create(id="young", name="x", age=1)
    Person.get(id=seen[0]).delete()  # type: ignore[union-attr]
    cursor = first.next_cursor
    while cursor is not None:
        page = query.paginate(4, cursor)
        seen.extend(p.id for p in page.items)
        cursor = page.next_cursor
    assert sorted(seen) == sorted(p.id for p in ten)
    assert len(seen) == len(set(seen))


# -- mistakes --------------------------------------------------------------------------


def test_cursor_of_another_ordering_is_refused(ten, make_untouchable) -> None:
    cursor = Person.where().order_by("age").paginate(3).next_cursor
    assert cursor is not None
    spy = make_untouchable()
    for other in (Person.where().order_by("-age"), Person.where(), Person.where().order_by("name")):
        with pytest.raises(QueryError, match="this cursor was made for ordering"):
            other.paginate(3, cursor)
    assert spy.calls == []


def test_cursor_of_another_ordering_message(ten) -> None:
    cursor = Person.where().order_by("age").paginate(3).next_cursor
    with pytest.raises(QueryError) as caught:
        Person.where().order_by("-age").paginate(3, cursor)
    message = str(caught.value)
    assert "['age', 'id']" in message
    assert "['-age', 'id']" in message


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor!",
        "abc",
        _cursor([1, 2]),
        _cursor("text"),
        _cursor(None),
        _cursor({"order": ["id"]}),
        _cursor({"after": ["p1"]}),
        _cursor({"order": ["id"], "after": "p1"}),
        _cursor({"order": ["id"], "after": ["p1", "p2"]}),
        _cursor({"order": ["id"], "after": [["p1"]]}),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        base64.urlsafe_b64encode(b"{not json").decode(),
    ],
)
def test_malformed_cursor_is_a_query_error(ten, cursor: str, untouchable) -> None:
    with pytest.raises(QueryError, match="cursor"):
        Person.where().paginate(3, cursor)
    assert untouchable.calls == []


@pytest.mark.parametrize("cursor", [123, b"bytes", ["p1"]])
def test_a_cursor_that_is_not_a_string_is_a_query_error(cursor: Any, untouchable) -> None:
    with pytest.raises(QueryError, match="malformed pagination cursor"):
        Person.where().paginate(3, cursor)
    assert untouchable.calls == []


def test_a_handmade_cursor_for_the_right_ordering_works(ten) -> None:
    page = Person.where().paginate(
        2, _cursor({"model": "Person", "order": ["id"], "after": ["p7"]})
    )
    assert [p.id for p in page.items] == ["p8", "p9"]
    assert page.next_cursor is None


def test_cursor_values_are_validated_against_the_field(ten) -> None:
    bad = _cursor({"model": "Person", "order": ["age", "id"], "after": ["old", "p1"]})
    with pytest.raises(QueryError, match="is not a valid value for cursor"):
        Person.where().order_by("age").paginate(2, bad)


@pytest.mark.parametrize(
    "query",
    [
        lambda: Person.where().limit(3),
        lambda: Person.where().offset(1),
        lambda: Person.where().limit(0),
        lambda: Person.where().order_by("age").offset(2).limit(2),
    ],
)
def test_paginate_with_limit_or_offset_is_refused(query, untouchable) -> None:
    with pytest.raises(QueryError, match=r"drop limit\(\)/offset\(\)"):
        query().paginate(3)
    assert untouchable.calls == []


@pytest.mark.parametrize("page_size", [0, -1, 1.5, True, "3", None])
def test_page_size_must_be_a_positive_whole_number(page_size: Any, untouchable) -> None:
    with pytest.raises(QueryError, match="page_size must be a whole number >= 1"):
        Person.where().paginate(page_size)
    assert untouchable.calls == []


# -- against the ordered query ---------------------------------------------------------


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    ages=st.lists(st.none() | st.integers(0, 4), max_size=15),
    names=st.lists(st.sampled_from(["a", "b"]), min_size=15, max_size=15),
    order=st.lists(st.sampled_from(["age", "-age", "name", "-name", "-id"]), max_size=2),
    page_size=st.integers(1, 6),
)
def test_walk_equals_the_ordered_query(
    backend: InMemoryBackend,
    ages: list[int | None],
    names: list[str],
    order: list[str],
    page_size: int,
) -> None:
    backend.clear()
    for n, age in enumerate(ages):
        Person.create(id=f"p{n:02d}", name=names[n], age=age)
    named = {text.lstrip("-") for text in order}
    full_order = [*order, *([] if "id" in named else ["id"])]
    expected = [p.id for p in Person.where().order_by(*full_order)]
    pages = walk(Person.where().order_by(*order), page_size)
    assert [p.id for page in pages for p in page.items] == expected
    assert all(len(page.items) == page_size for page in pages[:-1])


def test_a_cursor_of_another_model_is_refused(ten) -> None:
    other = _cursor({"model": "Order", "order": ["id"], "after": ["p1"]})
    with pytest.raises(QueryError, match="belongs to a query of 'Order'"):
        Person.where().paginate(2, other)
