"""Concurrent writers: a key or a unique value is won by exactly one of them.

Each race runs on an in-memory backend that pauses inside its critical section, between
its checks and its write, so that the racing writers are all there at once: with the
backend's lock, one of them wins; with the lock replaced by a no-op (the last tests), the
same races let several writers win, which shows that these tests can fail.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sample_models import Account, User

from restmachine_orm import DuplicateKeyError, InMemoryBackend, Model

THREADS = 8
# A slow write to a networked store: wide enough that, even on a loaded machine, the other
# writers reach their checks while the first one pauses.
PAUSE = 0.01


class Interleaving(InMemoryBackend):
    """The in-memory backend, pausing after its checks and before its write."""

    def _store(self, *args: Any, **kwargs: Any) -> None:
        time.sleep(PAUSE)
        super()._store(*args, **kwargs)


class Unlocked(Interleaving):
    """The same backend with its lock a no-op: checks and write are separate steps."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = contextlib.nullcontext()  # type: ignore[assignment]


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


def one_winner(results: list[Any], errors: list[BaseException]) -> Any:
    """The race's one winner; every other writer lost with ``DuplicateKeyError``."""
    assert len(results) == 1, f"{len(results)} of {THREADS} racing writers won"
    assert len(errors) == THREADS - 1
    assert all(isinstance(error, DuplicateKeyError) for error in errors), errors
    return results[0]


def one_winner_for_the_same_key() -> None:
    results, errors = race(lambda n: User.create(id="same", email=f"u{n}@example.com", name=str(n)))
    winner = one_winner(results, errors)
    assert all(error.fields == ("id",) and error.value == "same" for error in errors)  # type: ignore[attr-defined]
    assert User.all() == [winner]
    # Only the winner's unique value is taken.
    for n in range(THREADS):
        email = f"u{n}@example.com"
        assert User.where(email=email).count() == (1 if email == winner.email else 0)


def one_winner_for_the_same_unique_value() -> None:
    results, errors = race(lambda n: Account.create(id=f"a{n}", email="same@example.com"))
    winner = one_winner(results, errors)
    assert all(error.field == "email" for error in errors)  # type: ignore[attr-defined]
    assert Account.all() == [winner]
    assert Account.where(email="same@example.com").first() == winner


def one_winner_when_existing_rows_move_to_the_same_unique_value() -> None:
    accounts = [Account.create(id=f"a{n}", email=f"a{n}@example.com") for n in range(THREADS)]

    def move(n: int) -> Account:
        account = accounts[n]
        account.email = "same@example.com"
        return account.save()

    one_winner(*race(move))
    emails = sorted(a.email for a in Account.all())
    assert emails.count("same@example.com") == 1
    assert len(emails) == THREADS


GUARANTEES = [
    one_winner_for_the_same_key,
    one_winner_for_the_same_unique_value,
    one_winner_when_existing_rows_move_to_the_same_unique_value,
]


def by_name(guarantee: Callable[[], None]) -> str:
    return guarantee.__name__


@pytest.mark.parametrize("guarantee", GUARANTEES, ids=by_name)
def test_the_lock_holds(guarantee: Callable[[], None], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Model, "model_backend", Interleaving())
    guarantee()


def test_different_keys_all_succeed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Model, "model_backend", Interleaving())
    results, errors = race(lambda n: User.create(id=f"u{n}", email=f"u{n}@example.com", name="x"))
    assert errors == []
    assert len(results) == THREADS
    assert User.where().count() == THREADS


@pytest.mark.parametrize("guarantee", GUARANTEES, ids=by_name)
def test_without_the_lock_several_writers_win(
    guarantee: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Model, "model_backend", Unlocked())
    with pytest.raises(AssertionError, match=f"[2-{THREADS}] of {THREADS} racing writers won"):
        guarantee()
