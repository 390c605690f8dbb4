"""Every test gets its own empty in-memory backend, bound to every model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from restmachine_orm import InMemoryBackend, Model


@pytest.fixture(autouse=True)
def backend() -> Iterator[InMemoryBackend]:
    before = Model.model_backend
    fresh = InMemoryBackend()
    Model.model_backend = fresh
    yield fresh
    Model.model_backend = before
