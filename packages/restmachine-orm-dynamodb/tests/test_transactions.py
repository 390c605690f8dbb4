"""Transactions on DynamoDB: what ``with transaction() as tx:`` sends.

The suite (``TestTransactions``) proves the behaviour on every backend; these tests pin down
the requests: one ``TransactWriteItems`` with a client token and placeholders only, one
``BatchGetItem`` to read back rows the server computed, and DynamoDB's limits (100 items,
4 MB) refused before anything is sent. The resend after a lost answer is in
``test_faults``.
"""

from __future__ import annotations

import pytest

from restmachine_orm import (
    ConditionFailedError,
    DuplicateKeyError,
    F,
    Field,
    Model,
    QueryError,
    TransactionError,
    transaction,
)


class Wallet(Model):
    id: str = Field(primary_key=True)
    owner: str = ""
    balance: int = 0


class Handle(Model):
    id: str = Field(primary_key=True)
    handle: str = Field(unique=True)
    blob: str = ""


@pytest.fixture
def models(bind):
    bind(Wallet, Handle)


def test_a_transfer_is_one_transaction_and_one_batch_read(models, requests):
    ann, bob = Wallet.create(id="w1", owner="ann", balance=50), Wallet.create(id="w2")
    requests.reset()
    with transaction() as tx:
        tx.update(ann, balance=F("balance") - 30, condition={"balance__gte": 30})
        tx.update(bob, balance=F("balance") + 30)
    assert requests.operations == ["TransactWriteItems", "BatchGetItem"]
    body = requests.sent[0][1]
    assert len(body["ClientRequestToken"]) == 36
    debit = body["TransactItems"][0]["Update"]
    for text in (debit["UpdateExpression"], debit["ConditionExpression"]):
        assert "balance" not in text and "30" not in text
    assert (ann.balance, bob.balance) == (20, 30)  # read back after the commit


def test_creates_and_deletes_send_nothing_but_the_transaction(models, requests):
    gone = Wallet.create(id="w0")
    requests.reset()
    with transaction() as tx:
        tx.create(Wallet, id="w1")
        tx.create(Handle, id="h1", handle="ann")
        tx.delete(gone)
    assert requests.operations == ["TransactWriteItems"]
    items = requests.sent[0][1]["TransactItems"]
    assert [next(iter(item)) for item in items] == ["Put", "Put", "Put", "Delete"]  # + a claim


def test_a_cancelled_transaction_is_explained_by_reading_its_rows(models, requests):
    ann = Wallet.create(id="w1", balance=10)
    Handle.create(id="h1", handle="taken")
    requests.reset()
    with pytest.raises(TransactionError) as cancelled, transaction() as tx:
        tx.update(ann, balance=F("balance") - 30, condition={"balance__gte": 30})
        tx.create(Handle, id="h2", handle="taken")
        tx.create(Wallet, id="w2")
    reasons = cancelled.value.reasons
    assert [type(reason) for reason in reasons] == [
        ConditionFailedError,
        DuplicateKeyError,
        type(None),
    ]
    # Sent once (4 items: the update, the row and claim of h2, the row of w2); then each
    # row read, and the sentinel in h2's way looked at (a read, or a check-and-delete).
    sent = [body for operation, body in requests.sent if operation == "TransactWriteItems"]
    first, *rest = [len(body["TransactItems"]) for body in sent]
    assert first == 4 and rest in ([], [2])
    assert requests.counts()["GetItem"] >= 3
    assert Wallet.get(id="w2") is None and Wallet.get(id="w1").balance == 10


def test_more_than_100_items_are_refused_before_sending(models, requests):
    # 50 creates with a unique value each are 100 items; the 51st makes 102.
    with pytest.raises(QueryError, match=r"need 102 items .* at most 100"), transaction() as tx:
        for number in range(51):
            tx.create(Handle, id=f"h{number}", handle=f"v{number}")
    assert requests.operations == []
    with transaction() as tx:
        for number in range(50):
            tx.create(Handle, id=f"h{number}", handle=f"v{number}")
    assert requests.operations == ["TransactWriteItems"]


def test_more_than_4_mb_is_refused_before_sending(models, requests):
    blob = "x" * 380_000
    with pytest.raises(QueryError, match="at most 4194304"), transaction() as tx:
        for number in range(12):
            tx.create(Handle, id=f"h{number}", handle=f"v{number}", blob=blob)
    assert requests.operations == []


def test_a_value_one_row_releases_and_another_claims_is_taken_without_sending(models, requests):
    ann = Handle.create(id="h1", handle="ann")
    requests.reset()
    with pytest.raises(TransactionError) as cancelled, transaction() as tx:
        tx.delete(ann)
        tx.create(Handle, id="h2", handle="ann")
    assert [type(r) for r in cancelled.value.reasons] == [type(None), DuplicateKeyError]
    # DynamoDB would refuse a request touching the sentinel twice: none was sent (a look at
    # who holds the value, a check-and-delete of an orphan, is all that was).
    sent = [body for operation, body in requests.sent if operation == "TransactWriteItems"]
    assert not [item for body in sent for item in body["TransactItems"] if "Put" in item]
    assert Handle.get(id="h1") is not None
