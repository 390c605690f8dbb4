"""Races on the real server: one winner, the losers told why, nothing half-written."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from restmachine_orm import DuplicateKeyError, Field, Model


class Handle(Model):
    id: str = Field(primary_key=True)
    handle: str = Field(unique=True)


class Plain(Model):
    id: str = Field(primary_key=True)
    n: int = 0


def race(workers: int, action: Any) -> list[Any]:
    barrier = threading.Barrier(workers)
    outcomes: list[Any] = [None] * workers

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


@pytest.mark.parametrize("model", [Plain, Handle])
def test_eight_threads_creating_one_key(bind, model):
    bind(model)
    data = (
        (lambda i: {"id": "same", "n": i})
        if model is Plain
        else (lambda i: {"id": "same", "handle": f"h{i}"})
    )
    outcomes = race(8, lambda i: model.create(**data(i)))
    winners = [o for o in outcomes if isinstance(o, model)]
    assert len(winners) == 1
    assert sum(isinstance(o, DuplicateKeyError) for o in outcomes) == 7
    assert model.get(id="same") == winners[0]
    if model is Handle:
        # Only the winner's handle is claimed: every loser's value is free again.
        for i in range(8):
            if f"h{i}" != winners[0].handle:
                Handle.create(id=f"free{i}", handle=f"h{i}")


def test_eight_threads_claiming_one_unique_value(bind):
    bind(Handle)
    outcomes = race(8, lambda i: Handle.create(id=f"u{i}", handle="wanted"))
    winners = [o for o in outcomes if isinstance(o, Handle)]
    assert len(winners) == 1
    losers = [o for o in outcomes if o is not winners[0]]
    assert all(isinstance(o, DuplicateKeyError) and o.field == "handle" for o in losers)
    assert [h.id for h in Handle.where(handle="wanted")] == [winners[0].id]
    assert Handle.where().count() == 1
