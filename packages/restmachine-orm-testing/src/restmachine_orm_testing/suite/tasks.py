"""Tasks racing on one event loop, through the awaitable API (``async def`` tests, ``aorm``).

Eight tasks are started together on the test's loop and gathered; as with the threads of
``concurrency``, the race inside one backend call is up to the backend's timing, so it is
run for several rounds. The package's own tests run this class on an in-memory backend
whose check and write are not held together by a lock: these tests fail there. A blocking
network call on the loop fails every test of the class (see ``forbid_blocking_io``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ._base import SuiteBase, since
from .concurrency import ROUNDS, WRITERS, one_creator
from .models import Member

__all__ = ["TestConcurrentTasks", "gather"]

AsyncOrm = tuple[Any, str]
T = TypeVar("T")


async def gather(
    task: Callable[[int], Awaitable[T]], tasks: int = WRITERS
) -> list[T | BaseException]:
    """Run ``task(i)`` as ``tasks`` tasks on the running loop, together; each result or error."""
    return await asyncio.gather(*(task(index) for index in range(tasks)), return_exceptions=True)


class TestConcurrentTasks(SuiteBase):
    """Tasks on one event loop creating one key, or claiming one unique value, at once."""

    _orm_forbid_blocking_io = True

    @since("1.3")
    async def test_one_of_eight_tasks_creating_one_key_wins(self, aorm: AsyncOrm) -> None:
        client, _ = aorm

        async def one_round(key: str) -> Member:
            return one_creator(
                await gather(
                    lambda i: Member.acreate(id=key, email=f"{key}-t{i}@example.com", name="T")
                ),
                "id",
            )

        winners = [await one_round(f"k{round_}") for round_ in range(ROUNDS)]
        stored = sorted(await client.all_models(Member), key=lambda member: member.id)
        assert stored == winners
        # The losers' unique values were not left claimed.
        loser = next(i for i in range(WRITERS) if f"-t{i}@" not in winners[0].email)
        await client.create_and_verify(
            Member, id="later", email=f"k0-t{loser}@example.com", name="L"
        )

    @since("1.3")
    async def test_one_of_eight_tasks_claiming_one_unique_value_wins(self, aorm: AsyncOrm) -> None:
        client, _ = aorm

        async def one_round(email: str) -> Member:
            return one_creator(
                await gather(lambda i: Member.acreate(id=f"{email}{i}", email=email, name="T")),
                "email",
            )

        winners = [await one_round(f"same{round_}@example.com") for round_ in range(ROUNDS)]
        stored = sorted(await client.all_models(Member), key=lambda member: member.email)
        assert stored == winners
