"""Query helpers: ``find_by``, ``last``, text lookups, ``Q`` objects, ``values`` (suite 1.7).

DynamoDB has no ``ends_with`` and no case folding: its backend tests those lookups on the
rows it reads, after the server-side part of the filter. These tests hold every backend to
the in-memory results, through every read path (key, unique value, query, scan, count,
exists, pages).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from restmachine_orm import ConditionFailedError, Q, QueryError

from ._base import SuiteBase, refused, since
from .models import Event, Journal, Member

__all__ = ["TestAwaitedHelpers", "TestQueryHelpers"]

Orm = tuple[Any, str]
AsyncOrm = tuple[Any, str]

PEOPLE = [
    ("m1", "Ada.Lovelace@Example.com", "Ada", 36, None),
    ("m2", "bo@example.org", "Bo", 25, "bobby"),
    ("m3", "STRASSE@example.com", "Straße", 41, None),
    ("m4", "cy@sample.net", "cy", 30, "CY"),
]
AGES = {id_: age for id_, _, _, age, _ in PEOPLE}


def _people(client: Any) -> None:
    for id_, email, name, age, nickname in PEOPLE:
        client.create_and_verify(Member, id=id_, email=email, name=name, age=age, nickname=nickname)


def ids(rows: Any) -> list[str]:
    return sorted(row.id for row in rows)


class TestQueryHelpers(SuiteBase):
    """``find_by``, ``last``, the text lookups, ``Q`` and ``values``, alike on every backend."""

    @since("1.7")
    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            ({"email__endswith": ".com"}, ["m1", "m3"]),
            ({"email__iendswith": "EXAMPLE.COM"}, ["m1", "m3"]),
            ({"name__iexact": "ADA"}, ["m1"]),
            ({"name__iexact": "strasse"}, ["m3"]),  # casefolded: ß is ss
            ({"name__istartswith": "C"}, ["m4"]),
            ({"email__icontains": "example"}, ["m1", "m2", "m3"]),
            ({"nickname__iexact": "cy"}, ["m4"]),  # a None never matches
            ({"nickname__endswith": ""}, ["m2", "m4"]),
            ({"id": "m1", "name__iexact": "ada"}, ["m1"]),  # by key
            ({"id": "m1", "name__iexact": "bo"}, []),
            ({"email": "bo@example.org", "name__istartswith": "b"}, ["m2"]),  # by unique value
            ({"age__gte": 30, "email__iendswith": ".COM"}, ["m1", "m3"]),
        ],
    )
    def test_text_lookups_match_alike_through_every_read_path(
        self, orm: Orm, filters: dict[str, Any], expected: list[str]
    ) -> None:
        client, _ = orm
        _people(client)
        query = Member.where(**filters)
        assert ids(query) == expected
        assert query.count() == len(expected)
        assert query.exists() is bool(expected)
        youngest = sorted(expected, key=lambda id_: AGES[id_])[:1]
        assert ids(Member.where(**filters).order_by("age").paginate(1).items) == youngest
        assert ids(Member.where().not_(**filters)) == [p[0] for p in PEOPLE if p[0] not in expected]

    @since("1.7")
    def test_text_lookups_on_a_partition_and_in_or_trees(self, orm: Orm) -> None:
        client, _ = orm
        for seq, kind in enumerate(["Note", "alert", "NOTE-x", "memo"]):
            client.create_and_verify(Event, stream="s", seq=seq, kind=kind)
        client.create_and_verify(Event, stream="t", seq=0, kind="note")
        in_s = Event.where(stream="s", kind__istartswith="note")
        assert [e.seq for e in in_s.order_by("seq")] == [0, 2]
        either = Event.where(Q(kind__iexact="NOTE") | Q(seq=3), stream="s")
        assert sorted(e.seq for e in either) == [0, 3]
        assert either.count() == 2

    @since("1.7")
    def test_q_objects_combine_with_or_and_not(self, orm: Orm) -> None:
        client, _ = orm
        _people(client)
        assert ids(Member.where(Q(age__gte=40) | Q(name="Bo"))) == ["m2", "m3"]
        assert ids(Member.where(Q(age__gte=30) & ~Q(name="cy"))) == ["m1", "m3"]
        assert ids(Member.where(~(Q(age__lt=30) | Q(nickname__isnull=True)))) == ["m4"]
        assert ids(Member.where(Q(age__gte=30), Q(age__lte=36), nickname__isnull=True)) == ["m1"]
        assert ids(Member.where(Q() | Q(name="Bo"))) == ["m1", "m2", "m3", "m4"]
        assert Member.where(Q(name="Bo") | Q(name="cy")).count() == 2
        assert Member.where(Q(name="Zed") | Q(age=99)).exists() is False
        assert ids(Member.where(age__gte=30).or_(Q(name="Bo"))) == ["m1", "m2", "m3", "m4"]
        refused(lambda: Member.where(~Q()), QueryError, "negates an empty Q()")
        refused(lambda: Member.where(Q(nope=1)), QueryError, "has no field 'nope'")
        refused(lambda: Member.where({"age": 1}), QueryError, "takes Q objects")  # type: ignore[arg-type]

    @since("1.7")
    def test_find_by_returns_the_first_match_or_none(self, orm: Orm) -> None:
        client, _ = orm
        _people(client)
        found = Member.find_by(name__iexact="bo")
        assert found is not None and found.id == "m2"
        either = Member.find_by(Q(age__gt=40) | Q(name="Nobody"))
        assert either is not None and either.id == "m3"
        assert Member.find_by(email="cy@sample.net") is not None
        assert Member.find_by(name="Nobody") is None
        refused(lambda: Member.find_by(size=1), QueryError, "has no field 'size'")

    @since("1.7")
    def test_last_is_the_last_row_in_the_query_order(self, orm: Orm) -> None:
        client, _ = orm
        assert Member.where().order_by("age").last() is None
        _people(client)
        oldest = Member.where().order_by("age").last()
        assert oldest is not None and oldest.id == "m3"
        youngest = Member.where(age__gte=26).order_by("-age").last()
        assert youngest is not None and youngest.id == "m4"
        sliced = Member.where().order_by("age").offset(1).limit(2).last()
        assert sliced is not None and sliced.id == "m1"
        nicknamed = Member.where().order_by("-nickname").last()  # None sorts first
        assert nicknamed is not None and nicknamed.nickname is None
        refused(lambda: Member.where().last(), QueryError, "last() needs an order")

    @since("1.7")
    def test_values_returns_only_the_fields_asked_for(self, orm: Orm) -> None:
        client, _ = orm
        _people(client)
        rows = Member.where(age__gte=30).order_by("age").values("id", "name")
        assert rows == [
            {"id": "m4", "name": "cy"},
            {"id": "m1", "name": "Ada"},
            {"id": "m3", "name": "Straße"},
        ]
        stamped = Member.where(id="m2").values("created_at", "nickname", "tags")
        assert list(stamped[0]) == ["created_at", "nickname", "tags"]
        assert isinstance(stamped[0]["created_at"], dt.datetime)
        assert stamped[0]["nickname"] == "bobby" and stamped[0]["tags"] == []
        filtered = Member.where(email__iendswith=".org").values("age")
        assert filtered == [{"age": 25}]
        assert Member.where().order_by("id").limit(1).values() == [
            Member.where(id="m1").all()[0].model_dump()
        ]
        assert Member.where(name="Nobody").values("id") == []
        refused(lambda: Member.where().values("id", "size"), QueryError, "has no field 'size'")

    @since("1.7")
    def test_q_objects_are_write_conditions(self, orm: Orm) -> None:
        client, _ = orm
        _people(client)
        bo = client.get_and_verify_exists(Member, id="m2")
        client.update_and_verify(bo, condition=Q(age__lt=20) | Q(nickname="bobby"), age=26)
        refused(lambda: bo.update(condition=~Q(nickname="bobby"), age=27), ConditionFailedError, "")
        assert client.get_and_verify_exists(Member, id="m2").age == 26
        refused(
            lambda: bo.update(condition={"name__iexact": "bo"}, age=28),
            QueryError,
            "cannot use the 'iexact' lookup",
        )
        refused(lambda: bo.delete(condition=Q(email__endswith=".org")), QueryError, "endswith")
        client.delete_and_verify(bo, condition=Q(age=26) & Q(name="Bo"))


class TestAwaitedHelpers(SuiteBase):
    """The awaitable helpers on the test's event loop answer as their sync twins do.

    ``afind_by``, ``alast``, ``avalues``, and ``acreate``/``aupdate`` running the hooks.
    """

    _orm_forbid_blocking_io = True

    @since("1.7")
    async def test_awaited_helpers_answer_as_the_sync_ones(self, aorm: AsyncOrm) -> None:
        client, _ = aorm
        for id_, email, name, age, nickname in PEOPLE:
            await client.create_and_verify(
                Member, id=id_, email=email, name=name, age=age, nickname=nickname
            )
        found = await Member.afind_by(Q(name__iexact="BO") | Q(age=99))
        assert found is not None and found.id == "m2"
        assert await Member.afind_by(name="Nobody") is None
        oldest = await Member.where(email__icontains="EXAMPLE").order_by("age").alast()
        assert oldest is not None and oldest.id == "m3"
        rows = (
            await Member.where(Q(age__gte=36) | Q(nickname="CY"))
            .order_by("age")
            .avalues("id", "age")
        )
        assert rows == [{"id": "m4", "age": 30}, {"id": "m1", "age": 36}, {"id": "m3", "age": 41}]
        assert await Member.where(name__iendswith="E").acount() == 1
        assert await Member.where(Q(name="Bo") & ~Q(age=25)).aexists() is False

    @since("1.7")
    async def test_awaited_writes_run_the_hooks(self, aorm: AsyncOrm) -> None:
        client, _ = aorm
        created = await Journal.acreate(id="j1", title="One Two")
        assert (created.slug, created.trail) == ("one-two-1", ["make_slug", "saved"])
        updated = await created.aupdate(title="Three")
        assert (updated.writes, updated.slug) == (2, "three-2")
        loaded = await Journal.aget(id="j1")
        assert loaded is not None and loaded.trail == ["loaded"] and loaded.slug == "three-2"
        assert loaded.is_stored
        await client.delete_and_verify(loaded)
        assert not loaded.is_stored
