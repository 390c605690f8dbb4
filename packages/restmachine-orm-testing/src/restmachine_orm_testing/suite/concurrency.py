"""Writers racing each other, and optimistic locking with a version field.

A race the test can arrange, it arranges: writers read, wait until all have read, then
write, so the conflict happens on every backend in every run, and the test counts it. A
race inside one backend call (eight creates of one key) is up to the backend's timing, so
the writers are released together, and for several rounds. The package's own tests run
these classes on in-memory backends with one guarantee broken (no lock between check and
write, a save written field by field, versions ignored): exactly the tests of that
guarantee fail.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from restmachine_orm import ConcurrentModificationError, DuplicateKeyError

from ._base import SuiteBase, since
from .models import Account, Member

__all__ = ["TestConcurrentWrites", "TestOptimisticLocking"]

Orm = tuple[Any, str]
T = TypeVar("T")
WRITERS = 8
#: Races per test where the race is inside one backend call.
ROUNDS = 3


def race(task: Callable[[int], T], writers: int = WRITERS) -> list[T | BaseException]:
    """Run ``task(i)`` in ``writers`` threads released together; each result or error."""
    start = threading.Barrier(writers)

    def run(index: int) -> T | BaseException:
        start.wait()
        try:
            return task(index)
        except Exception as error:  # every outcome is the test's to judge
            return error

    with ThreadPoolExecutor(writers) as pool:
        return list(pool.map(run, range(writers)))


def split(outcomes: list[T | BaseException]) -> tuple[list[T], list[BaseException]]:
    """The successes and the errors of a race."""
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    return [outcome for outcome in outcomes if not isinstance(outcome, BaseException)], errors


def one_winner(outcomes: list[T | BaseException], error_type: type[Exception]) -> T:
    """The one success of a race that all but one writer must lose with ``error_type``."""
    winners, errors = split(outcomes)
    assert len(winners) == 1, f"{len(winners)} of {WRITERS} racing writers won: {winners}"
    assert len(errors) == WRITERS - 1
    assert all(isinstance(error, error_type) for error in errors), errors
    return winners[0]


def one_creator(outcomes: list[T | BaseException], field: str) -> T:
    """The one success of racing creates; every loser refused naming ``field`` as taken."""
    winner = one_winner(outcomes, DuplicateKeyError)
    refused = [getattr(error, "fields", None) for error in split(outcomes)[1]]
    assert refused == [(field,)] * (WRITERS - 1), refused
    return winner


def account(**extra: Any) -> dict[str, Any]:
    """The data of an account, with overrides."""
    return {"id": "a1", "handle": "ann", "owner": "Ann"} | extra


def stale_copy(client: Any, **changes: Any) -> Account:
    """A copy of account ``a1`` read before another copy of it was saved with ``changes``."""
    client.create_and_verify(Account, **account())
    first = client.get_and_verify_exists(Account, id="a1")
    stale: Account = client.get_and_verify_exists(Account, id="a1")
    client.update_and_verify(first, **changes)
    return stale


class TestConcurrentWrites(SuiteBase):
    """Threads writing the same row, key or unique value at the same moment."""

    @since("1.1")
    def test_one_of_eight_creates_of_one_key_wins(self, orm: Orm) -> None:
        client, _ = orm

        def one_round(key: str) -> Member:
            return one_creator(
                race(lambda i: Member.create(id=key, email=f"{key}-m{i}@example.com", name="M")),
                "id",
            )

        winners = [one_round(f"k{round_}") for round_ in range(ROUNDS)]
        assert sorted(client.all_models(Member), key=lambda member: member.id) == winners
        # The losers' unique values were not left claimed.
        loser = next(i for i in range(WRITERS) if f"-m{i}@" not in winners[0].email)
        client.create_and_verify(Member, id="later", email=f"k0-m{loser}@example.com", name="L")

    @since("1.1")
    def test_one_of_eight_claims_of_one_unique_value_wins(self, orm: Orm) -> None:
        client, _ = orm

        def one_round(email: str) -> Member:
            return one_creator(
                race(lambda i: Member.create(id=f"{email}{i}", email=email, name="M")), "email"
            )

        winners = [one_round(f"same{round_}@example.com") for round_ in range(ROUNDS)]
        assert sorted(client.all_models(Member), key=lambda member: member.email) == winners

    @since("1.1")
    def test_concurrent_saves_of_one_row_leave_one_write_whole(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Member, id="m1", email="m@example.com", name="start")

        def one_round(round_: int) -> None:
            copies = [client.get_and_verify_exists(Member, id="m1") for _ in range(WRITERS)]

            def write(i: int) -> tuple[str, int, str]:
                # Every field new (a save writes only the fields it changes), and returned as
                # sent: save() may refresh the copy with what is stored.
                whole = (f"r{round_} name{i}", 1 + round_ * WRITERS + i, f"r{round_} nick{i}")
                copy = copies[i]
                copy.name, copy.age, copy.nickname = whole
                copy.save()
                return whole

            written, errors = split(race(write))
            assert errors == []
            stored = client.get_and_verify_exists(Member, id="m1")
            whole = (stored.name, stored.age, stored.nickname)
            assert whole in written, f"stored {whole} is no one write of {written}"

        for round_ in range(ROUNDS):
            one_round(round_)


class TestOptimisticLocking(SuiteBase):
    """A ``Field(version=True)`` turns lost updates into ``ConcurrentModificationError``."""

    @since("1.1")
    def test_create_stores_version_one_and_every_write_adds_one(self, orm: Orm) -> None:
        client, _ = orm
        created = client.create_and_verify(Account, **account(version=7))
        assert created.version == 1
        assert client.update_and_verify(created, note="x").version == 2
        assert client.upsert_and_verify(Account, **account(note="y")).version == 3
        assert client.upsert_and_verify(Account, **account(id="a2", handle="bo")).version == 1

    @since("1.1")
    def test_a_stale_save_is_refused_and_writes_nothing(self, orm: Orm) -> None:
        client, _ = orm
        stale = stale_copy(client, balance=10)
        error = client.expect_update_failure(
            stale, ConcurrentModificationError, balance=99, note="stale"
        )
        assert (error.model, error.key, error.expected, error.actual) == (
            "Account",
            {"id": "a1"},
            1,
            2,
        )
        assert "Account(id='a1')" in str(error) and "version 2" in str(error)
        stored = client.get_and_verify_exists(Account, id="a1")
        assert (stored.balance, stored.note, stored.version) == (10, "", 2)

    @since("1.1")
    def test_a_stale_save_of_a_unique_value_claims_nothing(self, orm: Orm) -> None:
        client, _ = orm
        stale = stale_copy(client, note="moved on")
        client.expect_update_failure(stale, ConcurrentModificationError, handle="new-handle")
        assert client.get_and_verify_exists(Account, id="a1").handle == "ann"
        client.create_and_verify(Account, **account(id="a2", handle="new-handle"))
        client.expect_create_failure(Account, DuplicateKeyError, **account(id="a3"))

    @since("1.1")
    def test_a_stale_delete_is_refused_and_keeps_the_row(self, orm: Orm) -> None:
        client, _ = orm
        stale = stale_copy(client, balance=5)
        try:
            stale.delete()
        except ConcurrentModificationError as error:
            assert (error.expected, error.actual) == (1, 2)
        else:
            raise AssertionError("a stale delete was not refused")
        assert client.get_and_verify_exists(Account, id="a1").balance == 5
        client.delete_and_verify(client.get_and_verify_exists(Account, id="a1"))

    @since("1.1")
    def test_one_of_eight_writers_from_one_version_wins(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Account, **account())

        def one_round(round_: int) -> None:
            copies = [client.get_and_verify_exists(Account, id="a1") for _ in range(WRITERS)]

            def write(i: int) -> str:
                note = f"round {round_} writer {i}"
                copies[i].note = note
                copies[i].save()
                return note

            winner = one_winner(race(write), ConcurrentModificationError)
            stored = client.get_and_verify_exists(Account, id="a1")
            assert (stored.note, stored.version) == (winner, round_ + 2)

        for round_ in range(ROUNDS):
            one_round(round_)

    @since("1.1")
    def test_writers_that_retry_on_conflict_lose_no_update(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Account, **account())
        writers, rounds = 4, 5
        # Every writer's first read comes before any write: all but one first save conflict.
        all_read = threading.Barrier(writers, timeout=60)

        def deposit(_: int) -> int:
            conflicts, waited = 0, False
            for _ in range(rounds):
                while True:
                    row = Account.get(id="a1")
                    assert row is not None
                    row.balance += 1
                    if not waited:
                        all_read.wait()
                        waited = True
                    try:
                        row.save()
                        break
                    except ConcurrentModificationError:
                        conflicts += 1
            return conflicts

        conflicts, errors = split(race(deposit, writers))
        assert errors == []
        assert sum(conflicts) >= writers - 1, f"{sum(conflicts)} conflicts: the race never ran"
        stored = client.get_and_verify_exists(Account, id="a1")
        assert (stored.balance, stored.version) == (writers * rounds, writers * rounds + 1)
