"""How often the backend tries again, and how long it waits: one frozen config, decided here.

This module only decides (how many tries, how long each wait); the table object does the
sleeping (``Table.pause``), so that an asynchronous sender can reuse every decision.

Throttling of single requests is not configured here: botocore's standard retry mode
retries it (``DEFAULT_CONFIG``, or the ``config`` of your own client).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Backoff", "RetryConfig"]


@dataclass(frozen=True)
class Backoff:
    """How many times to try one thing, and how long to wait between the tries.

    The waits are jittered ("full jitter"): before try ``n + 1`` the backend waits a random
    time between 0 and ``min(cap, base * 2 ** (n - 1))`` seconds, so that clients retrying
    at the same moment spread out instead of colliding again. With ``base=0`` it tries
    again at once.

    Attributes:
        attempts: Tries in all, the first one included (at least 1).
        base: Longest wait before the second try, in seconds; it doubles with each try.
        cap: Longest wait before any try, in seconds.
    """

    attempts: int
    base: float = 0.0
    cap: float = 0.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"Backoff(attempts={self.attempts}): at least one try is needed")
        if self.base < 0 or self.cap < 0:
            raise ValueError(f"Backoff(base={self.base}, cap={self.cap}): waits cannot be < 0")

    def pauses(self) -> Iterator[float]:
        """The wait before each try, in seconds: 0 before the first, then jittered.

        Yields:
            One wait per try, ``attempts`` in all; a caller still failing once they run out
            has used up its tries.
        """
        yield 0.0
        for retry in range(self.attempts - 1):
            yield random.uniform(0.0, min(self.cap, self.base * 2**retry))


@dataclass(frozen=True)
class RetryConfig:
    """The backend's own retries: what it tries again, how often, and how long it waits.

    Pass one to ``DynamoDBBackend(..., retries=RetryConfig(...))``; every field has a
    default, so ``RetryConfig(batch_leftovers=Backoff(attempts=12, base=0.05, cap=2.0))``
    changes one knob. Single requests that DynamoDB throttles or that fail in transit are
    retried by botocore's standard retry mode, not by these.

    Row and claim contention are two knobs because they nest and bound different things: a
    write that re-reads its row (``row_contention``) may, within each of those tries, look
    at a unique value's sentinel again (``claim_contention``), so one shared count would
    multiply with itself.

    Attributes:
        batch_leftovers: Sends of one ``BatchWriteItem`` or ``BatchGetItem`` chunk while
            DynamoDB leaves part of it unprocessed; past them, ``IncompleteBatchError`` (or
            ``PartialWriteError``) names what was not done. Default: 8 tries, waits from
            0.02 s doubling up to 1 s.
        transaction_conflicts: Sends of one ``TransactWriteItems`` that DynamoDB cancels for
            a conflict with another transaction, or that the backend sends again after
            clearing the way (an orphaned claim deleted, a stale release dropped); past
            them, a ``DynamoDBError``. Default: 6 tries, waits from 0.005 s doubling, at
            most 1 s.
        transaction_throttling: Sends of one ``TransactWriteItems`` that DynamoDB cancels for
            throttling (a cancellation botocore does not retry); past them, a
            ``DynamoDBError``. Default: 6 tries, waits from 0.05 s doubling, at most 1 s.
        row_contention: Tries of a write with unique fields whose row changed between the
            backend's read of it and its transaction (each try reads the row again); past
            them, a ``DynamoDBError`` and nothing written. Default: 5 tries, no wait.
        claim_contention: Looks at a unique value's sentinel that changes owner while the
            backend checks whether it is orphaned; past them the value counts as taken.
            Default: 3 looks, no wait.
    """

    batch_leftovers: Backoff = Backoff(attempts=8, base=0.02, cap=1.0)
    transaction_conflicts: Backoff = Backoff(attempts=6, base=0.005, cap=1.0)
    transaction_throttling: Backoff = Backoff(attempts=6, base=0.05, cap=1.0)
    row_contention: Backoff = Backoff(attempts=5)
    claim_contention: Backoff = Backoff(attempts=3)
