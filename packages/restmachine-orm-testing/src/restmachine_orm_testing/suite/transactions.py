"""Transactions: ``with transaction() as tx:`` writes every action or none (suite 1.5).

A cancelled transaction raises ``TransactionError`` whose ``reasons`` say, per action, what
that action alone would have raised; nothing is written. The package's own tests run this
class on in-memory backends with the guarantee broken (actions applied one by one,
conditions ignored, checks and writes apart): the tests of that guarantee fail.
"""

from __future__ import annotations

import random
from typing import Any

from restmachine_orm import (
    ConcurrentModificationError,
    ConditionFailedError,
    DuplicateKeyError,
    F,
    NotFoundError,
    QueryError,
    Transaction,
    TransactionError,
    transaction,
)

from ..markers import requires
from ._base import SuiteBase, refused, since
from .concurrency import WRITERS, race
from .models import Account, Awkward, Member

__all__ = ["TestTransactions"]

Orm = tuple[Any, str]
#: The bank of the transfer test: accounts, their opening balance, transfers per writer.
ACCOUNTS = 5
OPENING = 100
TRANSFERS = 50


@requires("transactions", "conditions", "atomic_updates")
class TestTransactions(SuiteBase):
    """Writes of several rows, of several models, applied all together or not at all."""

    @since("1.5")
    def test_every_kind_of_action_commits_together(self, orm: Orm) -> None:
        client, _ = orm
        ann = client.create_and_verify(Member, id="m1", email="ann@x.io", name="Ann")
        gone = client.create_and_verify(Member, id="m2", email="bo@x.io", name="Bo")
        account = client.create_and_verify(Account, id="a1", handle="ann", balance=10)
        client.create_and_verify(Awkward, key="k", order="o", count=1)
        ann.name = "Ann B"

        def build(tx: Transaction) -> None:
            tx.save(ann, condition={"name": "Ann"})
            tx.delete(gone)
            tx.create(Member, id="m3", email="bo@x.io", name="Cy")  # bo@x.io: see below
            tx.update(account, balance=F("balance") + 5, condition={"balance__gte": 10})
            tx.upsert(Awkward, key="k", order="p", name="new")
            tx.check(Awkward, {"key": "k", "order": "o"}, count__gte=1)

        # A value the transaction releases stays taken until it commits: Cy cannot have it.
        client.expect_transaction_failure(
            build, reasons=[None, None, DuplicateKeyError, None, None, None]
        )
        ann.name = "Ann B"
        actions = client.transaction_and_verify(
            lambda tx: (
                tx.save(ann, condition={"name": "Ann"}),
                tx.delete(gone),
                tx.create(Member, id="m3", email="cy@x.io", name="Cy"),
                tx.update(account, balance=F("balance") + 5, condition={"balance__gte": 10}),
                tx.upsert(Awkward, key="k", order="p", name="new"),
                tx.check(Awkward, {"key": "k", "order": "o"}, count__gte=1),
            )
        )
        assert [action.verb for action in actions] == [
            "save",
            "delete",
            "create",
            "update",
            "upsert",
            "check",
        ]
        assert (account.balance, account.version) == (15, 2)  # refreshed from storage
        assert ann.updated_at is not None
        client.create_and_verify(Member, id="m4", email="bo@x.io", name="Di")  # released
        client.expect_create_failure(Member, DuplicateKeyError, id="m5", email="cy@x.io", name="E")

    @since("1.5")
    def test_a_cancelled_transaction_says_why_per_action_and_writes_nothing(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Member, id="m1", email="ann@x.io", name="Ann")
        account = client.create_and_verify(Account, id="a1", handle="ann", balance=10)
        stale = client.get_and_verify_exists(Account, id="a1")
        client.update_and_verify(account, note="moved on")
        poor = client.create_and_verify(Account, id="a2", handle="bo", balance=10)
        client.create_and_verify(Awkward, key="k", order="o", count=1)

        error = client.expect_transaction_failure(
            lambda tx: (
                tx.create(Member, id="m1", email="new@x.io", name="Key taken"),
                tx.create(Member, id="m2", email="ann@x.io", name="Value taken"),
                tx.create(Member, id="m3", email="free@x.io", name="Fine"),
                tx.save(stale),
                tx.check(Awkward, {"key": "k", "order": "o"}, count__gte=2),
                tx.check(Awkward, {"key": "k", "order": "nope"}),
                tx.update(poor, balance=F("balance") - 20, condition={"balance__gte": 20}),
            ),
            reasons=[
                DuplicateKeyError,
                DuplicateKeyError,
                None,
                ConcurrentModificationError,
                ConditionFailedError,
                NotFoundError,
                ConditionFailedError,
            ],
        )
        key_taken, value_taken = error.reasons[0], error.reasons[1]
        assert isinstance(key_taken, DuplicateKeyError) and not key_taken.unique
        assert isinstance(value_taken, DuplicateKeyError) and value_taken.field == "email"
        client.get_and_verify_not_exists(Member, id="m3")
        assert "action 4 (ConcurrentModificationError)" in str(error)

    @since("1.5")
    def test_an_exception_inside_the_block_sends_nothing(self, orm: Orm) -> None:
        client, _ = orm
        account = client.create_and_verify(Account, id="a1", handle="ann", balance=10)
        try:
            with transaction() as tx:
                tx.create(Member, id="m1", email="ann@x.io", name="Ann")
                tx.update(account, balance=F("balance") + 1)
                raise LookupError("changed my mind")
        except LookupError:
            pass
        client.get_and_verify_not_exists(Member, id="m1")
        assert client.get_and_verify_exists(Account, id="a1").balance == 10
        refused(
            lambda: tx.create(Member, id="m2", email="b@x.io", name="B"), QueryError, "discarded"
        )

    @since("1.5")
    def test_reads_inside_the_block_see_committed_data_only(self, orm: Orm) -> None:
        client, _ = orm
        account = client.create_and_verify(Account, id="a1", handle="ann", balance=10)
        with transaction() as tx:
            tx.create(Member, id="m1", email="ann@x.io", name="Ann")
            tx.update(account, balance=F("balance") + 5)
            assert Member.get(id="m1") is None
            stored = Account.get(id="a1")
            assert stored is not None and stored.balance == 10
        assert client.get_and_verify_exists(Member, id="m1").name == "Ann"
        assert client.get_and_verify_exists(Account, id="a1").balance == 15

    @since("1.5")
    def test_a_row_or_a_unique_value_twice_is_refused_before_anything_is_sent(
        self, orm: Orm
    ) -> None:
        client, _ = orm
        account = client.create_and_verify(Account, id="a1", handle="ann", balance=10)
        with transaction() as tx:
            tx.update(account, balance=F("balance") + 1)
            refused(lambda: tx.update(account, note="again"), QueryError, "touches a row once")
            tx.create(Member, id="m1", email="same@x.io", name="A")
            refused(
                lambda: tx.create(Member, id="m2", email="same@x.io", name="B"),
                QueryError,
                "both set the unique field email",
            )
            refused(lambda: tx.check(Account, {"id": "a1"}), QueryError, "touches a row once")
        # What was refused never joined: the rest committed.
        assert client.get_and_verify_exists(Account, id="a1").balance == 11
        client.get_and_verify_exists(Member, id="m1")
        client.get_and_verify_not_exists(Member, id="m2")

    @since("1.5")
    def test_more_than_100_actions_are_refused_before_anything_is_sent(self, orm: Orm) -> None:
        client, _ = orm
        with transaction() as tx:
            for number in range(100):
                tx.create(Awkward, key="k", order=f"{number:03}")
            refused(lambda: tx.create(Awkward, key="k", order="100"), QueryError, "at most 100")
            collected = tx.actions
        assert len(collected) == 100
        assert client.count_models(Awkward) == 100

    @since("1.5")
    def test_a_unique_value_moves_with_its_row(self, orm: Orm) -> None:
        client, _ = orm
        ann = client.create_and_verify(Member, id="m1", email="ann@x.io", name="Ann")
        bo = client.create_and_verify(Member, id="m2", email="bo@x.io", name="Bo")
        client.expect_transaction_failure(
            lambda tx: (tx.update(ann, email="bo@x.io"), tx.update(bo, name="Bo B")),
            reasons=[DuplicateKeyError, None],
        )
        client.transaction_and_verify(
            lambda tx: (tx.update(ann, email="ann2@x.io"), tx.update(bo, email="bo2@x.io"))
        )
        client.create_and_verify(Member, id="m3", email="ann@x.io", name="Cy")
        client.create_and_verify(Member, id="m4", email="bo@x.io", name="Di")
        client.expect_create_failure(Member, DuplicateKeyError, id="m5", email="bo2@x.io", name="E")

    @since("1.5")
    def test_concurrent_transfers_conserve_money_and_overdraw_no_account(self, orm: Orm) -> None:
        client, _ = orm
        for number in range(ACCOUNTS):
            client.create_and_verify(Account, id=f"a{number}", handle=f"h{number}", balance=OPENING)

        def transfers(writer: int) -> int:
            chance = random.Random(writer)
            refusals = 0
            for _ in range(TRANSFERS):
                source, target = chance.sample(range(ACCOUNTS), 2)
                amount = chance.randint(10, 60)
                try:
                    with transaction() as tx:
                        tx.update(
                            Account.model_construct(id=f"a{source}"),
                            balance=F("balance") - amount,
                            condition={"balance__gte": amount},
                        )
                        tx.update(
                            Account.model_construct(id=f"a{target}"),
                            balance=F("balance") + amount,
                        )
                except TransactionError as error:
                    assert isinstance(error.reasons[0], ConditionFailedError), error
                    assert error.reasons[1] is None, error
                    refusals += 1
            return refusals

        outcomes = race(transfers)
        errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        assert not errors, errors
        balances = [client.get_and_verify_exists(Account, id=f"a{n}").balance for n in range(5)]
        assert sum(balances) == ACCOUNTS * OPENING, f"money was made or lost: {balances}"
        assert min(balances) >= 0, f"an account was overdrawn: {balances}"
        refusals = sum(outcome for outcome in outcomes if isinstance(outcome, int))
        assert refusals < WRITERS * TRANSFERS, "no transfer went through"
