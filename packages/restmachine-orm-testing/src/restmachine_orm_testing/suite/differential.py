"""Differential testing: random operation sequences, every result compared with the reference.

``run_differential(make_backend)`` drives hypothesis' stateful testing: each example starts
both stores empty, applies the same random creates, gets, saves, upserts, deletes, queries
and counts to the in-memory reference and to the backend under test, and fails on the first
step whose result, or raised error type, differs.

There are two machines, one per kind of key, run as two tests: rows with a single key and
a unique value (``"simple"``), and rows with a partition and a sort key (``"composite"``).
Their models share nothing, so one sequence mixing both would test no more; as two tests,
pytest-xdist runs them side by side.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from restmachine_orm import Backend, DuplicateKeyError, Field, InMemoryBackend, Model

from ._base import SuiteBase, since

__all__ = [
    "DIFFERENTIAL_EXAMPLES",
    "DiffEvent",
    "DiffMember",
    "Keys",
    "TestDifferential",
    "run_differential",
]


class DiffMember(Model):
    """A key, a unique value, and fields to filter and order by."""

    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    age: int = 0
    nick: str | None = None


class DiffEvent(Model):
    """A composite key."""

    stream: str = Field(partition_key=True)
    seq: int = Field(sort_key=True)
    n: int = 0


#: Which machine ``run_differential`` runs: single keys and a unique value, or composite keys.
Keys = Literal["simple", "composite"]

#: Sequences per backend in ``TestDifferential``, 4 in 7 with simple keys (400 of 700), the
#: rest with composite keys; ``RESTMACHINE_ORM_DIFFERENTIAL_EXAMPLES`` changes it (CI keeps
#: it). The simple-key machine has more to explore (unique values, filters, orderings), and
#: its steps cost more: at 4 to 3 the two tests take about as long.
DIFFERENTIAL_EXAMPLES = int(os.environ.get("RESTMACHINE_ORM_DIFFERENTIAL_EXAMPLES", "700"))
_SIMPLE_EXAMPLES = round(DIFFERENTIAL_EXAMPLES * 4 / 7)
_COMPOSITE_EXAMPLES = DIFFERENTIAL_EXAMPLES - _SIMPLE_EXAMPLES

# Small alphabets, so that keys and unique values collide often.
ids = st.sampled_from(["a", "b", "c", "d"])
emails = st.sampled_from(["x@t", "y@t", "z@t"])
ages = st.integers(min_value=0, max_value=5)
nicks = st.none() | st.sampled_from(["p", "q"])
streams = st.sampled_from(["s1", "s2"])
seqs = st.integers(min_value=0, max_value=4)
event_orders = st.sampled_from(["seq", "-seq"])
event_filters = st.sampled_from(
    [
        {},
        {"seq__gte": 2},
        {"seq__lt": 3},
        {"seq__between": (1, 3)},
        {"seq__in": [0, 2, 4]},
        {"n": 3},
        {"n__gte": 2},
    ]
)
member_filters = st.sampled_from(
    [
        {},
        {"age__gte": 2},
        {"age": 3},
        {"age__ne": 3},
        {"nick__isnull": True},
        {"nick": "p"},
        {"nick__ne": "p"},
        {"email": "y@t"},
        {"id__in": ["a", "c"]},
        {"age__between": (1, 3)},
        {"email__startswith": "x"},
    ]
)
orderings = st.sampled_from([(), ("age", "id"), ("-age", "id"), ("nick", "-id")])


def _outcome(action: Callable[[], Any]) -> Any:
    """What an action produced, comparable across backends: a value or an error's shape."""
    try:
        return ("ok", action())
    except DuplicateKeyError as error:
        return ("error", "DuplicateKeyError", error.fields)
    except Exception as error:
        return ("error", type(error).__name__)


def _dump(found: Any) -> Any:
    if found is None:
        return None
    if isinstance(found, list):
        return [item.model_dump() for item in found]
    return found.model_dump()


class _Differential(RuleBasedStateMachine):
    """The same steps on the reference and on the target; results must match."""

    make_target: Callable[[], Backend]
    models: tuple[type[Model], ...]

    def __init__(self) -> None:
        super().__init__()
        self.reference: Backend = InMemoryBackend()
        self.target = type(self).make_target()
        for model in self.models:
            self.target.clear(model.orm_schema())
        self.saved = {model: model.__dict__.get("model_backend") for model in self.models}

    def teardown(self) -> None:
        for model, before in self.saved.items():
            if before is not None:
                model.model_backend = before
            elif "model_backend" in model.__dict__:
                delattr(model, "model_backend")

    def both(self, step: str, action: Callable[[], Any]) -> None:
        outcomes = []
        for backend in (self.reference, self.target):
            for model in self.models:
                model.model_backend = backend
            outcomes.append(_outcome(action))
        expected, actual = outcomes
        assert actual == expected, f"{step}: reference gave {expected!r}, backend gave {actual!r}"


class _SimpleKeys(_Differential):
    """Members: one key field and a unique one, filtered and ordered in many ways."""

    models = (DiffMember,)

    @initialize()
    def empty(self) -> None:
        self.both("start", lambda: DiffMember.where().count())

    @rule(id_=ids, email=emails, age=ages, nick=nicks)
    def create(self, id_: str, email: str, age: int, nick: str | None) -> None:
        self.both(
            f"create {id_} {email}",
            lambda: DiffMember.create(id=id_, email=email, age=age, nick=nick).model_dump(),
        )

    @rule(id_=ids)
    def get(self, id_: str) -> None:
        self.both(f"get {id_}", lambda: _dump(DiffMember.get(id=id_)))

    @rule(id_=ids, age=ages, email=st.none() | emails)
    def save(self, id_: str, age: int, email: str | None) -> None:
        def change() -> Any:
            member = DiffMember.get(id=id_)
            if member is None:
                return None
            member.age = age
            if email is not None:
                member.email = email
            return member.save().model_dump()

        self.both(f"save {id_} age={age} email={email}", change)

    @rule(id_=ids, email=emails, age=ages)
    def upsert(self, id_: str, email: str, age: int) -> None:
        self.both(
            f"upsert {id_} {email}",
            lambda: DiffMember.upsert(id=id_, email=email, age=age).model_dump(),
        )

    @rule(id_=ids, email=emails)
    def delete(self, id_: str, email: str) -> None:
        # A made-up instance: deleting a missing row must fail the same way everywhere.
        self.both(f"delete {id_}", lambda: DiffMember(id=id_, email=email).delete())

    @rule(filters=member_filters, order=orderings)
    def query(self, filters: dict[str, Any], order: tuple[str, ...]) -> None:
        def run() -> Any:
            query = DiffMember.where(**filters)
            if order:
                return _dump(query.order_by(*order).all())
            return sorted(_dump(query.all()), key=lambda row: row["id"])

        self.both(f"query {filters} order={order}", run)
        self.both(f"count {filters}", lambda: DiffMember.where(**filters).count())
        self.both(f"exists {filters}", lambda: DiffMember.where(**filters).exists())


class _CompositeKeys(_Differential):
    """Events: a partition and a sort key; reads within a partition and across them."""

    models = (DiffEvent,)

    @initialize()
    def empty(self) -> None:
        self.both("start", lambda: DiffEvent.where().count())

    @rule(stream=streams, seq=seqs, n=ages)
    def create(self, stream: str, seq: int, n: int) -> None:
        self.both(
            f"create {stream}/{seq}",
            lambda: DiffEvent.create(stream=stream, seq=seq, n=n).model_dump(),
        )

    @rule(stream=streams, seq=seqs)
    def get(self, stream: str, seq: int) -> None:
        self.both(f"get {stream}/{seq}", lambda: _dump(DiffEvent.get(stream=stream, seq=seq)))

    @rule(stream=streams, seq=seqs, n=ages)
    def save(self, stream: str, seq: int, n: int) -> None:
        def change() -> Any:
            event = DiffEvent.get(stream=stream, seq=seq)
            if event is None:
                return None
            event.n = n
            return event.save().model_dump()

        self.both(f"save {stream}/{seq} n={n}", change)

    @rule(stream=streams, seq=seqs, n=ages)
    def upsert(self, stream: str, seq: int, n: int) -> None:
        self.both(
            f"upsert {stream}/{seq}",
            lambda: DiffEvent.upsert(stream=stream, seq=seq, n=n).model_dump(),
        )

    @rule(stream=streams, seq=seqs)
    def delete(self, stream: str, seq: int) -> None:
        self.both(f"delete {stream}/{seq}", lambda: DiffEvent(stream=stream, seq=seq).delete())

    @rule(stream=streams, filters=event_filters, order=event_orders)
    def query_partition(self, stream: str, filters: dict[str, Any], order: str) -> None:
        def run() -> Any:
            return _dump(DiffEvent.where(stream=stream, **filters).order_by(order).all())

        self.both(f"events {stream} {filters} order={order}", run)
        self.both(
            f"count {stream} {filters}", lambda: DiffEvent.where(stream=stream, **filters).count()
        )

    @rule(filters=event_filters)
    def query_all(self, filters: dict[str, Any]) -> None:
        def run() -> Any:
            found = _dump(DiffEvent.where(**filters).all())
            return sorted(found, key=lambda row: (row["stream"], row["seq"]))

        self.both(f"events {filters}", run)
        self.both(f"exists {filters}", lambda: DiffEvent.where(**filters).exists())


_MACHINES: dict[str, type[_Differential]] = {"simple": _SimpleKeys, "composite": _CompositeKeys}


def _failure_database() -> DirectoryBasedExampleDatabase:
    """Where failing sequences are kept, to be replayed first: outside any checkout."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    default = os.path.join(cache, "restmachine-orm", "hypothesis")
    return DirectoryBasedExampleDatabase(os.environ.get("RESTMACHINE_ORM_HYPOTHESIS_DB", default))


def _exploration() -> dict[str, Any]:
    """CI replays the same sequences every run; elsewhere, explore and remember failures.

    hypothesis cannot do both at once (a derandomized run has no database), so ``CI``
    (set by CI services) chooses; ``RESTMACHINE_ORM_DERANDOMIZE=1`` forces the CI mode.
    """
    if os.environ.get("CI") or os.environ.get("RESTMACHINE_ORM_DERANDOMIZE"):
        return {"derandomize": True}
    return {"database": _failure_database()}


def run_differential(
    make_backend: Callable[[], Backend],
    *,
    keys: Keys = "simple",
    examples: int = 500,
    steps: int = 12,
) -> None:
    """Compare a backend with the in-memory reference over random operation sequences.

    Args:
        make_backend: Returns the backend under test (its models are cleared before every
            example).
        keys: ``"simple"``: a model with one key field and a unique field; ``"composite"``:
            a model with a partition and a sort key.
        examples: How many sequences to run (in CI, the same ones every run).
        steps: At most this many operations per sequence.

    Raises:
        AssertionError: A step's result or error type differed; hypothesis prints the
            shortest sequence it found that shows it.
        ValueError: ``keys`` is neither ``"simple"`` nor ``"composite"``.
    """
    if keys not in _MACHINES:
        raise ValueError(f"run_differential: keys must be 'simple' or 'composite', not {keys!r}")
    target = {"make_target": staticmethod(make_backend)}
    machine = type(f"Differential{keys.title()}", (_MACHINES[keys],), target)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            **_exploration(),
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


class TestDifferential(SuiteBase):
    """Random operation sequences give the reference's results on the backend under test."""

    @since("1.0")
    @pytest.mark.orm_long_running
    def test_matches_the_reference(self, orm: tuple[Any, str]) -> None:
        client, _ = orm
        run_differential(lambda: client.driver.backend, keys="simple", examples=_SIMPLE_EXAMPLES)

    @since("1.1")
    @pytest.mark.orm_long_running
    def test_matches_the_reference_with_composite_keys(self, orm: tuple[Any, str]) -> None:
        client, _ = orm
        run_differential(
            lambda: client.driver.backend, keys="composite", examples=_COMPOSITE_EXAMPLES
        )
