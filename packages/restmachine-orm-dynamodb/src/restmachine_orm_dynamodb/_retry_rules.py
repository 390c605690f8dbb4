"""Which failed requests are sent again, how often and after how long: botocore's rules.

The protocol layer sends each request itself, so it applies the retry rules botocore's
"standard" mode applies to DynamoDB (the mode ``DEFAULT_CONFIG`` sets, and botocore's
default), read from the client's config:

- tried again: no answer at all (connection refused or reset, timeout), HTTP 500, 502,
  503, 504 and 429, an answer whose CRC32 does not match, and the error codes below;
- tries in all: the config's ``total_max_attempts`` (``retries={"max_attempts": n}`` means
  ``n`` retries, so ``n + 1`` tries, as botocore reads it), else 4 for DynamoDB;
- the wait before retry ``i`` (from 1): ``random() * min(scale * 2 ** (i - 1), 20)`` seconds,
  where ``scale`` is 1 s after throttling and 25 ms after other failures; an
  ``x-amz-retry-after`` header (ms) raises it, by at most 5 s;
- a retry quota shared by the client's requests (500 units; a retry costs 5 after
  throttling, 14 otherwise; a success gives back what its retry took, or 1): when it runs
  dry, failures are final at once instead of adding load to a struggling service.

``mode="legacy"`` keeps botocore's legacy numbers for DynamoDB (10 tries, waits of
``0.05 * 2 ** (i - 1)`` s, no quota); ``"adaptive"`` is treated as ``"standard"`` (its
client-side rate limiter is not reproduced).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["THROTTLING", "TRANSIENT", "RetryQuota", "RetryRules", "retryable"]

#: Error codes meaning "slow down" (botocore's list of throttling codes).
THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
#: Error codes of failures that may pass (botocore's transient codes, and the DynamoDB
#: error its model marks retryable).
TRANSIENT = frozenset(
    {
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "ReplicatedWriteConflictException",
    }
)
_TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
_THROTTLING_STATUS = 429
_DEFAULT_ATTEMPTS = {"standard": 4, "adaptive": 4, "legacy": 10}
_MAX_WAIT = 20.0
_RETRY_AFTER_MAX_EXTRA = 5.0


def retryable(status: int, code: str) -> str | None:
    """``"throttling"`` or ``"transient"`` for a failure worth trying again, else ``None``."""
    if code in THROTTLING or status == _THROTTLING_STATUS:
        return "throttling"
    if code in TRANSIENT or status in _TRANSIENT_STATUS:
        return "transient"
    return None


@dataclass(frozen=True, slots=True)
class RetryRules:
    """How many tries a request gets, and the wait before each retry.

    Attributes:
        attempts: Tries in all, the first one included.
        legacy: botocore's legacy waits (fixed, doubling) instead of the standard ones.
    """

    attempts: int = _DEFAULT_ATTEMPTS["standard"]
    legacy: bool = False

    @classmethod
    def from_config(cls, retries: Mapping[str, Any] | None) -> RetryRules:
        """The rules of a botocore ``Config.retries`` dict (as a client holds it)."""
        retries = retries or {}
        mode = retries.get("mode") or "standard"
        attempts = retries.get("total_max_attempts")
        if attempts is None and retries.get("max_attempts") is not None:
            attempts = int(retries["max_attempts"]) + 1  # a Config not yet read by a client
        if attempts is None:
            attempts = _DEFAULT_ATTEMPTS.get(mode, _DEFAULT_ATTEMPTS["standard"])
        return cls(attempts=max(1, int(attempts)), legacy=mode == "legacy")

    def wait(self, retry: int, kind: str, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first retry)."""
        if self.legacy:
            return 0.05 * 2.0 ** (retry - 1)
        scale = 1.0 if kind == "throttling" else 0.025
        wait = random.random() * min(scale * 2.0 ** (retry - 1), _MAX_WAIT)
        if retry_after is not None:
            try:
                asked = int(retry_after) / 1000
            except ValueError:
                return wait
            if asked >= 0:
                return max(wait, min(asked, wait + _RETRY_AFTER_MAX_EXTRA))
        return wait


@dataclass(slots=True)
class RetryQuota:
    """The retry budget a client's requests share (botocore's standard-mode quota).

    Attributes:
        capacity: Units left; a retry takes some, a success gives some back.
    """

    capacity: int = 500
    maximum: int = 500
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, kind: str) -> int | None:
        """Take the units a retry after a ``kind`` failure costs; ``None`` if too few are left."""
        cost = 5 if kind == "throttling" else 14
        with self._lock:
            if cost > self.capacity:
                return None
            self.capacity -= cost
            return cost

    def refill(self) -> None:
        """Make the whole budget available again."""
        with self._lock:
            self.capacity = self.maximum

    def give_back(self, units: int) -> None:
        """A request succeeded: return what its last retry took (``1`` when none)."""
        if self.capacity >= self.maximum:  # the common case, without the lock
            return
        with self._lock:
            self.capacity = min(self.maximum, self.capacity + units)
