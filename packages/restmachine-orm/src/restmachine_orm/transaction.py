"""``transaction()``: writes of several rows, of any models, applied all together or not at all.

::

    with transaction() as tx:
        tx.update(alice, balance=F("balance") - 10, condition={"balance__gte": 10})
        tx.update(bob, balance=F("balance") + 10)

Each ``tx`` method runs the steps its instance twin runs before writing (stamps,
``before_save``, validation, checks of keys, conditions and changes) and collects the write;
the block's exit sends them all in one backend call, then each instance takes its stored row
and ``after_save`` runs. An exception inside the block sends nothing.

Reads inside the block see committed data, not the block's own writes: DynamoDB cannot do
otherwise, and every backend behaves the same. For the same reason a transaction touches a
row at most once (combine an update's changes and conditions into one ``tx.update``) and
claims a unique value at most once.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, TypeVar

from .backends.actions import MAX_ACTIONS, Action
from .backends.base import Backend, Row
from .errors import QueryError
from .model import Model
from .query.changes import is_computed
from .query.filters import Filter
from .query.q import Q, WriteCondition
from .schema import ModelSchema

__all__ = ["Transaction", "TransactionAction", "transaction"]

M = TypeVar("M", bound=Model)

TransactionVerb = Literal["create", "save", "upsert", "delete", "update", "check"]


@dataclass(frozen=True)
class TransactionAction:
    """One write collected by a transaction, as the user wrote it.

    Attributes:
        verb: The ``tx`` method that collected it.
        model: The model written.
        key: The row's key fields and values.
        instance: The instance the write stores or deletes (``None`` for a ``check``).
    """

    verb: TransactionVerb
    model: type[Model]
    key: dict[str, Any]
    instance: Model | None


def transaction() -> Transaction:
    """Begin a transaction; its ``with`` (or ``async with``) block collects and commits it."""
    return Transaction()


class Transaction:
    """The writes of one transaction, sent when its ``with`` (or ``async with``) block exits.

    All the models written must share one backend, which needs the ``transactions``
    capability. A transaction holds at most 100 actions (on DynamoDB, each unique value
    claimed or released counts as one more).
    """

    def __init__(self) -> None:
        """Start with no writes."""
        self._actions: list[Action] = []
        self._written: list[TransactionAction] = []
        self._finishers: list[Callable[[Row | None], object]] = []
        self._backend: Backend | None = None
        self._rows: set[tuple[type[Any], tuple[Any, ...]]] = set()
        self._claims: dict[tuple[type[Any], str, Any], int] = {}
        self._state = "open"

    @property
    def actions(self) -> tuple[TransactionAction, ...]:
        """The writes collected so far, in order (what ``TransactionError.reasons`` follow)."""
        return tuple(self._written)

    # -- collecting writes ----------------------------------------------------------------

    def create(self, model: type[M], *, condition: WriteCondition | None = None, **data: Any) -> M:
        """Create a row, as ``model.create(**data)``; the instance is stored at commit.

        ``condition`` is checked on the stored row, which a create requires to be absent:
        only conditions an absent row meets (``isnull``) can hold.
        """
        self._open(model, "create")
        condition_tree = _condition(model, condition, "create")
        instance, schema, row = model._orm_creating(data)
        self._add(
            "create",
            model,
            instance,
            Action("insert", schema, schema.key_of(row), row=row, condition=condition_tree),
            lambda _: instance._orm_finish(schema, row, row),
        )
        return instance

    def save(self, instance: M, *, condition: WriteCondition | None = None) -> M:
        """Save the instance's changes, as ``instance.save(condition=...)``."""
        model = type(instance)
        self._open(model, "save")
        condition_tree = _condition(model, condition, "save")
        schema, key, changes, stored, row = instance._orm_saving()
        self._add(
            "save",
            model,
            instance,
            Action("update", schema, key, row=changes, previous=stored, condition=condition_tree),
            lambda written: instance._orm_saved(schema, _stored(written), row),
        )
        return instance

    def upsert(self, model: type[M], **data: Any) -> M:
        """Insert or replace a row, as ``model.upsert(**data)``."""
        self._open(model, "upsert")
        instance, schema, row = model._orm_creating(data)
        self._add(
            "upsert",
            model,
            instance,
            Action("upsert", schema, schema.key_of(row), row=row),
            lambda written: instance._orm_finish(schema, _stored(written), row),
        )
        return instance

    def delete(self, instance: Model, *, condition: WriteCondition | None = None) -> None:
        """Delete the instance's row, as ``instance.delete(condition=...)``."""
        model = type(instance)
        self._open(model, "delete")
        condition_tree = _condition(model, condition, "delete")
        schema, key, stored = instance._orm_deleting()
        self._add(
            "delete",
            model,
            instance,
            Action("delete", schema, key, previous=stored, condition=condition_tree),
            lambda _: object.__setattr__(instance, "_orm_row", None),
        )

    def update(self, instance: M, *, condition: WriteCondition | None = None, **changes: Any) -> M:
        """Change fields of the stored row, as ``instance.update(...)`` (``F`` expressions too).

        The instance takes the stored row at commit.
        """
        model = type(instance)
        self._open(model, "update")
        schema = model.orm_schema()
        key = instance._orm_key(schema, instance._orm_stored())
        sent, options = instance._orm_updating(schema, key, condition, changes, "update")
        condition_tree = options.get("condition")
        self._add(
            "update",
            model,
            instance,
            Action("update", schema, key, row=sent, condition=condition_tree),
            lambda written: instance._orm_updated(schema, _stored(written)),
        )
        return instance

    def check(
        self, model: type[Model], key: Mapping[str, Any], *where: Q, **conditions: Any
    ) -> None:
        """Require the row with ``key`` to exist and ``conditions`` (``where`` lookups) to hold.

        ``Q`` objects given positionally must hold too. Nothing is written to the row; the
        transaction fails with ``NotFoundError`` or ``ConditionFailedError`` as that
        action's reason otherwise.
        """
        self._open(model, "check")
        schema = model.orm_schema()
        row_key = model._orm_key_from(schema, key, "check")
        required = functools.reduce(operator.and_, where, Q(**conditions))
        condition_tree = _condition(model, required if where or conditions else None, "check")
        self._add(
            "check",
            model,
            None,
            Action("check", schema, row_key, condition=condition_tree),
            lambda _: None,
        )

    # -- committing -----------------------------------------------------------------------

    def __enter__(self) -> Transaction:
        """Collect writes until the block exits."""
        self._require_open("with")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Send the writes, unless the block raised (then nothing is sent)."""
        backend = self._closing(raised=kind is not None)
        if backend is not None:
            self._finish(backend.transact(self._actions))

    async def __aenter__(self) -> Transaction:
        """Collect writes until the block exits."""
        self._require_open("async with")
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Send the writes without blocking the event loop, unless the block raised."""
        backend = self._closing(raised=kind is not None)
        if backend is not None:
            self._finish(await backend.atransact(self._actions))

    # -- internals ------------------------------------------------------------------------

    def _closing(self, *, raised: bool) -> Backend | None:
        """End the block: the backend to send the writes to, or ``None`` when none are sent."""
        if raised or not self._actions:
            self._state = "discarded" if raised else "committed"
            return None
        assert self._backend is not None
        self._state = "cancelled"  # unless the commit succeeds (``_finish``)
        return self._backend

    def _require_open(self, how: str) -> None:
        if self._state != "open":
            raise QueryError(
                f"this transaction is {self._state}: start a new one ({how} transaction() as tx)"
            )

    def _open(self, model: type[Model], verb: str) -> None:
        """Check that one more write of ``model`` may join: open, same backend, room."""
        self._require_open("with")
        backend = model.model_backend
        name = model.__name__
        if self._backend is None:
            if "transactions" not in backend.capabilities:
                raise QueryError(
                    f"tx.{verb}({name}): {type(backend).__name__} cannot run transactions "
                    "(it lacks the 'transactions' capability)"
                )
            self._backend = backend
        elif backend is not self._backend:
            raise QueryError(
                f"tx.{verb}({name}): {name} is stored by another backend "
                f"({type(backend).__name__}) than the transaction's earlier writes; a "
                "transaction writes to one backend"
            )
        if len(self._actions) >= MAX_ACTIONS:
            raise QueryError(
                f"tx.{verb}({name}): a transaction holds at most {MAX_ACTIONS} actions; "
                "split the work into several transactions"
            )

    def _add(
        self,
        verb: TransactionVerb,
        model: type[Model],
        instance: Model | None,
        action: Action,
        finish: Callable[[Row | None], object],
    ) -> None:
        schema = action.schema
        number = len(self._actions) + 1
        row = (schema.model, action.key)
        if row in self._rows:
            raise QueryError(
                f"tx.{verb}({schema.name}): action {number} writes {schema.name}"
                f"({_shown(schema.key_dict(action.key))}), which an earlier action of this "
                "transaction writes already; a transaction touches a row once (DynamoDB "
                "refuses two actions on one item): combine the changes and conditions "
                "into one action"
            )
        for name, value in _claimed(schema, action):
            earlier = self._claims.get((schema.model, name, value))
            if earlier is not None:
                raise QueryError(
                    f"tx.{verb}({schema.name}): actions {earlier} and {number} both set the "
                    f"unique field {name} to {value!r}; at most one row may hold it"
                )
        self._rows.add(row)
        for name, value in _claimed(schema, action):
            self._claims[(schema.model, name, value)] = number
        self._actions.append(action)
        self._written.append(TransactionAction(verb, model, schema.key_dict(action.key), instance))
        self._finishers.append(finish)

    def _finish(self, rows: list[Row | None]) -> None:
        """Hand each instance its stored row (and run ``after_save``), once all are written."""
        self._state = "committed"
        for finish, row in zip(self._finishers, rows, strict=True):
            finish(row)


def _condition(model: type[Model], condition: WriteCondition | None, verb: str) -> Filter | None:
    """A write's parsed ``condition=`` (``None``: unconditional), checked as its twin checks."""
    return model._orm_condition(condition, verb).get("condition")


def _stored(row: Row | None) -> Row:
    assert row is not None, "the backend returned no row for a write"
    return row


def _claimed(schema: ModelSchema, action: Action) -> list[tuple[str, Any]]:
    """The unique values an action sets (plain values only: computed ones are unknown)."""
    if action.row is None:
        return []
    return [
        (name, action.row[name])
        for name in schema.unique_fields
        if action.row.get(name) is not None
        and not is_computed(action.row[name])
        and (action.previous is None or action.previous.get(name) != action.row[name])
    ]


def _shown(key: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in key.items())
