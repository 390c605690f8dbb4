from __future__ import annotations

import pytest
from models import Message, User

from restmachine_orm import CAPABILITIES, InMemoryBackend
from restmachine_orm.query import predicate


def test_returned_instances_are_copies():
    user = User.create(id="u1", email="a@x.io", name="A", tags=["x"])
    user.tags.append("changed in memory")
    loaded = User.get(id="u1")
    assert loaded.tags == ["x"]
    loaded.tags.append("y")
    loaded.name = "B"
    assert User.get(id="u1").tags == ["x"]
    assert User.get(id="u1").name == "A"
    loaded.save()
    assert User.get(id="u1").tags == ["x", "y"]
    listed = User.all()[0]
    listed.tags.clear()
    assert User.get(id="u1").tags == ["x", "y"]


def test_clear_one_model_or_all(backend):
    User.create(id="u1", email="a@x.io", name="A")
    Message.create(thread="t", seq=1, body="b")
    backend.clear(User.orm_schema())
    assert User.all() == [] and len(Message.all()) == 1
    User.create(id="u1", email="a@x.io", name="A")  # the unique value was released too
    backend.clear()
    assert User.all() == [] and Message.all() == []


class CountingPredicates:
    """Counts how many rows the backend's filters look at."""

    def __init__(self, monkeypatch):
        self.rows_seen = 0
        original = predicate.compile_filter

        def counting(tree):
            test = original(tree)

            def wrapped(row):
                self.rows_seen += 1
                return test(row)

            return wrapped

        monkeypatch.setattr("restmachine_orm.query.execution.compile_filter", counting)
        monkeypatch.setattr("restmachine_orm.backends.inmemory.compile_filter", counting)


@pytest.mark.parametrize("filters", [{"id": "u500"}, {"email": "u500@x.io"}])
def test_lookups_by_key_or_unique_value_touch_one_row(monkeypatch, filters):
    User.create_many(
        [{"id": f"u{i}", "email": f"u{i}@x.io", "name": "N", "age": i} for i in range(2000)]
    )
    counter = CountingPredicates(monkeypatch)
    assert [u.age for u in User.where(**filters)] == [500]
    assert User.where(**filters).count() == 1
    assert counter.rows_seen == 2
    assert User.where(**filters, age=1).all() == []
    counter.rows_seen = 0
    assert User.where(age__gte=1990).count() == 10
    assert counter.rows_seen == 2000


def test_capabilities_come_from_the_known_vocabulary():
    assert InMemoryBackend.capabilities <= set(CAPABILITIES)
    assert "transactions" in InMemoryBackend.capabilities
