"""Failure and time as test inputs: ``orm_faults`` and ``orm_clock`` (suite 1.9).

``TestFaults`` runs on backends with the ``faults`` capability: the backend acts out the
faults below its retries, so these tests hold its retries and its recognition of its own
landed writes to the same answers as the in-memory reference. Throttled and failed
requests are retried within the retry config (``restmachine_orm.faults.ATTEMPTS`` tries),
past it a ``BackendError`` names the operation; batch leftovers are sent again; a write
whose answer was lost applies once and answers as if nothing had been lost, or, for a
delete, raises ``WriteOutcomeUnknownError``. ``TestClock`` holds every backend to the
test's clock. The package's own tests run ``TestFaults`` on in-memory backends that apply
a lost write again, or report their own create as taken: the exactly-once tests fail.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from restmachine_orm import (
    BackendError,
    ConcurrentModificationError,
    DuplicateKeyError,
    F,
    Model,
    WriteOutcomeUnknownError,
)
from restmachine_orm.faults import ATTEMPTS

from ..clock import OrmClock
from ..faults import OrmFaults
from ..markers import requires
from ._base import SuiteBase, refused, since
from .concurrency import WRITERS, race, split
from .models import Account, Awkward, Event, Lease, Member

__all__ = ["TestClock", "TestFaults"]

Orm = tuple[Any, str]
T = TypeVar("T")
#: Increments each writer makes in the exactly-once race; one first try in four loses its
#: answer, which is 100 of the 500 answers: a fifth.
INCREMENTS = 50
LOST_EVERY = 4


def counter(client: Any) -> Any:
    return client.create_and_verify(Awkward, key="k", order="o", count=0)


def counted(faults: OrmFaults, operation: str, call: Callable[[], T]) -> tuple[T, int]:
    """What ``call()`` returns, and how many ``operation`` requests the backend received."""
    before = faults.calls(operation)
    result = call()
    return result, faults.calls(operation) - before


@requires("faults")
class TestFaults(SuiteBase):
    """A backend's retries and lost answers, driven by ``orm_faults``."""

    @since("1.9")
    def test_a_throttled_request_is_retried_to_success(
        self, orm: Orm, orm_faults: OrmFaults
    ) -> None:
        client, _ = orm
        client.create_and_verify(Event, stream="s", seq=1)
        orm_faults.throttle(operation="get", times=2)
        found, calls = counted(orm_faults, "get", lambda: Event.get(stream="s", seq=1))
        assert (found and found.seq, calls) == (1, 3)
        orm_faults.throttle(operation="create")
        _, calls = counted(orm_faults, "create", lambda: Event.create(stream="s", seq=2))
        assert calls == 2
        client.get_and_verify_exists(Event, stream="s", seq=2)

    @since("1.9")
    def test_failures_are_retried_within_the_retry_config(
        self, orm: Orm, orm_faults: OrmFaults
    ) -> None:
        client, _ = orm
        row = counter(client)
        orm_faults.fail(operation="update", times=ATTEMPTS - 1)
        updated, calls = counted(orm_faults, "update", lambda: row.update(count=F("count") + 1))
        assert (updated.count, calls) == (1, ATTEMPTS)
        assert client.get_and_verify_exists(Awkward, key="k", order="o").count == 1

    @since("1.9")
    def test_a_persistent_failure_is_a_backend_error_naming_the_operation(
        self, orm: Orm, orm_faults: OrmFaults
    ) -> None:
        client, _ = orm
        client.create_and_verify(Event, stream="s", seq=1)
        orm_faults.fail(operation="get", model=Event, times=ATTEMPTS)
        before = orm_faults.calls("get")
        error = refused(lambda: Event.get(stream="s", seq=1), BackendError, "get of Event")
        assert not isinstance(error, WriteOutcomeUnknownError)
        assert orm_faults.calls("get") - before == ATTEMPTS
        assert orm_faults.pending() == 0
        assert client.get_and_verify_exists(Event, stream="s", seq=1).seq == 1

    @since("1.9")
    def test_faults_hit_only_the_operation_and_model_they_aim_at(
        self, orm: Orm, orm_faults: OrmFaults
    ) -> None:
        client, _ = orm
        orm_faults.fail(operation="create", model=Member, times=ATTEMPTS)
        client.create_and_verify(Event, stream="s", seq=1)
        _, calls = counted(orm_faults, "create", lambda: Event.create(stream="s", seq=2))
        assert (calls, orm_faults.pending()) == (1, ATTEMPTS)
        assert Event.get(stream="s", seq=1) is not None
        client.expect_create_failure(Member, BackendError, id="m", email="m@x", name="M")
        assert orm_faults.pending() == 0
        client.get_and_verify_not_exists(Member, id="m")

    @since("1.9")
    def test_batch_leftovers_are_sent_again(self, orm: Orm, orm_faults: OrmFaults) -> None:
        client, _ = orm
        rows = [{"stream": "s", "seq": seq} for seq in range(6)]
        _, plain = counted(orm_faults, "create_many", lambda: Event.create_many(rows[:3]))
        orm_faults.unprocessed(operation="create_many", fraction=0.5)
        _, calls = counted(orm_faults, "create_many", lambda: Event.create_many(rows[3:]))
        assert calls == plain + 1
        keys = [{"stream": "s", "seq": seq} for seq in range(6)]
        found, plain = counted(orm_faults, "get_many", lambda: Event.get_many(keys))
        assert [row and row.seq for row in found] == list(range(6))
        orm_faults.unprocessed(operation="get_many", fraction=0.5)
        again, calls = counted(orm_faults, "get_many", lambda: Event.get_many(keys))
        assert [row and row.seq for row in again] == list(range(6))
        assert calls == plain + 1
        assert orm_faults.pending() == 0
        client.get_and_verify_exists(Event, stream="s", seq=5)

    @since("1.9")
    def test_a_create_whose_answer_is_lost_returns_the_created_row(
        self, orm: Orm, orm_faults: OrmFaults
    ) -> None:
        client, _ = orm
        orm_faults.lose_response(operation="create")
        create = partial(Event.create, stream="s", seq=1, kind="lost")
        created, calls = counted(orm_faults, "create", create)
        assert (created.seq, created.kind, calls) == (1, "lost", 2)
        assert client.get_and_verify_exists(Event, stream="s", seq=1).kind == "lost"
        client.expect_create_failure(Event, DuplicateKeyError, stream="s", seq=1)

    @since("1.9")
    def test_an_increment_whose_answer_is_lost_counts_once(
        self, orm: Orm, orm_faults: OrmFaults
    ) -> None:
        client, _ = orm
        row = counter(client)
        orm_faults.lose_response(operation="update", times=3)
        before = orm_faults.calls("update")
        for expected in range(1, 6):
            assert row.update(count=F("count") + 1).count == expected
        assert orm_faults.calls("update") - before == 8
        assert client.get_and_verify_exists(Awkward, key="k", order="o").count == 5

    @since("1.9")
    def test_eight_writers_losing_a_fifth_of_their_answers_count_exactly(
        self, orm: Orm, orm_faults: OrmFaults
    ) -> None:
        client, _ = orm
        counter(client)
        lost = WRITERS * INCREMENTS // LOST_EVERY
        # First tries only: taking turns, one writer's every try could otherwise be the one.
        orm_faults.lose_response(operation="update", times=lost, every=LOST_EVERY, first_tries=True)

        def increments(_: int) -> int:
            for _ in range(INCREMENTS):
                Awkward.update_by_key({"key": "k", "order": "o"}, count=F("count") + 1)
            return INCREMENTS

        outcomes, calls = counted(orm_faults, "update", lambda: race(increments))
        done, errors = split(outcomes)
        assert errors == [] and sum(done) == WRITERS * INCREMENTS, errors
        assert (orm_faults.pending(), calls) == (0, WRITERS * INCREMENTS + lost)
        stored = client.get_and_verify_exists(Awkward, key="k", order="o")
        assert stored.count == WRITERS * INCREMENTS

    @since("1.9")
    def test_a_save_whose_answer_is_lost_is_saved_once(
        self, orm: Orm, orm_faults: OrmFaults
    ) -> None:
        client, _ = orm
        account = client.create_and_verify(Account, id="a", handle="ann", balance=10)
        orm_faults.lose_response(operation="save")
        account.balance = 15
        # Not ConcurrentModificationError: the version it moved was its own.
        _, calls = counted(orm_faults, "save", account.save)
        assert (account.version, calls) == (2, 2)
        stale = client.get_and_verify_exists(Account, id="a")
        assert (stale.balance, stale.version) == (15, 2)
        account.balance = 20
        account.save()
        client.expect_update_failure(stale, ConcurrentModificationError, balance=0)

    @since("1.9")
    def test_a_delete_whose_answer_is_lost_is_an_unknown_outcome(
        self, orm: Orm, orm_faults: OrmFaults
    ) -> None:
        client, _ = orm
        row = client.create_and_verify(Event, stream="s", seq=1)
        orm_faults.lose_response(operation="delete")
        unknown = refused(row.delete, WriteOutcomeUnknownError, "the outcome of delete")
        assert isinstance(unknown, WriteOutcomeUnknownError)
        assert (unknown.model, unknown.key, unknown.operation) == (
            "Event",
            {"stream": "s", "seq": 1},
            "delete",
        )
        client.get_and_verify_not_exists(Event, stream="s", seq=1)

    @since("1.9")
    def test_a_write_whose_every_answer_is_lost_is_an_unknown_outcome_applied_once(
        self, orm: Orm, orm_faults: OrmFaults
    ) -> None:
        client, _ = orm
        row = counter(client)
        orm_faults.lose_response(operation="update", times=ATTEMPTS)
        before = orm_faults.calls("update")
        unknown = refused(
            lambda: row.update(count=F("count") + 1),
            WriteOutcomeUnknownError,
            "the outcome of update",
            "an update whose every answer was lost",
        )
        assert isinstance(unknown, WriteOutcomeUnknownError)
        assert unknown.operation == "update" and unknown.model == "Awkward"
        assert orm_faults.calls("update") - before == ATTEMPTS
        assert client.get_and_verify_exists(Awkward, key="k", order="o").count == 1

    @since("1.9")
    def test_latency_delays_every_request(self, orm: Orm, orm_faults: OrmFaults) -> None:
        client, _ = orm
        client.create_and_verify(Event, stream="s", seq=1)
        orm_faults.latency(0.05)
        started = time.perf_counter()
        _, calls = counted(orm_faults, "get", lambda: Event.get(stream="s", seq=1))
        assert time.perf_counter() - started >= 0.05 * calls
        orm_faults.latency(0)
        assert orm_faults.delay == 0


class TestClock(SuiteBase):
    """What the ORM stamps and expires follows ``orm_clock``, on every backend."""

    def get_test_models(self) -> list[type[Model]]:
        """A stamped model and an expiring one."""
        return [Member, Lease]

    @since("1.9")
    def test_stamps_are_the_clock_s_time(self, orm: Orm, orm_clock: OrmClock) -> None:
        client, _ = orm
        start = orm_clock.now()
        member = client.create_and_verify(Member, id="m", email="m@x", name="M")
        assert (member.created_at, member.updated_at) == (start, start)
        orm_clock.advance(3600)
        member.name = "N"
        member.save()
        stored = client.get_and_verify_exists(Member, id="m")
        assert (stored.created_at, stored.updated_at) == (start, orm_clock.now())
        orm_clock.set(start.replace(year=start.year - 1))  # the past is allowed
        member.update(age=F("age") + 1)
        assert client.get_and_verify_exists(Member, id="m").updated_at == orm_clock.now()

    @since("1.9")
    @requires("ttl")
    def test_an_hour_of_ttl_passes_in_one_step(self, orm: Orm, orm_clock: OrmClock) -> None:
        client, _ = orm
        client.create_and_verify(Lease, id="a", expires=orm_clock.after(3600))
        client.create_and_verify(Lease, id="b", expires=orm_clock.after(3601))
        orm_clock.advance(3600)
        client.get_and_verify_not_exists(Lease, id="a")
        assert [row.id for row in client.all_models(Lease)] == ["b"]
        orm_clock.advance(1)
        assert client.count_models(Lease) == 0
