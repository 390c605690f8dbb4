"""Writes apply once though their answers are lost: write marks, lanes, pruning (``_once``).

Faults come from a ``FaultPlan`` acted out in the transport: the request reaches the
server and is applied, then its answer is dropped, and the protocol's standard retries
send it again. Each guarantee is also run with its mechanism broken (the mark's condition
dropped, the recognition of a landed mark turned off): the same test then fails, which
is what shows it can.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import make_client

from restmachine_orm import DuplicateKeyError, F, Field, Model, NotFoundError
from restmachine_orm.faults import FaultPlan
from restmachine_orm_dynamodb import DynamoDBBackend
from restmachine_orm_dynamodb._once import HORIZON, MARK_PREFIX, PRUNE_AT, Mark

#: One first try in four loses its answer: 100 of the 500 answers, a fifth of them.
WRITERS, INCREMENTS, LOST_EVERY = 8, 50, 4


class Tally(Model):
    id: str = Field(primary_key=True)
    count: int = 0


@pytest.fixture
def plan(backend: DynamoDBBackend, bind: Any) -> Iterator[FaultPlan]:
    bind(Tally)
    faults = FaultPlan()
    backend.inject_faults(faults)
    yield faults
    backend.inject_faults(None)


@pytest.fixture
def broken(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Break one part of the mechanism for the rest of the test."""

    def condition_dropped(self: Mark, request: dict[str, Any]) -> dict[str, Any]:
        # Resent as it was first sent: applied whatever the item holds.
        return {**request, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}

    def recognition_off(self: Mark, answer: Any) -> None:
        return None

    parts = {
        "condition": ("guarded", condition_dropped),
        "recognition": ("landed", recognition_off),
    }

    def break_part(part: str) -> None:
        name, replacement = parts[part]
        monkeypatch.setattr(Mark, name, replacement)

    return break_part


def stored_count(backend: DynamoDBBackend) -> int:
    item = backend.client.get_item(
        TableName=backend.table_name,
        Key={"pk": {"S": "Tally#t"}, "sk": {"S": "Tally"}},
        ConsistentRead=True,
    )["Item"]
    return int(item["count"]["N"])


def marks_of(backend: DynamoDBBackend) -> dict[str, Any]:
    item = backend.client.get_item(
        TableName=backend.table_name,
        Key={"pk": {"S": "Tally#t"}, "sk": {"S": "Tally"}},
        ConsistentRead=True,
    )["Item"]
    return {name: value for name, value in item.items() if name.startswith(MARK_PREFIX)}


def increments_by_threads() -> list[BaseException]:
    """Eight threads' 50 increments each; the errors they met."""
    failures: list[BaseException] = []

    def writer() -> None:
        for _ in range(INCREMENTS):
            try:
                Tally.update_by_key({"id": "t"}, count=F("count") + 1)
            except Exception as failure:  # every outcome is the test's to judge
                failures.append(failure)

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def write_marks(backend: DynamoDBBackend, second_client: Any, marks: dict[str, Any]) -> None:
    """Set these mark attributes on the item, as other writers would have."""
    names = {f"#m{n}": name for n, name in enumerate(marks)}
    values = {f":m{n}": value for n, value in enumerate(marks.values())}
    second_client.update_item(
        TableName=backend.table_name,
        Key={"pk": {"S": "Tally#t"}, "sk": {"S": "Tally"}},
        UpdateExpression="SET " + ", ".join(f"#m{n} = :m{n}" for n in range(len(names))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


async def increments_by_tasks() -> None:
    async def writer() -> None:
        for _ in range(INCREMENTS):
            await Tally.aupdate_by_key({"id": "t"}, count=F("count") + 1)

    await asyncio.gather(*(writer() for _ in range(WRITERS)))


def lose_a_fifth(plan: FaultPlan) -> int:
    lost = WRITERS * INCREMENTS // LOST_EVERY
    # First tries only: taking turns, one writer's every try could otherwise be the one.
    plan.lose_response(operation="update", times=lost, every=LOST_EVERY, first_tries=True)
    return lost


def test_eight_threads_losing_a_fifth_of_their_answers_count_exactly_400(backend, plan):
    Tally.create(id="t")
    lost = lose_a_fifth(plan)
    assert increments_by_threads() == []
    assert (plan.pending(), plan.calls("update")) == (0, WRITERS * INCREMENTS + lost)
    assert stored_count(backend) == WRITERS * INCREMENTS


def test_eight_tasks_losing_a_fifth_of_their_answers_count_exactly_400(backend, plan):
    Tally.create(id="t")
    lost = lose_a_fifth(plan)
    asyncio.run(increments_by_tasks())
    assert (plan.pending(), plan.calls("update")) == (0, WRITERS * INCREMENTS + lost)
    assert stored_count(backend) == WRITERS * INCREMENTS


@pytest.mark.parametrize("part", ["condition", "recognition"])
def test_without_the_mark_s_condition_or_its_recognition_lost_answers_count_twice(
    backend, plan, broken, part
):
    Tally.create(id="t")
    lose_a_fifth(plan)
    broken(part)
    failures = increments_by_threads()
    if part == "recognition":
        # The retry is refused as landed, and read as a refusal of the write: the row is
        # there, yet the writer is told it is not (a wrong answer).
        assert failures, "no writer saw its own landed write refused"
        assert all(isinstance(failure, NotFoundError) for failure in failures), failures
    else:
        assert failures == []
        assert stored_count(backend) > WRITERS * INCREMENTS


def test_a_create_whose_answer_is_lost_returns_the_created_row(backend, plan):
    plan.lose_response(operation="create")
    assert Tally.create(id="t", count=7).count == 7
    assert plan.calls("create") == 2
    assert stored_count(backend) == 7


def test_without_recognition_a_lost_create_reports_its_own_row_as_taken(backend, plan, broken):
    broken("recognition")
    plan.lose_response(operation="create")
    with pytest.raises(DuplicateKeyError):
        Tally.create(id="t", count=7)


def test_an_item_holds_one_mark_per_lane_and_lanes_are_reused(endpoint, backend, bind):
    # A backend of its own: its lanes start unused.
    own = DynamoDBBackend(backend.table_name, client=make_client(endpoint))
    bind(Tally)
    Tally.model_backend = own
    try:
        Tally.create(id="t")
        assert increments_by_threads() == []
        assert stored_count(backend) == WRITERS * INCREMENTS
        marks = marks_of(backend)
        assert 1 <= len(marks) <= WRITERS, marks
        # Sequential writes reuse the lane they freed: no mark is added.
        for _ in range(20):
            Tally.update_by_key({"id": "t"}, count=F("count") + 1)
        assert marks_of(backend).keys() == marks.keys()
        name, value = next(iter(marks.items()))
        # What a mark costs: its name and its value, in bytes, as DynamoDB sizes items.
        assert len(name.encode()) + len(value["S"].encode()) <= 30
    finally:
        own.close()


def test_old_marks_are_pruned_once_an_item_holds_many(backend, plan, second_client):
    Tally.create(id="t")
    old = {f"{MARK_PREFIX}gone:{n}": {"S": f"{1:x}.00000000"} for n in range(PRUNE_AT + 4)}
    recent = {f"{MARK_PREFIX}other:0": {"S": "7fffffff.00000000"}}  # far in the future
    write_marks(backend, second_client, {**old, **recent})
    Tally.update_by_key({"id": "t"}, count=F("count") + 1)
    left = marks_of(backend)
    assert set(old).isdisjoint(left)
    assert set(recent) <= set(left)
    assert len(left) == 2  # the recent foreign mark, and this write's own
    assert stored_count(backend) == 1


def test_marks_younger_than_the_horizon_are_kept_however_many(backend, plan, second_client):
    Tally.create(id="t")
    young = f"{int(time.time()) - HORIZON + 60:x}.00000000"
    many = {f"{MARK_PREFIX}busy:{n}": {"S": young} for n in range(PRUNE_AT + 4)}
    write_marks(backend, second_client, many)
    Tally.update_by_key({"id": "t"}, count=F("count") + 1)
    assert set(many) <= set(marks_of(backend))
