"""The CPU a process spends inside botocore, to tell a client library's own CPU from it.

Every DynamoDB library measured here, and the floor, sends its requests through
``botocore.client.BaseClient._make_api_call``: serialising, signing, sending, parsing. That
work is about 1.4 ms of CPU per request on the benchmark machine and varies from one round
to the next by more than a library's own work, so a library's own CPU is measured as its
process time minus the CPU time its threads spent inside that method.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

from botocore.client import BaseClient


class SdkMeter:
    """While entered, adds up the process time spent in botocore's request handling."""

    def __init__(self) -> None:
        self.inside = 0.0  # CPU seconds, summed over threads, since the meter was entered
        self._original: Any = None
        self._adding = threading.Lock()

    def reading(self) -> float:
        """The CPU time spent inside botocore so far, by every thread."""
        return self.inside

    def __enter__(self) -> SdkMeter:
        self._original = original = BaseClient._make_api_call

        def metered(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            # The calling thread's own clock: requests sent from several threads at once
            # (a batch) would each count the others' CPU on the process clock.
            start = time.thread_time()
            try:
                return original(client, operation, params)
            finally:
                spent = time.thread_time() - start
                with self._adding:
                    self.inside += spent

        BaseClient._make_api_call = metered
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None
    ) -> None:
        BaseClient._make_api_call = self._original
