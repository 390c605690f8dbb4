"""``InMemoryBackend``: the reference semantics, in process memory."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import (
    ConcurrentModificationError,
    DuplicateKeyError,
    NotFoundError,
    OrmError,
    TransactionError,
)
from ..faults import FaultPlan, call_with_faults, operation_of
from ..query.access import access_path
from ..query.changes import apply_changes, expected_version
from ..query.conditions import require
from ..query.execution import select_rows
from ..query.expiry import is_live, live_spec
from ..query.filters import Filter
from ..query.plan import Plan
from ..query.predicate import compile_filter
from ..query.spec import QuerySpec
from ..schema import ModelSchema
from .actions import Action, refusal, upserted, written
from .base import Backend, Key, Row

__all__ = ["InMemoryBackend"]

#: The methods acted out under a fault plan, and whether each is a batch request.
_SERVED = {
    "insert": False,
    "get": False,
    "update": False,
    "upsert": False,
    "delete": False,
    "query": False,
    "count": False,
    "exists": False,
    "insert_many": True,
    "get_many": True,
    "transact": False,
}


@dataclass
class _Table:
    """One model's rows by key, and for each unique field the key holding each value."""

    rows: dict[Key, Row] = field(default_factory=dict)
    unique: dict[str, dict[Any, Key]] = field(default_factory=dict)


class InMemoryBackend(Backend):
    """Rows in dictionaries behind one lock: O(1) by key and by unique value.

    Stored rows are never changed in place (a write replaces the row), so readers take a
    snapshot under the lock and filter outside it. Rows of models holding mutable values
    (lists, dicts, nested models) are deep-copied in and out, so changing a returned
    instance never changes stored data until it is saved.
    """

    capabilities: ClassVar[frozenset[str]] = frozenset(
        {
            "transactions",
            "order_by_any_field",
            "offset",
            "sort_key_range",
            "conditions",
            "atomic_updates",
            "ttl",
            "faults",
        }
    )
    #: Its methods never wait on I/O: the async API calls them on the event loop directly
    #: (native async, no thread hop), and the lock is never held across an ``await``.
    #: With faults injected they may wait (``latency``), and go to a thread instead.
    blocking: bool = False

    def __init__(self, *, allow_scan: bool = True) -> None:
        """Start empty.

        Args:
            allow_scan: ``False`` refuses every query that would read all of a model's
                rows (``QueryError``), as the DynamoDB backend's ``allow_scan`` does.
        """
        self.allow_scan = allow_scan
        self._lock = threading.Lock()
        self._tables: dict[type[Any], _Table] = {}

    def inject_faults(self, plan: FaultPlan | None) -> None:
        """Serve every method through ``plan`` (see ``faults.call_with_faults``); ``None``: stop.

        Each method is replaced, on this instance only, by one asking the plan before each
        try: the methods' own code, and the backend without faults, stay as they are.
        """
        for name in (*_SERVED, "blocking"):
            self.__dict__.pop(name, None)
        if plan is None:
            return
        self.blocking = True
        for name, batch in _SERVED.items():
            setattr(self, name, _with_faults(plan, name, getattr(self, name), batch=batch))

    def _table(self, schema: ModelSchema) -> _Table:
        table = self._tables.get(schema.model)
        if table is None:
            table = _Table(unique={name: {} for name in schema.unique_fields})
            self._tables[schema.model] = table
        return table

    @staticmethod
    def _copy(schema: ModelSchema, row: Row) -> Row:
        return row if schema.rows_are_flat else copy.deepcopy(row)

    def insert(self, schema: ModelSchema, row: Row) -> None:
        """Store a new row (see ``Backend.insert``)."""
        key = schema.key_of(row)
        stored = self._copy(schema, row)
        with self._lock:
            table = self._table(schema)
            if self._live_row(schema, table, key) is not None:
                self._check_new_key(schema, table, key)
            if schema.unique_fields:
                self._check_unique(schema, table, key, row)
            self._store(schema, table, key, stored, old=None)

    def get(self, schema: ModelSchema, key: Key) -> Row | None:
        """Return the row with this key, or ``None``."""
        with self._lock:
            table = self._tables.get(schema.model)
            row = None if table is None else table.rows.get(key)
        if row is None or not is_live(schema, row):
            return None
        return self._copy(schema, row)

    def update(
        self,
        schema: ModelSchema,
        key: Key,
        changes: Row,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> Row:
        """Change fields of an existing row (see ``Backend.update``)."""
        with self._lock:
            table = self._table(schema)
            old = self._live_row(schema, table, key)
            if old is None:
                raise NotFoundError(schema.name, schema.key_dict(key))
            expected = expected_version(schema, changes)
            if expected is not None:
                self._check_version(schema, key, old, expected)
            require(schema, key, old, condition)
            new = apply_changes(old, self._copy(schema, changes))
            self._check_unique(schema, table, key, new)
            self._store(schema, table, key, new, old=old)
        return self._copy(schema, new)

    def upsert(self, schema: ModelSchema, row: Row) -> Row:
        """Insert or replace a row (see ``Backend.upsert``)."""
        key = schema.key_of(row)
        with self._lock:
            table = self._table(schema)
            old = self._live_row(schema, table, key)
            new = upserted(schema, old, self._copy(schema, row))
            self._check_unique(schema, table, key, new)
            self._store(schema, table, key, new, old=old)
        return self._copy(schema, new)

    def delete(
        self,
        schema: ModelSchema,
        key: Key,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> None:
        """Remove a row and release its unique values (see ``Backend.delete``)."""
        with self._lock:
            table = self._table(schema)
            old = self._live_row(schema, table, key)
            if old is None:
                raise NotFoundError(schema.name, schema.key_dict(key))
            if schema.version_field is not None and previous is not None:
                self._check_version(schema, key, old, previous[schema.version_field])
            require(schema, key, old, condition)
            del table.rows[key]
            self._release(schema, table, old)

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        """Yield the selected rows (see ``Backend.query``)."""
        schema = spec.schema
        spec = live_spec(spec)
        selected = select_rows(self._candidates(spec), spec)
        if schema.rows_are_flat:
            return selected
        return (self._copy(schema, row) for row in selected)

    def explain(self, spec: QuerySpec) -> Plan:
        """The access path, and how this backend finds the rows: by key or by a pass."""
        access = access_path(spec.schema, spec.filter)
        operation = {
            "key": "lookup by key",
            "keys": "lookup by keys",
            "unique": "lookup by unique value",
        }.get(access.kind, "pass over the model's rows")
        return Plan(access=access.kind, operation=operation, segments=spec.segments)

    def count(self, spec: QuerySpec) -> int:
        """Count the rows matching the filter."""
        spec = live_spec(spec)
        if spec.filter is None:
            table = self._tables.get(spec.schema.model)
            return 0 if table is None else len(table.rows)
        matches = compile_filter(spec.filter)
        return sum(1 for row in self._candidates(spec) if matches(row))

    def exists(self, spec: QuerySpec) -> bool:
        """Tell whether any row matches the filter."""
        spec = live_spec(spec)
        matches = compile_filter(spec.filter)
        return any(matches(row) for row in self._candidates(spec))

    def clear(self, schema: ModelSchema | None = None) -> None:
        """Delete the rows of one model, or of all."""
        with self._lock:
            if schema is None:
                self._tables.clear()
            else:
                self._tables.pop(schema.model, None)

    def insert_many(self, schema: ModelSchema, rows: Sequence[Row]) -> None:
        """Store several new rows: all of them, or none when one is a duplicate."""
        with self._lock:
            table = self._table(schema)
            # Check the whole batch against the table and against itself before writing.
            batch = _Table(unique={name: {} for name in schema.unique_fields})
            keyed = [(schema.key_of(row), row) for row in rows]
            for key, row in keyed:
                if self._live_row(schema, table, key) is not None:
                    self._check_new_key(schema, table, key)
                self._check_new_key(schema, batch, key)
                self._check_unique(schema, table, key, row)
                self._check_unique(schema, batch, key, row, expiring=False)
                self._store(schema, batch, key, row, old=None)
            for key, row in keyed:
                self._store(schema, table, key, self._copy(schema, row), old=None)

    def get_many(self, schema: ModelSchema, keys: Sequence[Key]) -> list[Row | None]:
        """Return each key's row, or ``None`` where there is none."""
        return [self.get(schema, key) for key in keys]

    def transact(self, actions: Sequence[Action]) -> list[Row | None]:
        """Apply the actions all together or not at all (see ``Backend.transact``).

        Every action is judged under the lock against the rows as they are before any of
        them is applied, then all are applied, so no reader ever sees part of them.
        """
        with self._lock:
            return self._apply(actions, self._judge(actions))

    def _judge(self, actions: Sequence[Action]) -> list[tuple[Row | None, Row | None]]:
        """Each action's stored and new row; raise the reasons if any action is refused."""
        planned = [self._plan(action) for action in actions]
        reasons = [reason for reason, _ in planned]
        if any(reasons):
            raise TransactionError(reasons)
        return [rows for _, rows in planned]

    def _apply(
        self, actions: Sequence[Action], planned: list[tuple[Row | None, Row | None]]
    ) -> list[Row | None]:
        """Write each action's new row (or delete its row); what ``transact`` returns."""
        results: list[Row | None] = []
        for action, (old, new) in zip(actions, planned, strict=True):
            schema = action.schema
            table = self._table(schema)
            if action.verb == "delete":
                del table.rows[action.key]
                self._release(schema, table, old)  # type: ignore[arg-type]  # it exists
            elif new is not None:
                self._store(schema, table, action.key, self._copy(schema, new), old=old)
            results.append(None if new is None else self._copy(schema, new))
        return results

    def _plan(self, action: Action) -> tuple[OrmError | None, tuple[Row | None, Row | None]]:
        """What an action meets on the committed rows: its refusal, its old and new row."""
        schema = action.schema
        table = self._table(schema)
        old = self._live_row(schema, table, action.key)
        problem = refusal(action, old)
        new = None if problem is not None else written(action, old)
        if problem is None and new is not None:
            try:
                self._check_unique(schema, table, action.key, new)
            except DuplicateKeyError as taken:
                problem = taken
        return problem, (old, new)

    def _candidates(self, spec: QuerySpec) -> list[Row]:
        """Rows that may match: those a pinned key, listed keys or unique value name, else all.

        Rows are replaced on write, never changed, so the list returned is a consistent
        snapshot that callers filter without holding the lock.
        """
        schema = spec.schema
        access = access_path(schema, spec.filter)
        with self._lock:
            table = self._tables.get(schema.model)
            if table is None:
                return []
            if access.kind == "key":
                keys: tuple[Key | None, ...] = (
                    tuple(access.pinned[name] for name in schema.key_fields),
                )
            elif access.kind == "keys":
                keys = access.keys
            elif access.kind == "unique" and access.field is not None:
                keys = (table.unique[access.field].get(access.pinned[access.field]),)
            else:
                return list(table.rows.values())
            found = (None if key is None else table.rows.get(key) for key in keys)
            return [row for row in found if row is not None]

    @staticmethod
    def _check_new_key(schema: ModelSchema, table: _Table, key: Key) -> None:
        if key in table.rows:
            shown = key[0] if len(key) == 1 else key
            raise DuplicateKeyError(schema.name, schema.key_fields, shown, unique=False)

    def _check_unique(
        self, schema: ModelSchema, table: _Table, key: Key, row: Row, *, expiring: bool = True
    ) -> None:
        """Refuse a unique value another row holds (an expired holder lets it go first).

        ``expiring=False`` for a batch's own table, whose rows are not stored yet.
        """
        for name in schema.unique_fields:
            value = row[name]
            if value is None:
                continue
            owner = table.unique[name].get(value)
            if owner is None or owner == key:
                continue
            if expiring and self._live_row(schema, table, owner) is None:
                continue  # it expired: purged just now, the value with it
            raise DuplicateKeyError(schema.name, (name,), value, unique=True)

    def _live_row(self, schema: ModelSchema, table: _Table, key: Key) -> Row | None:
        """The stored row with this key, unless it expired: then it is purged, and ``None``.

        Called under the lock by writes, so an expired row gives up its key and unique
        values in the same step as the write that takes them.
        """
        row = table.rows.get(key)
        if row is None or is_live(schema, row):
            return row
        del table.rows[key]
        self._release(schema, table, row)
        return None

    @staticmethod
    def _check_version(schema: ModelSchema, key: Key, old: Row, expected: int) -> None:
        stored = old[schema.version_field]  # type: ignore[index]  # callers checked it is set
        if stored != expected:
            raise ConcurrentModificationError(schema.name, schema.key_dict(key), expected, stored)

    @staticmethod
    def _release(schema: ModelSchema, table: _Table, row: Row) -> None:
        for name in schema.unique_fields:
            if row[name] is not None:
                table.unique[name].pop(row[name], None)

    def _store(
        self, schema: ModelSchema, table: _Table, key: Key, new: Row, old: Row | None
    ) -> None:
        table.rows[key] = new
        if not schema.unique_fields:
            return
        if old is not None:
            self._release(schema, table, old)
        for name in schema.unique_fields:
            if new[name] is not None:
                table.unique[name][new[name]] = key


def _with_faults(plan: FaultPlan, method: str, serve: Any, *, batch: bool) -> Any:
    """``serve`` (a bound method) asking ``plan`` before each try of each call."""

    def served(*args: Any, **options: Any) -> Any:
        first = args[0]
        key: dict[str, Any] | None = None
        if isinstance(first, ModelSchema):
            model = first.name
            if method in ("update", "delete"):
                key = first.key_dict(args[1])
        elif isinstance(first, QuerySpec):
            model = first.schema.name
        else:  # a transaction's actions
            model = "+".join(dict.fromkeys(action.schema.name for action in first)) or "-"
        previous = args[3] if method == "update" and len(args) > 3 else None
        operation = operation_of(method, previous=previous)
        return call_with_faults(
            plan, operation, model, lambda: serve(*args, **options), key=key, batch=batch
        )

    return served
