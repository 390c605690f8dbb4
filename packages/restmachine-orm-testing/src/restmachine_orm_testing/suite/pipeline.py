"""The write pipeline: every write verb stamps, runs hooks, checks and stores alike."""

from __future__ import annotations

from typing import Any

import pytest

from restmachine_orm import Field, Model, OrmError

from ._base import SuiteBase, since

__all__ = ["TestWritePipeline"]

Orm = tuple[Any, str]


class Titled(Model):
    """Its own ``__init__`` derives ``slug``; ``before_save`` may move the key when asked."""

    id: str = Field(primary_key=True)
    code: str | None = Field(None, unique=True)
    title: str = ""
    slug: str = ""
    move_to: str = ""

    def __init__(self, **data: Any) -> None:
        """Derive the slug from the title unless one is given."""
        data.setdefault("slug", str(data.get("title", "")).lower().replace(" ", "-"))
        super().__init__(**data)

    def before_save(self) -> None:
        """Move the key when ``move_to`` says so: every backend must refuse it."""
        if self.move_to:
            self.id = self.move_to


class TestWritePipeline(SuiteBase):
    """create, create_many, upsert and save take the same steps, on every backend."""

    def get_test_models(self) -> list[type[Model]]:
        """The suite's models and this class's own."""
        return [*super().get_test_models(), Titled]

    @since("1.2")
    @pytest.mark.parametrize("verb", ["create", "create_many", "upsert"])
    def test_every_creating_verb_runs_the_models_init(self, orm: Orm, verb: str) -> None:
        client, _ = orm
        data = {"id": "t1", "title": "Hello World", "code": "c1"}
        if verb == "create":
            written = Titled.create(**data)
        elif verb == "create_many":
            (written,) = Titled.create_many([data])
        else:
            written = Titled.upsert(**data)
        assert written.slug == "hello-world"
        assert client.get_and_verify_exists(Titled, id="t1") == written

    @since("1.2")
    def test_a_key_moved_by_before_save_is_refused_and_nothing_written(self, orm: Orm) -> None:
        client, _ = orm
        row = client.create_and_verify(Titled, id="t1", title="first", code="c1")
        row.title, row.move_to = "second", "t2"
        with pytest.raises(OrmError, match="key fields are immutable"):
            row.save()
        stored = client.get_and_verify_exists(Titled, id="t1")
        assert (stored.id, stored.title, stored.move_to) == ("t1", "first", "")
        client.get_and_verify_not_exists(Titled, id="t2")
        assert client.query_models(Titled, {"code": "c1"}).data == [stored]

    @since("1.2")
    def test_an_undeclared_attribute_is_never_stored(self, orm: Orm) -> None:
        client, _ = orm
        row = client.create_and_verify(Titled, id="t1", title="first")
        row._is_persisted = True  # what code written for another ORM does
        row.title = "second"
        row.save()
        Titled.upsert(id="t2", title="other")
        for key in ("t1", "t2"):
            loaded = client.get_and_verify_exists(Titled, id=key)
            assert "_is_persisted" not in loaded.__dict__
        assert [r.id for r in client.query_models(Titled, {"title": "second"}).data] == ["t1"]
