"""``before_save`` / ``after_save``: called around every create, save and upsert."""

from __future__ import annotations

from typing import Any

import pytest

from restmachine_orm import DuplicateKeyError, Field, Model, NotFoundError


@pytest.fixture
def events() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def hooked(events: list[tuple[str, str]]) -> type[Model]:
    """A model whose hooks record their calls and derive ``slug`` from ``name``."""

    class Article(Model):
        id: str = Field(primary_key=True)
        name: str
        slug: str = ""
        code: str | None = Field(None, unique=True)

        def before_save(self) -> None:
            events.append(("before", self.id))
            self.slug = self.name.lower().replace(" ", "-")

        def after_save(self) -> None:
            events.append(("after", self.id))

    return Article


def _slug(model: type[Any], key: str) -> str:
    found = model.get(id=key)
    assert found is not None
    return found.slug


def test_create_calls_both_hooks_and_stores_the_change(hooked, events) -> None:
    article = hooked.create(id="a1", name="Hello World")
    assert events == [("before", "a1"), ("after", "a1")]
    assert article.slug == "hello-world"
    assert _slug(hooked, "a1") == "hello-world"


def test_save_calls_both_hooks_and_stores_the_change(hooked, events) -> None:
    article = hooked.create(id="a1", name="Hello")
    events.clear()
    article.name = "Good Bye"
    article.save()
    assert events == [("before", "a1"), ("after", "a1")]
    assert _slug(hooked, "a1") == "good-bye"


def test_upsert_calls_both_hooks_and_stores_the_change(hooked, events) -> None:
    hooked.upsert(id="a1", name="New Row")
    assert _slug(hooked, "a1") == "new-row"
    hooked.upsert(id="a1", name="Replaced Row")
    assert events == [("before", "a1"), ("after", "a1")] * 2
    assert _slug(hooked, "a1") == "replaced-row"


def test_create_many_calls_both_hooks_for_every_row(hooked, events) -> None:
    hooked.create_many([{"id": "a1", "name": "One"}, {"id": "a2", "name": "Two"}])
    assert sorted(events) == [("after", "a1"), ("after", "a2"), ("before", "a1"), ("before", "a2")]
    # Every before_save runs before the batch is written, every after_save after it.
    assert {kind for kind, _ in events[:2]} == {"before"}
    assert _slug(hooked, "a2") == "two"


def test_after_save_is_not_called_when_create_fails(hooked, events) -> None:
    hooked.create(id="a1", name="One", code="c")
    events.clear()
    with pytest.raises(DuplicateKeyError):
        hooked.create(id="a1", name="Again")
    with pytest.raises(DuplicateKeyError):
        hooked.create(id="a2", name="Taken code", code="c")
    assert events == [("before", "a1"), ("before", "a2")]
    assert _slug(hooked, "a1") == "one"
    assert hooked.get(id="a2") is None


def test_after_save_is_not_called_when_save_fails(hooked, events) -> None:
    article = hooked.create(id="a1", name="One")
    hooked.get(id="a1").delete()
    events.clear()
    with pytest.raises(NotFoundError):
        article.save()
    assert events == [("before", "a1")]
    assert hooked.get(id="a1") is None


def test_after_save_is_not_called_when_upsert_fails(hooked, events) -> None:
    hooked.create(id="a1", name="One", code="c")
    events.clear()
    with pytest.raises(DuplicateKeyError):
        hooked.upsert(id="a2", name="Two", code="c")
    assert events == [("before", "a2")]
    assert hooked.get(id="a2") is None


def test_after_save_is_not_called_when_create_many_fails(hooked, events) -> None:
    with pytest.raises(DuplicateKeyError):
        hooked.create_many([{"id": "a1", "name": "One"}, {"id": "a1", "name": "Two"}])
    assert [kind for kind, _ in events] == ["before", "before"]
    assert hooked.all() == []


def test_a_failing_before_save_stops_the_write() -> None:
    class Guarded(Model):
        id: str = Field(primary_key=True)
        amount: int = 0

        def before_save(self) -> None:
            if self.amount > 100:
                raise ValueError("amount too large")

    Guarded.create(id="g1", amount=1)
    with pytest.raises(ValueError, match="too large"):
        Guarded.create(id="g2", amount=500)
    stored = Guarded.get(id="g1")
    assert stored is not None
    stored.amount = 1000
    with pytest.raises(ValueError, match="too large"):
        stored.save()
    with pytest.raises(ValueError, match="too large"):
        Guarded.upsert(id="g1", amount=101)
    assert [(g.id, g.amount) for g in Guarded.all()] == [("g1", 1)]


def test_reads_and_deletes_call_no_hook(hooked, events) -> None:
    hooked.create(id="a1", name="One")
    events.clear()
    hooked.get(id="a1")
    hooked.all()
    list(hooked.where(name="One"))
    hooked.get(id="a1").delete()
    assert events == []


def test_subclasses_inherit_hooks(hooked, events) -> None:
    class Special(hooked):  # type: ignore[misc, valid-type]
        extra: int = 0

    Special.create(id="s1", name="Special One")
    assert events == [("before", "s1"), ("after", "s1")]
    assert _slug(Special, "s1") == "special-one"
