"""Fixtures shared by the core tests.

Every test runs against its own empty ``InMemoryBackend``: the autouse ``backend`` fixture
binds a fresh one on ``Model`` (so every model class that does not set its own backend uses
it) and puts the previous one back afterwards, so the order of tests never matters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from restmachine_orm import InMemoryBackend, Model
from restmachine_orm.query import QuerySpec


@pytest.fixture(autouse=True)
def backend(monkeypatch: pytest.MonkeyPatch) -> InMemoryBackend:
    fresh = InMemoryBackend()
    monkeypatch.setattr(Model, "model_backend", fresh)
    return fresh


class UntouchableBackend(InMemoryBackend):
    """A backend that fails the test if any read or write reaches it, and records the attempt."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def _refuse(self, name: str) -> AssertionError:
        self.calls.append(name)
        return AssertionError(f"the backend's {name}() was called; validation should come first")

    def insert(self, schema: Any, row: Any) -> None:
        raise self._refuse("insert")

    def insert_many(self, schema: Any, rows: Any) -> None:
        raise self._refuse("insert_many")

    def get(self, schema: Any, key: Any) -> Any:
        raise self._refuse("get")

    def get_many(self, schema: Any, keys: Any) -> Any:
        raise self._refuse("get_many")

    def update(self, schema: Any, key: Any, changes: Any, previous: Any = None) -> Any:
        raise self._refuse("update")

    def upsert(self, schema: Any, row: Any) -> Any:
        raise self._refuse("upsert")

    def delete(self, schema: Any, key: Any, previous: Any = None) -> None:
        raise self._refuse("delete")

    def query(self, spec: QuerySpec) -> Any:
        raise self._refuse("query")

    def count(self, spec: QuerySpec) -> int:
        raise self._refuse("count")

    def exists(self, spec: QuerySpec) -> bool:
        raise self._refuse("exists")


@pytest.fixture
def make_untouchable(monkeypatch: pytest.MonkeyPatch) -> Callable[[], UntouchableBackend]:
    """Return a function that binds an ``UntouchableBackend`` to every model, e.g. after setup."""

    def bind() -> UntouchableBackend:
        refusing = UntouchableBackend()
        monkeypatch.setattr(Model, "model_backend", refusing)
        return refusing

    return bind


@pytest.fixture
def untouchable(make_untouchable: Callable[[], UntouchableBackend]) -> UntouchableBackend:
    """Bind a backend to every model that raises ``AssertionError`` whenever it is used."""
    return make_untouchable()


class RecordingBackend(InMemoryBackend):
    """An in-memory backend that records every call made to it, with its arguments."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def insert(self, schema: Any, row: Any) -> None:
        self.calls.append(("insert", (dict(row),)))
        super().insert(schema, row)

    def update(self, schema: Any, key: Any, changes: Any, previous: Any = None) -> Any:
        self.calls.append(("update", (key, dict(changes))))
        return super().update(schema, key, changes, previous)

    def upsert(self, schema: Any, row: Any) -> Any:
        self.calls.append(("upsert", (dict(row),)))
        return super().upsert(schema, row)

    def query(self, spec: QuerySpec) -> Any:
        self.calls.append(("query", (spec,)))
        return super().query(spec)

    def count(self, spec: QuerySpec) -> int:
        self.calls.append(("count", (spec,)))
        return super().count(spec)

    def exists(self, spec: QuerySpec) -> bool:
        self.calls.append(("exists", (spec,)))
        return super().exists(spec)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> RecordingBackend:
    """Bind a fresh recording backend to every model."""
    spy = RecordingBackend()
    monkeypatch.setattr(Model, "model_backend", spy)
    return spy


@pytest.fixture
def rows_of() -> Callable[[type[Model]], list[dict[str, Any]]]:
    """Read every stored row of a model straight from its backend, as plain dicts."""

    def read(model: type[Model]) -> list[dict[str, Any]]:
        spec = QuerySpec(model.orm_schema())
        return [dict(row) for row in model.model_backend.query(spec)]

    return read
