"""``transaction()`` in the core: what it refuses, when hooks run, the async block.

The behaviour on every backend (all or nothing, reasons per action, transfers racing) is
the conformance suite's ``TestTransactions``; these tests pin down the core's own checks.
"""

from __future__ import annotations

import asyncio
import pickle

import pytest

from restmachine_orm import (
    ConditionFailedError,
    F,
    Field,
    InMemoryBackend,
    Model,
    NotFoundError,
    QueryError,
    TransactionError,
    transaction,
)


class Stock(Model):
    id: str = Field(primary_key=True)
    on_hand: int = 0


class Audited(Model):
    id: str = Field(primary_key=True)
    log: list[str] = []

    def before_save(self) -> None:
        self.log = [*self.log, "before"]

    def after_save(self) -> None:
        self.log.append("after")


class Plain(InMemoryBackend):
    capabilities = frozenset()


@pytest.fixture(autouse=True)
def backend():
    store = InMemoryBackend()
    Stock.model_backend = Audited.model_backend = store
    yield store
    del Stock.model_backend, Audited.model_backend


def test_a_backend_without_transactions_is_refused_at_the_first_write():
    Stock.model_backend = Plain()
    with pytest.raises(QueryError, match="Plain cannot run transactions"), transaction() as tx:
        tx.create(Stock, id="s1")


def test_models_of_two_backends_cannot_share_a_transaction():
    Audited.model_backend = InMemoryBackend()
    with transaction() as tx:
        tx.create(Stock, id="s1")
        with pytest.raises(QueryError, match="stored by another backend"):
            tx.create(Audited, id="a1")
    assert Stock.get(id="s1") is not None


def test_hooks_run_when_collected_and_after_the_commit():
    with transaction() as tx:
        audited = tx.create(Audited, id="a1")
        assert audited.log == ["before"]
        assert Audited.get(id="a1") is None
    assert audited.log == ["before", "after"]
    assert Audited.get(id="a1").log == ["before"]


def test_a_committed_or_cancelled_transaction_cannot_be_used_again():
    Stock.create(id="s1", on_hand=1)
    with transaction() as tx:
        tx.check(Stock, {"id": "s1"})
    with pytest.raises(QueryError, match="committed"):
        tx.create(Stock, id="s2")
    with pytest.raises(TransactionError) as cancelled, transaction() as failed:
        failed.check(Stock, {"id": "nope"})
    assert isinstance(cancelled.value.reasons[0], NotFoundError)
    with pytest.raises(QueryError, match="cancelled"), failed:
        pass


def test_a_check_needs_the_key_and_conditions_that_fit():
    with transaction() as tx:
        with pytest.raises(QueryError, match="takes exactly the key fields"):
            tx.check(Stock, {"on_hand": 1})
        with pytest.raises(QueryError, match="no field 'nope'"):
            tx.check(Stock, {"id": "s1"}, nope=1)
    assert tx.actions == ()


def test_the_async_block_commits_through_the_awaitable_twin(backend):
    Stock.create(id="s1", on_hand=5)
    calls = []
    original = backend.atransact

    async def spy(actions):
        calls.append(len(actions))
        return await original(actions)

    backend.atransact = spy

    async def move():
        stock = await Stock.aget(id="s1")
        async with transaction() as tx:
            tx.update(stock, on_hand=F("on_hand") - 5, condition={"on_hand__gte": 5})
            tx.create(Stock, id="s2", on_hand=5)
        return stock

    stock = asyncio.run(move())
    assert calls == [2] and stock.on_hand == 0 and Stock.get(id="s2").on_hand == 5


def test_the_error_lists_each_refused_action_and_survives_pickling():
    Stock.create(id="s1", on_hand=1)
    with pytest.raises(TransactionError) as cancelled, transaction() as tx:
        tx.create(Stock, id="s2")
        tx.update(Stock.model_construct(id="s1"), on_hand=0, condition={"on_hand__gte": 2})
    error = cancelled.value
    assert error.reasons[0] is None and isinstance(error.reasons[1], ConditionFailedError)
    assert "action 2 (ConditionFailedError): Stock(id='s1')" in str(error)
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and type(again.reasons[1]) is ConditionFailedError
