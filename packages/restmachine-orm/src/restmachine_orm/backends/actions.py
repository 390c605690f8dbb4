"""A transaction's writes as backends receive them, and what each would meet on its own.

``transaction()`` hands a backend's ``transact`` a list of ``Action``: each is one backend
write (``insert``, ``update``, ``upsert``, ``delete``) or a ``check``, in the same terms as
the backend method it mirrors. The actions of one transaction touch distinct rows and claim
distinct unique values (the core refuses anything else before a backend sees it), and each
is judged against the data as committed before the transaction: ``refusal`` says what an
action alone would raise given its stored row, so every backend, whether it decides under a
lock or explains a cancellation after the fact, reports the same reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ConcurrentModificationError, DuplicateKeyError, NotFoundError, OrmError
from ..query.changes import apply_changes, expected_version
from ..query.conditions import condition_failed
from ..query.filters import Filter
from ..query.predicate import compile_filter
from ..schema import ModelSchema

__all__ = ["MAX_ACTIONS", "Action", "Verb", "refusal", "upserted", "written"]

#: The most actions one transaction may hold (DynamoDB's ``TransactWriteItems`` limit).
MAX_ACTIONS = 100

Verb = Literal["insert", "update", "upsert", "delete", "check"]


@dataclass(frozen=True)
class Action:
    """One write of a transaction.

    Attributes:
        verb: The backend method it mirrors (``insert``, ``update``, ``upsert``,
            ``delete``), or ``check``: the row must exist and ``condition`` hold on it.
        schema: The model written.
        key: The row's key.
        row: ``insert``/``upsert``: the whole row; ``update``: the changes, as
            ``Backend.update`` receives them (plain values, ``F`` expressions' changes).
        previous: ``update``/``delete``: the row as the caller last saw it, as for the
            backend method (``None`` for an atomic update).
        condition: Must hold on the stored row (on an absent row, for an ``insert``).
    """

    verb: Verb
    schema: ModelSchema
    key: tuple[Any, ...]
    row: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    condition: Filter | None = None

    @property
    def expected_version(self) -> int | None:
        """The stored version the action requires, if it checks one."""
        version = self.schema.version_field
        if version is None:
            return None
        if self.verb == "update":
            assert self.row is not None
            return expected_version(self.schema, self.row)
        if self.verb == "delete" and self.previous is not None:
            return int(self.previous[version])
        return None


def refusal(action: Action, stored: dict[str, Any] | None) -> OrmError | None:
    """The error ``action`` alone would raise given its ``stored`` row, unique values aside.

    Checked in the order the backend methods check: the row's existence (or absence, for
    an insert), then its version, then the condition.
    """
    schema, key = action.schema, action.key
    if action.verb == "insert":
        if stored is not None:
            shown = key[0] if len(key) == 1 else key
            return DuplicateKeyError(schema.name, schema.key_fields, shown, unique=False)
    elif action.verb != "upsert":
        if stored is None:
            return NotFoundError(schema.name, schema.key_dict(key))
        expected = action.expected_version
        if expected is not None and stored[schema.version_field] != expected:  # type: ignore[index]
            actual = stored[schema.version_field]  # type: ignore[index]
            return ConcurrentModificationError(schema.name, schema.key_dict(key), expected, actual)
    if action.condition is not None and not compile_filter(action.condition)(stored or {}):
        return condition_failed(schema, key, action.condition)
    return None


def written(action: Action, stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """The row ``action`` writes over the ``stored`` one; ``None`` for a delete or a check.

    What ``Backend.transact`` returns for the action.
    """
    if action.verb == "insert":
        return action.row
    if action.verb == "update":
        assert stored is not None and action.row is not None
        return apply_changes(stored, action.row)
    if action.verb == "upsert":
        assert action.row is not None
        return upserted(action.schema, stored, action.row)
    return None


def upserted(
    schema: ModelSchema, old: dict[str, Any] | None, row: dict[str, Any]
) -> dict[str, Any]:
    """The row an upsert of ``row`` stores over ``old``: its creation stamps, a new version."""
    kept = {} if old is None else {name: old[name] for name in schema.auto_now_add}
    new = {**row, **kept}
    if schema.version_field is not None:
        base = 0 if old is None else int(old.get(schema.version_field) or 0)
        new[schema.version_field] = base + 1
    return new
