"""``condition=`` on save and delete, in the core: parsing, refusals, and unsupported backends.

The behaviour on every backend is the conformance suite's (``TestConditionalWrites``);
these tests cover what the core decides before any backend is called.
"""

from __future__ import annotations

import asyncio

import pytest

from restmachine_orm import Backend, ConditionFailedError, Field, InMemoryBackend, Model, QueryError
from restmachine_orm.query.filters import And, Condition, Not, Or, describe


class Stock(Model):
    sku: str = Field(primary_key=True)
    on_hand: int = 0


class NoConditions(InMemoryBackend):
    capabilities = InMemoryBackend.capabilities - {"conditions"}


@pytest.fixture
def stock() -> Stock:
    Stock.model_backend = InMemoryBackend()
    return Stock.create(sku="mug", on_hand=3)


def test_a_condition_naming_an_unknown_field_is_refused_before_writing(stock: Stock) -> None:
    stock.on_hand = 0
    with pytest.raises(QueryError, match="Stock has no field 'nope'"):
        stock.save(condition={"nope": 1})
    assert Stock.get(sku="mug").on_hand == 3


def test_an_empty_condition_is_refused(stock: Stock) -> None:
    with pytest.raises(QueryError, match=r"Stock.delete\(condition=\{\}\): the condition is empty"):
        stock.delete(condition={})
    assert Stock.get(sku="mug") is not None


def test_a_backend_without_the_capability_refuses_conditions_and_writes_nothing() -> None:
    Stock.model_backend = NoConditions()
    row = Stock.create(sku="mug", on_hand=3)
    row.on_hand = 0
    with pytest.raises(QueryError, match="NoConditions cannot check conditions"):
        row.save(condition={"on_hand": 3})
    with pytest.raises(QueryError, match="'conditions' capability"):
        asyncio.run(row.adelete(condition={"on_hand": 3}))
    assert Stock.get(sku="mug").on_hand == 3


def test_an_old_sync_backend_without_the_parameter_still_serves_unconditional_writes() -> None:
    class Old(Backend):
        def __init__(self) -> None:
            self.store = InMemoryBackend()

        def insert(self, schema, row):  # type: ignore[no-untyped-def]
            self.store.insert(schema, row)

        def get(self, schema, key):  # type: ignore[no-untyped-def]
            return self.store.get(schema, key)

        def update(self, schema, key, changes, previous=None):  # type: ignore[no-untyped-def]
            return self.store.update(schema, key, changes, previous)

        def delete(self, schema, key, previous=None):  # type: ignore[no-untyped-def]
            self.store.delete(schema, key, previous)

        upsert = query = count = exists = clear = insert_many = get_many = (  # type: ignore[assignment]
            lambda self, *args: None
        )

    Stock.model_backend = Old()
    row = Stock.create(sku="mug", on_hand=3)
    row.on_hand = 2
    asyncio.run(row.asave())
    asyncio.run(row.adelete())
    assert Stock.get(sku="mug") is None


def test_the_awaitable_twins_refuse_as_the_sync_ones_do(stock: Stock) -> None:
    stock.on_hand = 0
    with pytest.raises(ConditionFailedError, match="on_hand__gt=5"):
        asyncio.run(stock.asave(condition={"on_hand__gt": 5}))
    assert Stock.get(sku="mug").on_hand == 3


def test_conditions_are_described_in_where_syntax() -> None:
    tree = And(
        (
            Condition("a", "eq", 1),
            Or((Condition("b", "gte", 2), Not(Condition("c", "startswith", "x")))),
        )
    )
    assert describe(tree) == "a=1 and (b__gte=2 or not (c__startswith='x'))"


def test_a_bad_condition_changes_nothing_not_even_the_instance() -> None:
    class Stamped(Model):
        id: str = Field(primary_key=True)
        n: int = 0
        saves: int = 0

        def before_save(self) -> None:
            self.saves += 1

    Stamped.model_backend = InMemoryBackend()
    row = Stamped.create(id="s")
    with pytest.raises(QueryError):
        row.save(condition={"nope": 1})
    assert row.saves == 1  # the hook did not run again
    assert Stamped.get(id="s").saves == 1
