"""One write pipeline: every write verb stamps, runs hooks, checks, builds and stores alike."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest
from pydantic import PrivateAttr

from restmachine_orm import Field, Model, OrmError


class Slugged(Model):
    """A model with its own ``__init__``: every write verb must run it."""

    id: str = Field(primary_key=True)
    title: str
    slug: str = ""

    def __init__(self, **data: Any) -> None:
        data.setdefault("slug", str(data.get("title", "")).lower().replace(" ", "-"))
        super().__init__(**data)


class Rekeyed(Model):
    """A model whose ``before_save`` moves the key when asked to: always refused."""

    id: str = Field(primary_key=True)
    code: str | None = Field(None, unique=True)
    title: str = ""
    move_to: str = ""

    def before_save(self) -> None:
        if self.move_to:
            self.id = self.move_to


class Noted(Model):
    id: str = Field(primary_key=True)
    name: str = ""
    tags: list[str] = []  # not flat: rows are built by model_dump


class Private(Model):
    id: str = Field(primary_key=True)
    name: str = ""
    _seen: int = PrivateAttr(default=0)


@pytest.mark.parametrize(
    "write",
    [
        lambda: Slugged.create(id="s1", title="Hello World"),
        lambda: Slugged.create_many([{"id": "s1", "title": "Hello World"}])[0],
        lambda: Slugged.upsert(id="s1", title="Hello World"),
    ],
    ids=["create", "create_many", "upsert"],
)
def test_every_creating_verb_runs_the_models_init(write: Any) -> None:
    written = write()
    assert written.slug == "hello-world"
    stored = Slugged.get(id="s1")
    assert stored is not None and stored.slug == "hello-world"


def _save_moving_the_key_is_refused() -> None:
    row = Rekeyed.create(id="r1", code="c1", title="first")
    row.title = "second"
    row.move_to = "r2"
    with pytest.raises(
        OrmError,
        match=r"Rekeyed.before_save\(\): key fields are immutable, and this before_save hook",
    ):
        row.save()
    stored = Rekeyed.get(id="r1")
    assert stored is not None
    assert (stored.id, stored.title, stored.move_to) == ("r1", "first", "")
    assert Rekeyed.get(id="r2") is None
    assert Rekeyed.where(code="c1").first() == stored


def test_a_key_changed_by_before_save_is_refused_by_save() -> None:
    _save_moving_the_key_is_refused()


def test_the_key_test_fails_without_the_key_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # Proof that the test above can fail: with the key check a no-op, the save goes through.
    monkeypatch.setattr(Rekeyed, "_orm_key", lambda self, schema, stored: schema.key_of(stored))
    monkeypatch.setattr(
        Rekeyed,
        "_orm_before_save",
        lambda self, schema: [getattr(self, name)() for name in self.__orm_before_save__],
    )
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        _save_moving_the_key_is_refused()


@pytest.mark.parametrize("model", [Rekeyed, Noted], ids=["flat", "nested"])
def test_an_undeclared_attribute_is_never_stored(model: type[Model]) -> None:
    row = model.create(id="x1")
    row._is_persisted = True  # type: ignore[attr-defined]  # what a migrating user does
    row.save()
    model.upsert(**row.model_dump())
    loaded = model.get(id="x1")
    assert loaded is not None
    assert "_is_persisted" not in loaded.__dict__
    assert model.all() == [loaded]


def test_equality_is_pydantics_including_private_attributes() -> None:
    stored = Private.create(id="p1", name="Ann")
    fresh = Private(id="p1", name="Ann")
    assert stored == fresh  # the row kept for saves is not part of equality
    stored._seen = 1
    assert stored != fresh  # a user's private attribute is
    fresh._seen = 1
    assert stored == fresh


def test_copies_and_pickles_are_equal_and_save_like_the_original() -> None:
    original = Private.create(id="p1", name="Ann")
    for twin in (
        copy.copy(original),
        copy.deepcopy(original),
        pickle.loads(pickle.dumps(original)),
    ):
        assert twin == original
        twin.name = "Bea"
        twin.save()
        assert Private.get(id="p1") == twin
