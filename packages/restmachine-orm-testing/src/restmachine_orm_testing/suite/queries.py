"""Every lookup, and/or/not, ordering, slicing, pagination, count and exists."""

from __future__ import annotations

from typing import Any

import pytest

from restmachine_orm import QueryError

from ..markers import requires
from ._base import SuiteBase, since
from .models import Member

__all__ = ["TestLogic", "TestLookups", "TestOrdering", "TestPagination"]

Orm = tuple[Any, str]

PEOPLE = [
    {"id": "m1", "email": "ann@x.io", "name": "Ann", "age": 30, "nickname": "annie", "tags": ["a"]},
    {"id": "m2", "email": "bob@x.io", "name": "Bob", "age": 25, "tags": ["a", "b"]},
    {"id": "m3", "email": "cy@x.io", "name": "Cy", "age": 35, "nickname": "c"},
    {"id": "m4", "email": "di@x.io", "name": "Di", "age": 30, "nickname": "dd"},
]

LOOKUPS: list[tuple[dict[str, Any], list[str]]] = [
    ({"age": 30}, ["m1", "m4"]),
    ({"age__ne": 30}, ["m2", "m3"]),
    ({"nickname__ne": "c"}, ["m1", "m2", "m4"]),
    ({"age__gt": 30}, ["m3"]),
    ({"age__gte": 30}, ["m1", "m3", "m4"]),
    ({"age__lt": 30}, ["m2"]),
    ({"age__lte": 30}, ["m1", "m2", "m4"]),
    ({"nickname__gt": "b"}, ["m3", "m4"]),
    ({"age__in": [25, 35, 99]}, ["m2", "m3"]),
    ({"age__in": []}, []),
    ({"nickname__in": ["c", None]}, ["m2", "m3"]),
    ({"age__between": (26, 34)}, ["m1", "m4"]),
    ({"age__between": (35, 25)}, []),
    ({"name__startswith": "C"}, ["m3"]),
    ({"name__contains": "i"}, ["m4"]),
    ({"name__contains": ""}, ["m1", "m2", "m3", "m4"]),
    ({"tags__contains": "b"}, ["m2"]),
    ({"nickname__isnull": True}, ["m2"]),
    ({"nickname__isnull": False}, ["m1", "m3", "m4"]),
    ({"nickname": None}, ["m2"]),
    ({"email": "cy@x.io"}, ["m3"]),
    ({"id": "m2"}, ["m2"]),
    ({"id": "m2", "age": 1}, []),
]


def load(client: Any) -> None:
    """Store the four people every query test reads."""
    for person in PEOPLE:
        client.create_and_verify(Member, **person)


def ids(found: Any) -> list[str]:
    """Sorted ids of the instances found."""
    return sorted(member.id for member in found)


class TestLookups(SuiteBase):
    """Each lookup selects, counts and detects the same rows as the reference."""

    @since("1.0")
    @pytest.mark.parametrize(("filters", "expected"), LOOKUPS, ids=[str(f) for f, _ in LOOKUPS])
    def test_lookup(self, orm: Orm, filters: dict[str, Any], expected: list[str]) -> None:
        client, _ = orm
        load(client)
        assert ids(client.query_and_verify_count(Member, len(expected), filters=filters)) == (
            expected
        )
        assert client.count_models(Member, **filters) == len(expected)
        assert client.model_exists(Member, **filters) == bool(expected)

    @since("1.0")
    def test_bad_filters_are_query_errors(self, orm: Orm) -> None:
        client, _ = orm
        for filters in ({"agee": 1}, {"age__foo": 1}, {"age__gte": "x"}, {"age__gt": None}):
            result = client.query_models(Member, filters=filters)
            assert not result.success
            assert isinstance(result.error, QueryError)


class TestLogic(SuiteBase):
    """and_, or_ and not_ combine as boolean logic."""

    @since("1.0")
    def test_and(self, orm: Orm) -> None:
        load(orm[0])
        assert ids(Member.where(age=30).and_(name="Di")) == ["m4"]

    @since("1.0")
    def test_or(self, orm: Orm) -> None:
        load(orm[0])
        assert ids(Member.where(age=25).or_(name="Cy")) == ["m2", "m3"]

    @since("1.0")
    def test_not(self, orm: Orm) -> None:
        load(orm[0])
        assert ids(Member.where(age__gte=25).not_(age=30)) == ["m2", "m3"]
        assert ids(Member.where().not_(nickname__isnull=True)) == ["m1", "m3", "m4"]

    @since("1.0")
    def test_nested(self, orm: Orm) -> None:
        load(orm[0])
        query = Member.where(age=25).or_(name="Cy").and_(age__gt=30).not_(email="x@x.io")
        assert ids(query) == ["m3"]


class TestOrdering(SuiteBase):
    """Ordering on any field: several fields, descending, None first, stable ties."""

    @since("1.0")
    @requires("order_by_any_field")
    def test_ascending_with_ties_broken_by_a_second_field(self, orm: Orm) -> None:
        load(orm[0])
        assert [m.id for m in Member.where().order_by("age", "-name")] == ["m2", "m4", "m1", "m3"]

    @since("1.0")
    @requires("order_by_any_field")
    def test_none_sorts_first_ascending_and_last_descending(self, orm: Orm) -> None:
        load(orm[0])
        assert [m.id for m in Member.where().order_by("nickname")] == ["m2", "m1", "m3", "m4"]
        assert [m.id for m in Member.where().order_by("-nickname")] == ["m4", "m3", "m1", "m2"]

    @since("1.0")
    @requires("order_by_any_field", "offset")
    def test_limit_and_offset(self, orm: Orm) -> None:
        client, _ = orm
        load(client)
        result = client.query_models(Member, order_by=["id"], offset=1, limit=2)
        assert [m.id for m in result.data] == ["m2", "m3"]
        assert Member.where().order_by("id").offset(3).count() == 1
        first = Member.where().order_by("id").first()
        assert first is not None and first.id == "m1"

    @since("1.0")
    def test_first_of_nothing_is_none(self, orm: Orm) -> None:
        load(orm[0])
        assert Member.where(age=99).first() is None


class TestPagination(SuiteBase):
    """Cursor pages cover every row once, in order."""

    @since("1.0")
    @pytest.mark.parametrize("size", [1, 3, 4, 10])
    def test_pages_cover_every_row_once(self, orm: Orm, size: int) -> None:
        load(orm[0])
        seen, cursor = [], None
        while True:
            page = Member.where().order_by("-age").paginate(size, cursor)
            seen += [m.id for m in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == ["m3", "m1", "m4", "m2"]

    @since("1.0")
    def test_a_cursor_of_another_ordering_is_refused(self, orm: Orm) -> None:
        load(orm[0])
        cursor = Member.where().order_by("age").paginate(1).next_cursor
        with pytest.raises(QueryError):
            Member.where().order_by("name").paginate(1, cursor)
