"""The retry config: each knob bounds what its docstring says, and nothing else retries."""

from __future__ import annotations

import time
from typing import Any

import pytest
from answers import cancelled

from restmachine_orm import Field, Model
from restmachine_orm_dynamodb import Backoff, DynamoDBBackend, DynamoDBError, RetryConfig


class Handle(Model):
    id: str = Field(primary_key=True)
    handle: str = Field(unique=True)


def test_the_defaults_are_the_documented_numbers():
    config = RetryConfig()
    assert config.batch_leftovers == Backoff(attempts=8, base=0.02, cap=1.0)
    assert config.transaction_conflicts == Backoff(attempts=6, base=0.005, cap=1.0)
    assert config.transaction_throttling == Backoff(attempts=6, base=0.05, cap=1.0)
    assert config.row_contention == Backoff(attempts=5)
    assert config.claim_contention == Backoff(attempts=3)


def test_configs_are_frozen_and_refuse_impossible_numbers():
    with pytest.raises(AttributeError):
        RetryConfig().batch_leftovers = Backoff(attempts=1)  # type: ignore[misc]
    with pytest.raises(ValueError, match="at least one try"):
        Backoff(attempts=0)
    with pytest.raises(ValueError, match="cannot be < 0"):
        Backoff(attempts=2, base=-1.0)


def test_pauses_are_one_per_try_none_before_the_first_jittered_within_base_and_cap():
    backoff = Backoff(attempts=6, base=0.1, cap=0.3)
    seen = [list(backoff.pauses()) for _ in range(300)]
    assert all(len(pauses) == 6 and pauses[0] == 0.0 for pauses in seen)
    for retry, bound in enumerate([0.1, 0.2, 0.3, 0.3, 0.3], start=1):
        waits = [pauses[retry] for pauses in seen]
        assert all(0.0 <= wait <= bound for wait in waits)
        assert max(waits) > bound * 0.8  # jittered over the whole range, not a constant
    assert list(Backoff(attempts=3).pauses()) == [0.0, 0.0, 0.0]


@pytest.fixture
def configured(backend, bind):
    """Bind Handle to a backend on the test table and client, with the given retries."""
    bind(Handle)

    def make(**knobs: Backoff) -> DynamoDBBackend:
        configured = DynamoDBBackend(
            backend.table_name, client=backend.client, retries=RetryConfig(**knobs)
        )
        Handle.model_backend = configured
        return configured

    return make


def cancel_every_transaction(*codes: str) -> Any:
    def handler(operation: str, _: dict[str, Any]) -> Any:
        if operation != "TransactWriteItems":
            return None
        handler.sent += 1
        return cancelled(*codes)

    handler.sent = 0
    return handler


@pytest.mark.parametrize(
    ("knob", "code"),
    [
        ("transaction_conflicts", "TransactionConflict"),
        ("transaction_throttling", "ThrottlingError"),
    ],
)
@pytest.mark.parametrize("attempts", [1, 4])
def test_a_cancelled_transaction_is_sent_as_often_as_its_knob_says(
    configured, inject, knob, code, attempts
):
    handler = cancel_every_transaction(code, "None")
    inject(handler, into=configured(**{knob: Backoff(attempts=attempts)}))
    with pytest.raises(DynamoDBError, match=f"kept being cancelled.*after {attempts} attempts"):
        Handle.create(id="h1", handle="x")
    assert handler.sent == attempts


def test_conflicts_and_throttling_count_against_their_own_knobs(configured, inject):
    chosen = configured(
        transaction_conflicts=Backoff(attempts=3), transaction_throttling=Backoff(attempts=2)
    )
    codes = iter(["TransactionConflict", "ThrottlingError", "TransactionConflict"])

    def mixed(operation: str, _: dict[str, Any]) -> Any:
        if operation != "TransactWriteItems":
            return None
        code = next(codes, None)
        return None if code is None else cancelled(code, "None")

    inject(mixed, into=chosen)
    Handle.create(id="h1", handle="x")  # 2 conflicts of 3, 1 throttle of 2: then it is sent
    assert Handle.get(id="h1").handle == "x"


def test_the_cap_bounds_every_wait(configured, inject):
    chosen = configured(transaction_conflicts=Backoff(attempts=4, base=60.0, cap=0.01))
    inject(cancel_every_transaction("TransactionConflict", "None"), into=chosen)
    started = time.monotonic()
    with pytest.raises(DynamoDBError):
        Handle.create(id="h1", handle="x")
    assert time.monotonic() - started < 2  # three waits of at most 10 ms, not of a minute


@pytest.mark.parametrize("attempts", [1, 3])
def test_a_row_that_keeps_changing_is_tried_as_often_as_row_contention_says(
    configured, inject, attempts
):
    chosen = configured(row_contention=Backoff(attempts=attempts))
    Handle.create(id="h1", handle="x")
    row = Handle.get(id="h1")
    # Every transaction finds the row changed: its own condition fails each time.
    handler = cancel_every_transaction("ConditionalCheckFailed", "None")
    inject(handler, into=chosen)
    with pytest.raises(DynamoDBError, match=f"kept meeting concurrent changes.*after {attempts}"):
        row.delete()
    assert handler.sent == attempts
    assert Handle.get(id="h1") is not None  # nothing was written
