"""The differential machines find a backend that differs from the reference, on either key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from restmachine_orm import InMemoryBackend
from restmachine_orm.backends.base import Row
from restmachine_orm.query import QuerySpec
from restmachine_orm_testing.suite import run_differential


class LastRowLost(InMemoryBackend):
    """Queries drop the last row of every non-empty answer."""

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        rows = list(super().query(spec))
        return iter(rows[:-1])


class CountsOneMore(InMemoryBackend):
    """Counts are one too many once there is a row."""

    def count(self, spec: QuerySpec) -> int:
        found = super().count(spec)
        return found + 1 if found else 0


@pytest.fixture(autouse=True)
def derandomized(monkeypatch):
    # The same sequences every run, and no example database written by these tests.
    monkeypatch.setenv("RESTMACHINE_ORM_DERANDOMIZE", "1")


@pytest.mark.parametrize("keys", ["simple", "composite"])
@pytest.mark.parametrize("backend", [LastRowLost, CountsOneMore])
def test_a_backend_that_differs_is_caught(keys, backend):
    with pytest.raises(AssertionError, match="reference gave"):
        run_differential(backend, keys=keys, examples=100)


@pytest.mark.parametrize("keys", ["simple", "composite"])
def test_the_reference_matches_itself(keys):
    run_differential(InMemoryBackend, keys=keys, examples=20)


def test_an_unknown_kind_of_key_is_refused():
    with pytest.raises(ValueError, match="keys must be 'simple' or 'composite', not 'both'"):
        run_differential(InMemoryBackend, keys="both")  # type: ignore[arg-type]
