"""Atomic updates in the core: ``F`` expressions parsed, applied in memory, and refused.

The behaviour on every backend is the conformance suite's (``TestAtomicUpdates``); these
tests cover what the core decides on its own.
"""

from __future__ import annotations

import asyncio
import decimal

import pytest

from restmachine_orm import F, Field, InMemoryBackend, Model, QueryError
from restmachine_orm.query.changes import (
    AddToSet,
    Append,
    Increment,
    RemoveFromSet,
    apply_change,
    apply_changes,
    parse_changes,
)


class Gauge(Model):
    id: str = Field(primary_key=True)
    hits: int = 0
    level: float = 0.0
    exact: decimal.Decimal = decimal.Decimal("0")
    log: list[int] = []
    label: str = ""
    version: int = Field(version=True)


class NoAtomicUpdates(InMemoryBackend):
    capabilities = InMemoryBackend.capabilities - {"atomic_updates"}


@pytest.fixture
def gauge() -> Gauge:
    Gauge.model_backend = InMemoryBackend()
    return Gauge.create(id="g")


def test_expressions_become_the_changes_a_backend_applies() -> None:
    schema = Gauge.orm_schema()
    parsed = parse_changes(
        schema,
        {"hits": F("hits") - 2, "level": F("level") + 1, "log": F("log") + ["3"], "label": "x"},
        "update",
    )
    assert parsed == {
        "hits": Increment(-2),
        "level": Increment(1.0),
        "log": Append((3,)),
        "label": "x",
    }


def test_changes_apply_to_the_stored_value_or_to_nothing_stored() -> None:
    assert apply_change(5, Increment(-2)) == 3
    assert apply_change(None, Increment(2)) == 2
    assert apply_change([1], Append((2, 3))) == [1, 2, 3]
    assert apply_change(None, Append((2,))) == [2]
    assert apply_change("old", "new") == "new"
    stored = {"n": 1, "log": [1], "label": "a"}
    assert apply_changes(stored, {"n": Increment(2), "log": Append((2,))}) == {
        "n": 3,
        "log": [1, 2],
        "label": "a",
    }
    assert stored == {"n": 1, "log": [1], "label": "a"}  # the stored row is left as it is


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"exact": F("exact") + 0.1}, "would change the field's type"),
        ({"hits": F("hits") + True}, "needs a number"),
        ({"hits": F("hits") + 10**40}, "digits"),
        ({"log": F("log") + ["x"]}, "not a valid element"),
        ({"version": 3}, "the version field is the ORM's"),
        ({"id": "other"}, "a key field cannot change"),
        ({"hits": F("hits")}, "is not a change"),
    ],
)
def test_a_change_that_does_not_fit_is_refused_before_writing(
    gauge: Gauge, changes: dict, message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        gauge.update(**changes)
    assert Gauge.get(id="g") == gauge


def test_an_update_stamps_nothing_it_was_not_asked_and_raises_the_version(gauge: Gauge) -> None:
    updated = gauge.update(hits=F("hits") + 1)
    assert (updated.hits, updated.version) == (1, 2)
    assert asyncio.run(gauge.aupdate(hits=F("hits") + 1)).version == 3


def test_a_backend_without_the_capability_refuses_updates_and_writes_nothing() -> None:
    Gauge.model_backend = NoAtomicUpdates()
    row = Gauge.create(id="g")
    with pytest.raises(QueryError, match="NoAtomicUpdates cannot apply atomic updates"):
        row.update(label="x")
    with pytest.raises(QueryError, match="'atomic_updates' capability"):
        Gauge.update_by_key({"id": "g"}, hits=F("hits") + 1)
    assert Gauge.get(id="g").label == ""


def test_update_by_key_needs_exactly_the_key(gauge: Gauge) -> None:
    with pytest.raises(QueryError, match=r"update_by_key\(\) takes exactly the key fields"):
        Gauge.update_by_key({"hits": 1}, label="x")


class Tagged(Model):
    id: str = Field(primary_key=True)
    labels: set[str] = set()
    frozen: frozenset[int] = frozenset()
    flags: set[bool] = set()


def test_set_expressions_become_set_changes_and_apply_to_any_stored_set() -> None:
    parsed = parse_changes(
        Tagged.orm_schema(),
        {"labels": F("labels") | ["a", "b", "a"], "frozen": F("frozen") - {"1"}},
        "update",
    )
    assert parsed == {
        "labels": AddToSet(frozenset({"a", "b"})),
        "frozen": RemoveFromSet(frozenset({1})),
    }
    assert apply_change(None, AddToSet(frozenset({"a"}))) == {"a"}
    assert apply_change({"a", "b"}, RemoveFromSet(frozenset({"b", "c"}))) == {"a"}
    assert apply_change(frozenset({1}), AddToSet(frozenset({2}))) == {1, 2}
    assert apply_change(None, RemoveFromSet(frozenset({1}))) == set()


def test_a_set_of_booleans_is_not_changed_in_place() -> None:
    # DynamoDB has no set of booleans: no backend offers what one of them cannot.
    with pytest.raises(QueryError, match="not a set of 'bool'"):
        parse_changes(Tagged.orm_schema(), {"flags": F("flags") | {True}}, "update")
