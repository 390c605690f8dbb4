"""Writers racing each other, and optimistic locking with a version field."""

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


def account(**extra: Any) -> dict[str, Any]:
    """The data of an account, with overrides."""
    return {"id": "a1", "handle": "ann", "owner": "Ann"} | extra


class TestConcurrentWrites(SuiteBase):
    """Threads writing the same row, key or unique value at the same moment."""

    @since("1.1")
    def test_one_of_eight_creates_of_one_key_wins(self, orm: Orm) -> None:
        client, _ = orm
        outcomes = race(lambda i: Member.create(id="same", email=f"m{i}@example.com", name=f"M{i}"))
        (winner,), errors = split(outcomes)
        assert len(errors) == WRITERS - 1
        assert all(isinstance(error, DuplicateKeyError) for error in errors), errors
        assert all(error.fields == ("id",) for error in errors)  # type: ignore[attr-defined]
        assert client.all_models(Member) == [winner]
        # The losers' unique values were not left claimed.
        loser = next(i for i in range(WRITERS) if f"m{i}@" not in winner.email)
        client.create_and_verify(Member, id="later", email=f"m{loser}@example.com", name="L")

    @since("1.1")
    def test_one_of_eight_claims_of_one_unique_value_wins(self, orm: Orm) -> None:
        client, _ = orm
        outcomes = race(lambda i: Member.create(id=f"m{i}", email="same@example.com", name="M"))
        (winner,), errors = split(outcomes)
        assert len(errors) == WRITERS - 1
        assert all(isinstance(error, DuplicateKeyError) for error in errors), errors
        assert all(error.fields == ("email",) for error in errors)  # type: ignore[attr-defined]
        assert client.all_models(Member) == [winner]

    @since("1.1")
    def test_concurrent_saves_of_one_row_leave_one_write_whole(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Member, id="m1", email="m@example.com", name="start")
        copies = [client.get_and_verify_exists(Member, id="m1") for _ in range(WRITERS)]

        def write(i: int) -> tuple[str, int, str]:
            copy = copies[i]
            copy.name, copy.age, copy.nickname = f"name{i}", i, f"nick{i}"
            copy.save()
            return (copy.name, copy.age, copy.nickname)

        written, errors = split(race(write))
        assert errors == []
        stored = client.get_and_verify_exists(Member, id="m1")
        assert (stored.name, stored.age, stored.nickname) in written


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
        client.create_and_verify(Account, **account())
        first = client.get_and_verify_exists(Account, id="a1")
        stale = client.get_and_verify_exists(Account, id="a1")
        client.update_and_verify(first, balance=10)
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
        client.create_and_verify(Account, **account())
        first = client.get_and_verify_exists(Account, id="a1")
        stale = client.get_and_verify_exists(Account, id="a1")
        client.update_and_verify(first, note="moved on")
        client.expect_update_failure(stale, ConcurrentModificationError, handle="new-handle")
        assert client.get_and_verify_exists(Account, id="a1").handle == "ann"
        client.create_and_verify(Account, **account(id="a2", handle="new-handle"))
        client.expect_create_failure(Account, DuplicateKeyError, **account(id="a3"))

    @since("1.1")
    def test_a_stale_delete_is_refused_and_keeps_the_row(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Account, **account())
        first = client.get_and_verify_exists(Account, id="a1")
        stale = client.get_and_verify_exists(Account, id="a1")
        client.update_and_verify(first, balance=5)
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
        copies = [client.get_and_verify_exists(Account, id="a1") for _ in range(WRITERS)]

        def write(i: int) -> str:
            note = f"writer {i}"
            copies[i].note = note
            copies[i].save()
            return note

        (winner,), errors = split(race(write))
        assert len(errors) == WRITERS - 1
        assert all(isinstance(error, ConcurrentModificationError) for error in errors), errors
        stored = client.get_and_verify_exists(Account, id="a1")
        assert (stored.note, stored.version) == (winner, 2)

    @since("1.1")
    def test_writers_that_retry_on_conflict_lose_no_update(self, orm: Orm) -> None:
        client, _ = orm
        client.create_and_verify(Account, **account())
        rounds = 5

        def deposit(_: int) -> int:
            conflicts = 0
            for _ in range(rounds):
                while True:
                    row = Account.get(id="a1")
                    assert row is not None
                    row.balance += 1
                    try:
                        row.save()
                        break
                    except ConcurrentModificationError:
                        conflicts += 1
            return conflicts

        writers = 4
        _, errors = split(race(deposit, writers))
        assert errors == []
        stored = client.get_and_verify_exists(Account, id="a1")
        assert (stored.balance, stored.version) == (writers * rounds, writers * rounds + 1)
