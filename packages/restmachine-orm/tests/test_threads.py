from __future__ import annotations

import threading

import pytest
from models import User

from restmachine_orm import DuplicateKeyError


def race(workers: int, action) -> list[object]:
    barrier = threading.Barrier(workers)
    outcomes: list[object] = [None] * workers

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = action(index)
        except Exception as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("round_", range(5))
def test_eight_threads_creating_one_key_give_exactly_one_success(backend, round_):
    outcomes = race(8, lambda i: User.create(id="same", email=f"u{i}@x.io", name=str(i)))
    winners = [o for o in outcomes if isinstance(o, User)]
    assert len(winners) == 1
    assert sum(isinstance(o, DuplicateKeyError) for o in outcomes) == 7
    assert User.get(id="same") == winners[0]
    assert User.where().count() == 1


@pytest.mark.parametrize("round_", range(5))
def test_eight_threads_claiming_one_unique_value_give_exactly_one_success(backend, round_):
    outcomes = race(8, lambda i: User.create(id=f"u{i}", email="same@x.io", name=str(i)))
    winners = [o for o in outcomes if isinstance(o, User)]
    assert len(winners) == 1
    assert all(
        isinstance(o, DuplicateKeyError) and o.field == "email"
        for o in outcomes
        if o is not winners[0]
    )
    assert [u.id for u in User.where(email="same@x.io")] == [winners[0].id]
    assert User.where().count() == 1
