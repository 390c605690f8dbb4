"""Hooks by decorator, mixins and ``is_stored`` (suite 1.7).

What users of the earlier restmachine-python bring: ``@before_save``, ``@after_save`` and
``@after_load`` methods (several per class, inherited, base classes first),
``TimestampMixin`` and ``ExpirationMixin``, and an instance's ``is_stored``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from restmachine_orm import ConditionFailedError, Field, Model, OrmError
from restmachine_orm.mixins import TimestampMixin

from ..clock import OrmClock
from ..markers import requires
from ._base import SuiteBase, refused, since
from .models import Cached, Journal, Stamped

__all__ = ["TestExpirationMixin", "TestHookDecorators", "TestMixins"]

Orm = tuple[Any, str]


class TestHookDecorators(SuiteBase):
    """Decorated hooks run on every write and read, in order, on every backend."""

    @since("1.7")
    def test_before_save_hooks_run_in_order_on_every_write(self, orm: Orm) -> None:
        client, _ = orm
        # The mixin's hook (writes += 1) runs before the model's (slug from it).
        created = client.create_and_verify(Journal, id="j1", title="First Post")
        assert (created.writes, created.slug, created.trail) == (
            1,
            "first-post-1",
            ["make_slug", "saved"],
        )
        saved = client.update_and_verify(created, title="Second")
        assert (saved.writes, saved.slug) == (2, "second-2")
        upserted = client.upsert_and_verify(Journal, id="j1", title="Third", writes=2)
        assert (upserted.writes, upserted.slug) == (3, "third-3")
        updated = upserted.update(title="Fourth")
        assert (updated.writes, updated.slug, updated.trail[-2:]) == (
            4,
            "fourth-4",
            ["make_slug", "saved"],
        )
        by_key = Journal.update_by_key({"id": "j1"}, title="Fifth", writes=9)
        assert (by_key.writes, by_key.slug) == (10, "fifth-10")
        stored = client.get_and_verify_exists(Journal, id="j1")
        assert (stored.title, stored.writes, stored.slug) == ("Fifth", 10, "fifth-10")
        many = Journal.create_many([{"id": "j2", "title": "A b"}, {"id": "j3", "title": "C"}])
        assert [(j.slug, j.trail) for j in many] == [
            ("a-b-1", ["make_slug", "saved"]),
            ("c-1", ["make_slug", "saved"]),
        ]
        assert [j.slug for j in Journal.where(id="j2")] == ["a-b-1"]

    @since("1.7")
    def test_after_load_runs_on_every_read(self, orm: Orm) -> None:
        client, _ = orm
        for n in range(3):
            client.create_and_verify(Journal, id=f"j{n}", title=f"T{n}")
        reads: list[list[Journal]] = [
            [client.get_and_verify_exists(Journal, id="j0")],
            [j for j in Journal.get_many([{"id": "j1"}, {"id": "j2"}]) if j is not None],
            Journal.where().order_by("id").all(),
            list(Journal.where(title="T1")),
            [j for j in [Journal.where().order_by("id").first()] if j is not None],
            Journal.where().paginate(2).items,
        ]
        for read in reads:
            assert read and all(j.trail == ["loaded"] for j in read), [j.trail for j in read]

    @since("1.7")
    def test_a_hook_changing_the_key_is_refused_and_nothing_is_written(self, orm: Orm) -> None:
        client, _ = orm
        refused(lambda: Journal.create(id="j1", title="move"), OrmError, "hook changed the key")
        client.get_and_verify_not_exists(Journal, id="j1")
        client.get_and_verify_not_exists(Journal, id="j1-moved")
        kept = client.create_and_verify(Journal, id="j2", title="kept")
        kept.title = "move"
        refused(kept.save, OrmError, "hook changed the key")
        fresh = client.get_and_verify_exists(Journal, id="j2")
        refused(lambda: fresh.update(title="move"), OrmError, "hook changed the key")
        refused(
            lambda: Journal.update_by_key({"id": "j2"}, title="move", writes=1),
            OrmError,
            "hook changed the key",
        )
        stored = client.get_and_verify_exists(Journal, id="j2")
        assert (stored.title, stored.writes) == ("kept", 1)
        assert Journal.where().count() == 1

    @since("1.7")
    def test_after_save_runs_only_when_the_write_succeeded(self, orm: Orm) -> None:
        client, _ = orm
        journal = client.create_and_verify(Journal, id="j1", title="one")
        journal.trail.clear()
        journal.title = "two"
        refused(lambda: journal.save(condition={"title": "other"}), ConditionFailedError, "title")
        assert journal.trail == ["make_slug"]
        assert client.get_and_verify_exists(Journal, id="j1").title == "one"

    @since("1.7")
    def test_is_stored_follows_the_instance(self, orm: Orm) -> None:
        client, _ = orm
        fresh = Journal(id="j1", title="new")
        assert not fresh.is_stored
        created = client.create_and_verify(Journal, id="j1", title="new")
        assert created.is_stored
        loaded = client.get_and_verify_exists(Journal, id="j1")
        assert loaded.is_stored and all(j.is_stored for j in Journal.all())
        client.delete_and_verify(loaded)
        assert not loaded.is_stored
        assert Journal.upsert(id="j1", title="again").is_stored


class TestMixins(SuiteBase):
    """``TimestampMixin`` stamps every write with the ORM's clock, on every backend."""

    @since("1.7")
    def test_timestamps_are_set_once_and_on_every_write(
        self, orm: Orm, orm_clock: OrmClock
    ) -> None:
        client, _ = orm
        created = client.create_and_verify(Stamped, id="s1", body="a")
        start = orm_clock.now()
        assert (created.created_at, created.updated_at) == (start, start)
        assert created.created_at is not None and created.created_at.tzinfo is not None
        orm_clock.advance(60)
        saved = client.update_and_verify(created, body="b")
        assert (saved.created_at, saved.updated_at) == (start, orm_clock.now())
        orm_clock.advance(60)
        updated = saved.update(views=1)
        assert (updated.created_at, updated.updated_at) == (start, orm_clock.now())
        orm_clock.advance(60)
        upserted = client.upsert_and_verify(Stamped, id="s1", body="c")
        assert (upserted.created_at, upserted.updated_at) == (start, orm_clock.now())
        stored = client.get_and_verify_exists(Stamped, id="s1")
        assert (stored.created_at, stored.updated_at, stored.body) == (start, orm_clock.now(), "c")

    @since("1.7")
    def test_the_class_keyword_binds_a_model_to_a_backend(self, orm: Orm) -> None:
        backend = Stamped.model_backend  # the backend under test, as the driver bound it

        class Memo(TimestampMixin, Model, model_backend=backend):
            id: str = Field(primary_key=True)
            text: str = ""

        assert Memo.model_backend is backend
        memo = Memo.create(id="n1", text="bound")
        try:
            stored = Memo.get(id="n1")
            assert stored is not None and (stored.text, stored.is_stored) == ("bound", True)
            assert stored.created_at == memo.created_at
            assert Memo.where(text__iexact="BOUND").count() == 1
        finally:
            memo.delete()
        assert Memo.get(id="n1") is None and not memo.is_stored


@requires("ttl")
class TestExpirationMixin(SuiteBase):
    """``ExpirationMixin`` beside ``TimestampMixin``: rows expire, ``include_expired`` sees them."""

    def get_test_models(self) -> list[type[Model]]:
        """The model with both mixins."""
        return [Cached]

    @since("1.7")
    def test_expired_rows_are_absent_unless_included(self, orm: Orm, orm_clock: OrmClock) -> None:
        client, _ = orm
        soon = client.create_and_verify(Cached, id="a", value="x", expires_at=orm_clock.after(10))
        client.create_and_verify(Cached, id="b", value="y")
        assert (soon.created_at, soon.is_expired()) == (orm_clock.now(), False)
        orm_clock.advance(10)
        assert soon.is_expired()
        client.get_and_verify_not_exists(Cached, id="a")
        assert [c.id for c in Cached.all()] == ["b"]
        assert Cached.where().count() == 1
        everything = Cached.where().include_expired()
        assert [c.id for c in everything.order_by("id")] == ["a", "b"]
        assert everything.count() == 2 and everything.where(id="a").exists()
        assert [c.id for c in everything.where(id="a")] == ["a"]
        assert [c.id for c in everything.where(value="x")] == ["a"]
        expired = everything.where(id="a").first()
        assert expired is not None and expired.is_expired()
        assert expired.expires_at == orm_clock.now()

    @since("1.7")
    def test_is_expired_follows_the_clock(self, orm: Orm, orm_clock: OrmClock) -> None:
        client, _ = orm
        never = client.create_and_verify(Cached, id="a")
        later = client.create_and_verify(
            Cached, id="b", expires_at=orm_clock.after(5).replace(tzinfo=None)
        )
        assert not never.is_expired() and not later.is_expired()
        orm_clock.advance(5)
        assert later.is_expired() and not never.is_expired()
        assert isinstance(later.expires_at, dt.datetime)
