"""Concurrent writers: a key or a unique value is won by exactly one of them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sample_models import Account, User

from restmachine_orm import DuplicateKeyError

THREADS = 8


def race(write: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run ``write(n)`` in eight threads released together; return results and errors."""
    barrier = threading.Barrier(THREADS)
    lock = threading.Lock()
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        barrier.wait()
        try:
            value = write(n)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(value)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()
    return results, errors


@pytest.mark.parametrize("attempt", range(5))
def test_one_winner_for_the_same_key(attempt: int) -> None:
    results, errors = race(lambda n: User.create(id="same", email=f"u{n}@example.com", name=str(n)))
    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(error, DuplicateKeyError) for error in errors)
    assert all(error.fields == ("id",) and error.value == "same" for error in errors)  # type: ignore[attr-defined]
    [winner] = results
    assert User.all() == [winner]
    # Only the winner's unique value is taken.
    for n in range(THREADS):
        email = f"u{n}@example.com"
        assert User.where(email=email).count() == (1 if email == winner.email else 0)


@pytest.mark.parametrize("attempt", range(5))
def test_one_winner_for_the_same_unique_value(attempt: int) -> None:
    results, errors = race(lambda n: Account.create(id=f"a{n}", email="same@example.com"))
    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(error, DuplicateKeyError) for error in errors)
    assert all(error.field == "email" for error in errors)  # type: ignore[attr-defined]
    [winner] = results
    assert Account.all() == [winner]
    assert Account.where(email="same@example.com").first() == winner


@pytest.mark.parametrize("attempt", range(3))
def test_one_winner_when_existing_rows_move_to_the_same_unique_value(attempt: int) -> None:
    accounts = [Account.create(id=f"a{n}", email=f"a{n}@example.com") for n in range(THREADS)]

    def move(n: int) -> Account:
        account = accounts[n]
        account.email = "same@example.com"
        return account.save()

    results, errors = race(move)
    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(error, DuplicateKeyError) for error in errors)
    emails = sorted(a.email for a in Account.all())
    assert emails.count("same@example.com") == 1
    assert len(emails) == THREADS


def test_different_keys_all_succeed() -> None:
    results, errors = race(lambda n: User.create(id=f"u{n}", email=f"u{n}@example.com", name="x"))
    assert errors == []
    assert len(results) == THREADS
    assert User.where().count() == THREADS
