"""Conditional writes on DynamoDB: the condition travels in the write's own request.

The suite (``TestConditionalWrites``) proves the behaviour on every backend; these tests
pin down how DynamoDB does it: one request, the condition in its ``ConditionExpression``
with placeholders only, and a refusal explained by one read. The proofs drop the condition
from the request: the write then goes through, which is what the suite would catch.
"""

from __future__ import annotations

import pytest

from restmachine_orm import ConditionFailedError, Field, Model, NotFoundError
from restmachine_orm_dynamodb import _writes


class Wallet(Model):
    id: str = Field(primary_key=True)
    owner: str = ""
    balance: int = 0


class Named(Model):
    id: str = Field(primary_key=True)
    handle: str = Field(unique=True)
    balance: int = 0


@pytest.fixture
def models(bind):
    bind(Wallet, Named)


def test_a_conditional_save_is_one_update_with_the_condition_in_placeholders(models, requests):
    wallet = Wallet.create(id="w1", owner="ann", balance=50)
    requests.reset()
    wallet.balance = 20
    wallet.save(condition={"balance__gte": 30, "owner": "ann"})
    assert requests.operations == ["UpdateItem"]
    sent = requests.sent[0][1]
    condition = sent["ConditionExpression"]
    assert "balance" not in condition and "ann" not in condition and "30" not in condition
    assert set(sent["ExpressionAttributeNames"].values()) >= {"balance", "owner"}
    assert {"N": "30"} in sent["ExpressionAttributeValues"].values()


def test_a_refused_save_costs_one_read_to_explain_and_writes_nothing(models, requests):
    wallet = Wallet.create(id="w1", balance=50)
    requests.reset()
    wallet.balance = 0
    with pytest.raises(ConditionFailedError):
        wallet.save(condition={"balance__gte": 100})
    assert requests.operations == ["UpdateItem", "GetItem"]
    assert Wallet.get(id="w1").balance == 50


def test_a_conditional_delete_of_a_missing_row_is_not_found(models):
    wallet = Wallet.create(id="w1", balance=50)
    Wallet.get(id="w1").delete()
    with pytest.raises(NotFoundError):
        wallet.delete(condition={"balance": 50})


@pytest.mark.parametrize("model", [Wallet, Named])
def test_proof_without_the_condition_in_the_request_a_failing_save_goes_through(
    models, monkeypatch, model
):
    data = {"id": "x1", "balance": 50} | ({"handle": "h"} if model is Named else {})
    row = model.create(**data)
    monkeypatch.setattr(_writes, "also", lambda table, ex, schema, condition: "")
    row.balance = 0
    if model is Named:
        row.handle = "h2"  # a unique change: the write goes by transaction
    row.save(condition={"balance__gte": 100})  # would be refused with the condition
    assert model.get(id="x1").balance == 0


def test_proof_without_the_condition_in_the_request_a_failing_delete_goes_through(
    models, monkeypatch
):
    wallet = Wallet.create(id="w1", balance=50)
    monkeypatch.setattr(_writes, "also", lambda table, ex, schema, condition: "")
    wallet.delete(condition={"balance__gte": 100})
    assert Wallet.get(id="w1") is None
