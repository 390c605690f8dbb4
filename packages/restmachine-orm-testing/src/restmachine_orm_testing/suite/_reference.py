"""The differential machines' oracle: what each step must give, in plain Python.

Rows are dictionaries in a dictionary; a query is a list comprehension, ``sorted()`` and a
slice. Nothing here comes from ``restmachine_orm`` — not its query execution, predicates or
ordering, nor its in-memory backend — so a bug in the code every backend shares cannot
hide by being in the oracle too. It knows only what the machines do: rows of flat values,
single or composite keys, unique fields, and the lookups the machines' filters use.

Every step answers an outcome shaped like the machines' view of the backend's: ``("ok",
value)``, ``("error", "DuplicateKeyError", fields)`` or ``("error", error_type_name)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["Outcome", "ReferenceTable"]

Outcome = tuple[Any, ...]
Row = dict[str, Any]

# What a stored value must be for ``field__lookup=value`` to select its row. A missing
# value (None) never satisfies an ordering or text lookup; to eq, ne and in it is a value.
_LOOKUPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda stored, value: stored == value,
    "ne": lambda stored, value: stored != value,
    "in": lambda stored, value: stored in value,
    "isnull": lambda stored, value: (stored is None) == value,
    "gt": lambda stored, value: stored is not None and stored > value,
    "gte": lambda stored, value: stored is not None and stored >= value,
    "lt": lambda stored, value: stored is not None and stored < value,
    "lte": lambda stored, value: stored is not None and stored <= value,
    "between": lambda stored, value: stored is not None and value[0] <= stored <= value[1],
    "startswith": lambda stored, value: stored is not None and stored.startswith(value),
}


def _matches(row: Row, filters: Mapping[str, Any]) -> bool:
    """Whether a row satisfies every ``field__lookup=value`` (no lookup means ``eq``)."""
    for spec, value in filters.items():
        name, _, lookup = spec.partition("__")
        if not _LOOKUPS[lookup or "eq"](row[name], value):
            return False
    return True


def _ordered(rows: list[Row], order: Sequence[str]) -> list[Row]:
    """Rows sorted by each field (``-field`` descending), ``None`` first when ascending.

    One stable sort per field, the last field first, so earlier fields decide and later
    ones break their ties.
    """
    for spec in reversed(order):
        name = spec.removeprefix("-")
        rows = sorted(
            rows,
            key=lambda row: (row[name] is not None, row[name]),
            reverse=spec.startswith("-"),
        )
    return rows


def _duplicate(fields: Sequence[str]) -> Outcome:
    return ("error", "DuplicateKeyError", tuple(fields))


class ReferenceTable:
    """One model's rows, written and read as the ORM defines it."""

    def __init__(
        self,
        key: Sequence[str],
        unique: Sequence[str],
        defaults: Mapping[str, Any],
        expiry: tuple[str, Callable[[], dt.datetime]] | None = None,
    ) -> None:
        """Start empty.

        Args:
            key: The key fields, in the order the ORM names them.
            unique: The unique fields.
            defaults: Every field's value when a write leaves it out.
            expiry: The field holding a row's expiry, and the clock: a row whose expiry
                is not after the clock's time is gone (a naive expiry is UTC).
        """
        self.key = tuple(key)
        self.unique = tuple(unique)
        self.defaults = dict(defaults)
        self.expiry = expiry
        self._rows: dict[tuple[Any, ...], Row] = {}

    @property
    def rows(self) -> dict[tuple[Any, ...], Row]:
        """The rows, once those that have expired are gone."""
        if self.expiry is not None:
            name, now = self.expiry
            moment = now()
            for key, row in list(self._rows.items()):
                expires = row[name]
                if expires is not None and expires.tzinfo is None:
                    expires = expires.replace(tzinfo=dt.timezone.utc)
                if expires is not None and expires <= moment:
                    del self._rows[key]
        return self._rows

    def _key_of(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[name] for name in self.key)

    def _taken(self, row: Row) -> Outcome | None:
        """The error for the first unique value of ``row`` that another row holds."""
        for name in self.unique:
            for other in self.rows.values():
                mine = row[name] is not None and other[name] == row[name]
                if mine and self._key_of(other) != self._key_of(row):
                    return _duplicate([name])
        return None

    def _store(self, row: Row) -> Outcome:
        refused = self._taken(row)
        if refused is not None:
            return refused
        self.rows[self._key_of(row)] = row
        return ("ok", dict(row))

    def create(self, **data: Any) -> Outcome:
        """Insert a new row; its key and its unique values must be free."""
        row = self.defaults | data
        if self._key_of(row) in self.rows:
            return _duplicate(self.key)
        return self._store(row)

    def upsert(self, **data: Any) -> Outcome:
        """Insert or replace the whole row: fields left out take their defaults."""
        return self._store(self.defaults | data)

    def save(
        self, key: Mapping[str, Any], condition: Mapping[str, Any] | None = None, **changes: Any
    ) -> Outcome:
        """Change fields of the row read by ``key``; ``("ok", None)`` when there is none.

        With a ``condition`` the row must match it, as a filter would.
        """
        row = self.rows.get(self._key_of(key))
        if row is None:
            return ("ok", None)
        if condition is not None and not _matches(row, condition):
            return ("error", "ConditionFailedError")
        return self._store(row | changes)

    def increment(self, key: Mapping[str, Any], field: str, amount: int) -> Outcome:
        """Add ``amount`` to a field of the row with this key; a missing row is an error."""
        return self._changed(key, field, lambda stored: stored + amount)

    def append(self, key: Mapping[str, Any], field: str, values: Sequence[Any]) -> Outcome:
        """Append ``values`` to a list field of the row with this key."""
        return self._changed(key, field, lambda stored: [*stored, *values])

    def add_elements(self, key: Mapping[str, Any], field: str, values: set[Any]) -> Outcome:
        """Add ``values`` to a set field of the row with this key."""
        return self._changed(key, field, lambda stored: stored | values)

    def remove_elements(self, key: Mapping[str, Any], field: str, values: set[Any]) -> Outcome:
        """Remove ``values`` from a set field of the row with this key."""
        return self._changed(key, field, lambda stored: stored - values)

    def _changed(
        self, key: Mapping[str, Any], field: str, compute: Callable[[Any], Any]
    ) -> Outcome:
        """Store ``compute(stored value)`` in a field of the row; a missing row is an error."""
        row = self.rows.get(self._key_of(key))
        if row is None:
            return ("error", "NotFoundError")
        return self._store(row | {field: compute(row[field])})

    def transact(self, actions: Sequence[tuple[Any, ...]]) -> Outcome:
        """Apply every action or none, each judged on the rows as they were before.

        An action is ``("create", data)``, ``("increment", key, field, amount, condition)``
        or ``("delete", key, condition)``. A refused transaction answers ``("error",
        "TransactionError", reasons)``: per action, ``None`` or the name of its error.
        """
        reasons: list[str | None] = []
        writes: list[tuple[tuple[Any, ...], Row | None]] = []
        for action in actions:
            kind = action[0]
            if kind == "create":
                row = self.defaults | action[1]
                taken = self._key_of(row) in self.rows or self._taken(row) is not None
                reasons.append("DuplicateKeyError" if taken else None)
                writes.append((self._key_of(row), row))
                continue
            key, condition = self._key_of(action[1]), action[-1]
            stored = self.rows.get(key)
            if stored is None:
                reasons.append("NotFoundError")
            elif condition is not None and not _matches(stored, condition):
                reasons.append("ConditionFailedError")
            else:
                reasons.append(None)
            if kind == "increment" and stored is not None:
                _, _, field, amount, _ = action
                writes.append((key, stored | {field: stored[field] + amount}))
            else:
                writes.append((key, None))
        if any(reasons):
            return ("error", "TransactionError", tuple(reasons))
        for key, row in writes:
            if row is None:
                del self.rows[key]
            else:
                self.rows[key] = row
        return ("ok", None)

    def get(self, **key: Any) -> Outcome:
        """The row with this key, or ``None``."""
        row = self.rows.get(self._key_of(key))
        return ("ok", None if row is None else dict(row))

    def delete(self, condition: Mapping[str, Any] | None = None, **key: Any) -> Outcome:
        """Remove the row with this key (if it matches ``condition``); missing is an error."""
        row = self.rows.get(self._key_of(key))
        if row is None:
            return ("error", "NotFoundError")
        if condition is not None and not _matches(row, condition):
            return ("error", "ConditionFailedError")
        del self.rows[self._key_of(key)]
        return ("ok", None)

    def select(
        self,
        filters: Mapping[str, Any],
        order: Sequence[str] = (),
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Row]:
        """The matching rows, ordered, then ``offset`` skipped and at most ``limit`` kept."""
        found = _ordered([dict(row) for row in self.rows.values() if _matches(row, filters)], order)
        return found[offset:] if limit is None else found[offset : offset + limit]

    def pages(self, filters: Mapping[str, Any], order: Sequence[str], size: int) -> list[list[Row]]:
        """What paging through the matches gives: ordered, key fields breaking ties.

        There is always a first page, empty when nothing matches.
        """
        named = {spec.removeprefix("-") for spec in order}
        found = self.select(filters, [*order, *(name for name in self.key if name not in named)])
        return [found[start : start + size] for start in range(0, len(found), size)] or [[]]
