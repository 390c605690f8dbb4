"""``FaultPlan`` and ``call_with_faults``: which requests fail, how, and how they are counted."""

from __future__ import annotations

import threading

import pytest

from restmachine_orm import (
    BackendError,
    F,
    Field,
    InMemoryBackend,
    Model,
    WriteOutcomeUnknownError,
)
from restmachine_orm.faults import ATTEMPTS, Fault, FaultPlan, call_with_faults, operation_of


class Counter(Model):
    id: str = Field(primary_key=True)
    hits: int = 0


@pytest.fixture
def plan() -> FaultPlan:
    return FaultPlan()


@pytest.fixture
def faulty(plan: FaultPlan):
    backend = InMemoryBackend()
    Counter.model_backend = backend
    backend.inject_faults(plan)
    yield backend
    del Counter.model_backend


def test_faults_hit_their_operation_and_model_in_the_order_aimed(plan):
    plan.throttle(operation="get", model=Counter)
    plan.fail(operation="get", model="Other")
    plan.lose_response(times=2)
    assert plan.next("create", "Counter") == Fault("lose_response")
    assert plan.next("get", "Counter") == Fault("throttle")
    assert plan.next("get", "Other") == Fault("fail")
    assert plan.next("get", "Counter") == Fault("lose_response")
    assert plan.next("get", "Counter") is None
    assert (plan.calls("get"), plan.calls("create"), plan.calls()) == (4, 1, 5)
    assert plan.pending() == 0


def test_every_hits_one_matching_request_in_n(plan):
    plan.lose_response(operation="update", times=2, every=3)
    hits = [plan.next("update", "Counter") for _ in range(9)]
    assert [n for n, hit in enumerate(hits, 1) if hit is not None] == [3, 6]


def test_first_tries_only_never_hits_a_retry(plan):
    plan.lose_response(operation="update", times=2, every=2, first_tries=True)
    tries = [False, True, True, False, True, False]  # retry? of each request in turn
    hits = [plan.next("update", "Counter", retry=retry) for retry in tries]
    # The first tries are requests 1, 4 and 6: the 2nd and 3rd of them are hit.
    assert [n for n, hit in enumerate(hits, 1) if hit is not None] == [4]
    assert plan.next("update", "Counter", retry=False) == Fault("lose_response")
    assert plan.pending() == 0


def test_a_transaction_matches_each_of_its_models(plan):
    plan.fail(operation="transaction", model="Order")
    assert plan.next("transaction", "Line+Order") == Fault("fail")


def test_only_unprocessed_faults_hit_batch_requests(plan):
    plan.unprocessed(operation="get_many", fraction=0.25)
    plan.throttle(operation="get_many")
    assert plan.next("get_many", "Counter", batch=True) == Fault("unprocessed", 0.25)
    assert plan.next("get_many", "Counter", batch=False) == Fault("throttle")


@pytest.mark.parametrize(
    ("aim", "message"),
    [
        (lambda p: p.throttle(operation="fetch"), "unknown operation 'fetch'"),
        (lambda p: p.fail(times=0), r"fail\(times=0, every=1\): both must be at least 1"),
        (lambda p: p.lose_response(every=0), "both must be at least 1"),
        (lambda p: p.unprocessed(operation="get"), "only batch operations"),
        (lambda p: p.unprocessed(operation="get_many", fraction=1.0), "between 0 and 1"),
        (lambda p: p.latency(-1), "cannot be negative"),
        (lambda p: p.calls("fetch"), "unknown operation 'fetch'"),
    ],
)
def test_bad_aims_are_refused_with_what_was_wrong(plan, aim, message):
    with pytest.raises(ValueError, match=message):
        aim(plan)


def test_counting_is_thread_safe(plan):
    plan.fail(times=1000)

    def hammer() -> None:
        for _ in range(500):
            plan.next("get", "Counter")

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (plan.calls("get"), plan.pending()) == (4000, 0)


def test_operation_of_names_the_orm_operation():
    assert operation_of("insert") == "create"
    assert operation_of("update", previous={"id": "a"}) == "save"
    assert operation_of("update") == "update"
    assert operation_of("insert_many") == "create_many"
    assert operation_of("exists") == "query"
    assert operation_of("transact") == "transaction"
    assert operation_of("collect") == "query"
    assert operation_of("save") == "save"


def test_clear_forgets_faults_latency_and_counts(plan):
    plan.fail(times=3)
    plan.latency(1)
    plan.next("get")
    plan.clear()
    assert (plan.pending(), plan.calls(), plan.delay) == (0, 0, 0.0)


def test_a_throttled_request_is_tried_again_up_to_the_attempts(faulty, plan):
    Counter.create(id="c")
    plan.throttle(operation="get", times=ATTEMPTS - 1)
    assert Counter.get(id="c") is not None
    plan.throttle(operation="get", times=ATTEMPTS)
    with pytest.raises(BackendError, match=r"get of Counter failed: throttled .*6 attempts"):
        Counter.get(id="c")


def test_a_lost_increment_lands_once_and_answers_the_landed_row(faulty, plan):
    counter = Counter.create(id="c")
    plan.lose_response(operation="update", times=2)
    assert counter.update(hits=F("hits") + 1).hits == 1
    assert (Counter.get(id="c").hits, plan.calls("update")) == (1, 3)


def test_a_lost_delete_is_an_unknown_outcome_naming_model_key_and_operation(faulty, plan):
    counter = Counter.create(id="c")
    plan.lose_response(operation="delete")
    with pytest.raises(WriteOutcomeUnknownError) as unknown:
        counter.delete()
    assert (unknown.value.model, unknown.value.key, unknown.value.operation) == (
        "Counter",
        {"id": "c"},
        "delete",
    )
    assert "Counter: the outcome of delete of the row with id='c' is unknown" in str(unknown.value)
    assert Counter.get(id="c") is None


def test_inject_faults_none_gives_the_methods_back(faulty, plan):
    faulty.inject_faults(None)
    assert "insert" not in vars(faulty) and faulty.blocking is False
    plan.fail(times=100)
    Counter.create(id="c")
    assert plan.calls() == 0


def test_call_with_faults_applies_a_read_once_when_its_answer_is_lost(plan):
    applied = []
    plan.lose_response(operation="get")
    assert call_with_faults(plan, "get", "Counter", lambda: applied.append(1) or "row") == "row"
    assert applied == [1]


def test_a_backend_without_the_capability_refuses_faults():
    class Plain(InMemoryBackend):
        capabilities = InMemoryBackend.capabilities - {"faults"}

    from restmachine_orm import Backend

    with pytest.raises(BackendError, match="cannot act out injected faults"):
        Backend.inject_faults(Plain(), FaultPlan())


def test_the_error_pickles_whole():
    import pickle

    error = WriteOutcomeUnknownError("M", {"id": 1}, "delete", "why")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.model, copy.key, copy.operation, copy.reason, str(copy)) == (
        "M",
        {"id": 1},
        "delete",
        "why",
        str(error),
    )
