"""Values: every type round-trips, timestamps and hooks behave, text is text."""

from __future__ import annotations

import datetime as dt
import decimal
import time
from typing import Any

import pytest

from ._base import SuiteBase, since
from .models import Color, Hooked, Member, Sample

__all__ = ["TestHooks", "TestText", "TestTimestamps", "TestTypes"]

Orm = tuple[Any, str]

VALUES: dict[str, Any] = {
    "integer": -(2**40),
    "real": 3.25,
    "exact": decimal.Decimal("12345.6789"),
    "flag": True,
    "text": "plain text",
    "moment": dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc),
    "day": dt.date(1999, 12, 31),
    "items": [3, 1, 2],
    "mapping": {"nested": {"list": [1, "two", None]}, "flag": False},
    "optional": None,
    "color": Color.BLUE,
}


class TestTypes(SuiteBase):
    """Each value comes back equal and of the same type."""

    @since("1.0")
    @pytest.mark.parametrize("field", sorted(VALUES))
    def test_round_trip(self, orm: Orm, field: str) -> None:
        client, _ = orm
        client.create_and_verify(Sample, id="s1", **{field: VALUES[field]})
        stored = getattr(client.get_and_verify_exists(Sample, id="s1"), field)
        assert stored == VALUES[field]
        assert type(stored) is type(VALUES[field])

    @since("1.0")
    def test_filters_on_typed_values(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Sample, id="s1", **VALUES)
        client.create_and_verify(Sample, id="s2")
        assert [s.id for s in Sample.where(color=Color.BLUE)] == ["s1"]
        assert [s.id for s in Sample.where(exact__gt=decimal.Decimal("1"))] == ["s1"]
        assert [s.id for s in Sample.where(day__lt=dt.date(2000, 1, 1))] == ["s1"]
        assert [s.id for s in Sample.where(flag=False)] == ["s2"]


class TestTimestamps(SuiteBase):
    """auto_now_add is set once; auto_now on every write."""

    @since("1.0")
    def test_auto_now_add_never_changes(self, orm: Orm) -> None:
        client, _ = orm
        member = client.create_and_verify(Member, id="m1", email="a@x.io", name="A")
        created = member.created_at
        assert created is not None
        client.update_and_verify(member, name="B")
        again = client.upsert_and_verify(Member, id="m1", email="a@x.io", name="C")
        assert again.created_at == created

    @since("1.0")
    def test_auto_now_moves_forward(self, orm: Orm) -> None:
        client, _ = orm
        member = client.create_and_verify(Member, id="m1", email="a@x.io", name="A")
        first = member.updated_at
        time.sleep(0.002)
        updated = client.update_and_verify(member, name="B")
        assert updated.updated_at is not None and first is not None
        assert updated.updated_at > first


class TestHooks(SuiteBase):
    """before_save runs on every write and its changes are stored."""

    @since("1.0")
    def test_before_save_changes_are_stored(self, orm: Orm) -> None:
        client, _ = orm
        hooked = client.create_and_verify(Hooked, id="h1", title="  padded  ")
        assert (hooked.title, hooked.saves) == ("padded", 1)
        updated = client.update_and_verify(hooked, title=" again ")
        assert (updated.title, updated.saves) == ("again", 2)


class TestText(SuiteBase):
    """Unicode and awkward text are stored as given; empty keys are refused everywhere."""

    @since("1.0")
    @pytest.mark.parametrize(
        "text", ["", "Zoë 🎉", "line\nbreak", "quote ' \" `", "#n0 = :v0", "x" * 2000]
    )
    def test_text_round_trips(self, orm: Orm, text: str) -> None:
        client, _ = orm
        client.create_and_verify(Sample, id="s1", text=text)
        assert [s.id for s in Sample.where(text=text)] == ["s1"]

    @since("1.0")
    def test_unicode_keys(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Member, id="ключ-😀", email="ü@x.io", name="Ü")
        assert client.get_and_verify_exists(Member, id="ключ-😀").email == "ü@x.io"

    @since("1.0")
    def test_empty_key_is_refused(self, orm: Orm) -> None:
        from pydantic import ValidationError

        client, _ = orm
        client.expect_create_failure(Member, ValidationError, id="", email="e@x.io", name="E")
