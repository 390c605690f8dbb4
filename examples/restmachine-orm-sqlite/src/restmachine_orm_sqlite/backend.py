"""``SQLiteBackend``: one table per model; keys and unique values enforced by SQLite itself.

Each table has a column per key field and per unique field (with SQLite's own PRIMARY KEY
and UNIQUE constraints), the row's expiry (``Field(ttl=True)``) as a number, and the whole
row as JSON. Every write runs in a transaction, so a violated constraint leaves nothing
behind; a write to a model whose rows expire first deletes its expired rows, in the same
transaction, so their keys and unique values are free again. Reads skip expired rows.
Filtering, ordering and slicing reuse the core's reference implementation (``select_rows``),
which is how a backend matches the in-memory semantics exactly where its engine would differ.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from pydantic_core import to_jsonable_python

from restmachine_orm import (
    Backend,
    ConcurrentModificationError,
    DuplicateKeyError,
    ModelSchema,
    NotFoundError,
    OrmError,
    TransactionError,
    clock,
)
from restmachine_orm.backends.actions import Action, refusal, upserted, written
from restmachine_orm.backends.base import Key, Row
from restmachine_orm.query import QuerySpec, compile_filter, select_rows
from restmachine_orm.query.changes import apply_changes, expected_version
from restmachine_orm.query.conditions import require
from restmachine_orm.query.expiry import epoch_microseconds
from restmachine_orm.query.filters import Filter

__all__ = ["SQLiteBackend"]


def _column_value(value: Any) -> str:
    """A key or unique value as the text SQLite compares."""
    return json.dumps(to_jsonable_python(value), sort_keys=True)


class SQLiteBackend(Backend):
    """Stores models in an SQLite database: a file, or ``":memory:"``."""

    capabilities: ClassVar[frozenset[str]] = frozenset(
        {"transactions", "order_by_any_field", "offset", "conditions", "atomic_updates", "ttl"}
    )

    def __init__(self, path: str = ":memory:") -> None:
        """Open (or create) the database at ``path``."""
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._ready: set[str] = set()

    # -- tables ---------------------------------------------------------------------------

    def _table(self, schema: ModelSchema) -> str:
        name = f'"{schema.name}"'
        if name not in self._ready:
            keys = [f"k{i} TEXT NOT NULL" for i in range(len(schema.require_key()))]
            uniques = [f'"u_{field}" TEXT UNIQUE' for field in schema.unique_fields]
            # A model whose rows expire keeps the expiry as a number (epoch microseconds;
            # NULL: never), indexed, so that expired rows are found without reading rows.
            expires = ["expires INTEGER"] if schema.ttl_field is not None else []
            primary = ", ".join(f"k{i}" for i in range(len(schema.key_fields)))
            columns = ", ".join(
                [*keys, *uniques, *expires, "row TEXT NOT NULL", f"PRIMARY KEY ({primary})"]
            )
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
            if expires:
                known = {row[1] for row in self._db.execute(f"PRAGMA table_info({name})")}
                if "expires" not in known:  # a table made before the model's rows expired
                    self._db.execute(f"ALTER TABLE {name} ADD COLUMN expires INTEGER")
                index = f'"{schema.name}_expires"'
                self._db.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {name} (expires)")
            self._ready.add(name)
        return name

    @staticmethod
    def _columns(schema: ModelSchema) -> str:
        """The columns ``_encode`` gives values for, in its order (named: tables made by an
        earlier version may hold them in another order)."""
        keys = [f"k{i}" for i in range(len(schema.require_key()))]
        uniques = [f'"u_{field}"' for field in schema.unique_fields]
        expires = ["expires"] if schema.ttl_field is not None else []
        return ", ".join([*keys, *uniques, *expires, "row"])

    @contextmanager
    def _transaction(self, *schemas: ModelSchema) -> Iterator[sqlite3.Connection]:
        """A write transaction, begun by deleting the expired rows of ``schemas``."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for schema in {s.name: s for s in schemas if s.ttl_field is not None}.values():
                    self._db.execute(
                        f"DELETE FROM {self._table(schema)} WHERE expires <= ?", [_now()]
                    )
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- encoding -------------------------------------------------------------------------

    @staticmethod
    def _encode(schema: ModelSchema, row: Row) -> list[Any]:
        keys = [_column_value(value) for value in schema.key_of(row)]
        uniques = [
            None if row[field] is None else _column_value(row[field])
            for field in schema.unique_fields
        ]
        expires = []
        if schema.ttl_field is not None:
            expiry = row[schema.ttl_field]
            expires.append(None if expiry is None else epoch_microseconds(expiry))
        return [*keys, *uniques, *expires, json.dumps(to_jsonable_python(row))]

    @staticmethod
    def _decode(schema: ModelSchema, text: str) -> Row:
        # The model's own validation turns JSON back into the field types.
        row: Row = schema.model.model_validate_json(text).model_dump()
        return row

    @staticmethod
    def _where_key(schema: ModelSchema) -> str:
        return " AND ".join(f"k{i} = ?" for i in range(len(schema.require_key())))

    @staticmethod
    def _duplicate(
        schema: ModelSchema, row: Row, error: sqlite3.IntegrityError
    ) -> DuplicateKeyError:
        message = str(error)  # e.g. "UNIQUE constraint failed: User.u_email"
        for field in schema.unique_fields:
            if f".u_{field}" in message:
                return DuplicateKeyError(schema.name, (field,), row[field], unique=True)
        key = schema.key_of(row)
        shown = key[0] if len(key) == 1 else key
        return DuplicateKeyError(schema.name, schema.key_fields, shown, unique=False)

    # -- writes ---------------------------------------------------------------------------

    def _insert(self, db: sqlite3.Connection, schema: ModelSchema, row: Row) -> None:
        values = self._encode(schema, row)
        marks = ", ".join("?" * len(values))
        try:
            db.execute(
                f"INSERT INTO {self._table(schema)} ({self._columns(schema)}) VALUES ({marks})",
                values,
            )
        except sqlite3.IntegrityError as error:
            raise self._duplicate(schema, row, error) from None

    def insert(self, schema: ModelSchema, row: Row) -> None:
        """Insert a row in a transaction."""
        with self._transaction(schema) as db:
            self._insert(db, schema, row)

    def insert_many(self, schema: ModelSchema, rows: Sequence[Row]) -> None:
        """Insert rows in one transaction: all of them or none."""
        with self._transaction(schema) as db:
            for row in rows:
                self._insert(db, schema, row)

    def _read(self, db: sqlite3.Connection, schema: ModelSchema, key: Key) -> Row | None:
        live, now = _live(schema)
        found = db.execute(
            f"SELECT row FROM {self._table(schema)} WHERE {self._where_key(schema)}{live}",
            [*(_column_value(value) for value in key), *now],
        ).fetchone()
        return None if found is None else self._decode(schema, found[0])

    def _replace(self, db: sqlite3.Connection, schema: ModelSchema, key: Key, row: Row) -> None:
        values = self._encode(schema, row)
        uniques = ", ".join(f'"u_{field}" = ?' for field in schema.unique_fields)
        expires = "expires = ?" if schema.ttl_field is not None else ""
        assignments = ", ".join(part for part in (uniques, expires, "row = ?") if part)
        try:
            db.execute(
                f"UPDATE {self._table(schema)} SET {assignments} WHERE {self._where_key(schema)}",
                [*values[len(key) :], *values[: len(key)]],
            )
        except sqlite3.IntegrityError as error:
            raise self._duplicate(schema, row, error) from None

    def update(
        self,
        schema: ModelSchema,
        key: Key,
        changes: Row,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> Row:
        """Read, check, change and write the row in one transaction.

        The core decides conditions (``require``) and applies ``F`` expressions
        (``apply_changes``) on the row read inside the transaction: that is what makes
        them atomic here.
        """
        with self._transaction(schema) as db:
            old = self._read(db, schema, key)
            if old is None:
                raise NotFoundError(schema.name, schema.key_dict(key))
            expected = expected_version(schema, changes)
            if expected is not None:
                _check_version(schema, key, old, expected)
            require(schema, key, old, condition)
            new = apply_changes(old, changes)
            self._replace(db, schema, key, new)
        return new

    def upsert(self, schema: ModelSchema, row: Row) -> Row:
        """Insert or replace, keeping a replaced row's ``auto_now_add`` values."""
        key = schema.key_of(row)
        with self._transaction(schema) as db:
            old = self._read(db, schema, key)
            new = upserted(schema, old, row)
            self._write(db, schema, key, old, new)
        return new

    def _write(
        self, db: sqlite3.Connection, schema: ModelSchema, key: Key, old: Row | None, new: Row
    ) -> None:
        """Store ``new`` over ``old`` (inserting it when there is no ``old``)."""
        if old is None:
            self._insert(db, schema, new)
        else:
            self._replace(db, schema, key, new)

    def delete(
        self,
        schema: ModelSchema,
        key: Key,
        previous: Row | None = None,
        *,
        condition: Filter | None = None,
    ) -> None:
        """Delete the row (its unique values go with it), if its checks hold."""
        with self._transaction(schema) as db:
            versioned = schema.version_field is not None and previous is not None
            if versioned or condition is not None:
                old = self._read(db, schema, key)
                if old is None:
                    raise NotFoundError(schema.name, schema.key_dict(key))
                if versioned:
                    _check_version(schema, key, old, previous[schema.version_field])  # type: ignore[index]
                require(schema, key, old, condition)
            deleted = self._delete(db, schema, key)
        if not deleted:
            raise NotFoundError(schema.name, schema.key_dict(key))

    def _delete(self, db: sqlite3.Connection, schema: ModelSchema, key: Key) -> bool:
        """Delete a row; whether there was one."""
        return bool(
            db.execute(
                f"DELETE FROM {self._table(schema)} WHERE {self._where_key(schema)}",
                [_column_value(value) for value in key],
            ).rowcount
        )

    def transact(self, actions: Sequence[Action]) -> list[Row | None]:
        """Judge every action on the rows as committed, then apply all, in one transaction.

        The core says what an action alone would meet (``refusal``); unique values are
        looked up in their columns, as they stood before the transaction.
        """
        with self._transaction(*(action.schema for action in actions)) as db:
            olds = [self._read(db, action.schema, action.key) for action in actions]
            reasons = [self._judge(db, a, old) for a, old in zip(actions, olds, strict=True)]
            if any(reasons):
                raise TransactionError(reasons)
            results: list[Row | None] = []
            for action, old in zip(actions, olds, strict=True):
                new = written(action, old)
                if action.verb == "delete":
                    self._delete(db, action.schema, action.key)
                elif new is not None:
                    self._write(db, action.schema, action.key, old, new)
                results.append(new)
        return results

    def _judge(self, db: sqlite3.Connection, action: Action, old: Row | None) -> OrmError | None:
        """What ``action`` alone would raise, given its stored row and the unique columns."""
        problem = refusal(action, old)
        if problem is not None:
            return problem
        new = written(action, old)
        if new is None:  # a delete or a check claims nothing
            return None
        schema = action.schema
        for field in schema.unique_fields:
            value = new[field]
            if value is None or (old is not None and old[field] == value):
                continue
            found = db.execute(
                f'SELECT row FROM {self._table(schema)} WHERE "u_{field}" = ?',
                [_column_value(value)],
            ).fetchone()
            if found is not None and schema.key_of(self._decode(schema, found[0])) != action.key:
                return DuplicateKeyError(schema.name, (field,), value, unique=True)
        return None

    def clear(self, schema: ModelSchema | None = None) -> None:
        """Delete every row of one model, or of every model."""
        with self._transaction() as db:
            tables = [self._table(schema)] if schema is not None else sorted(self._ready)
            for table in tables:
                db.execute(f"DELETE FROM {table}")

    # -- reads ----------------------------------------------------------------------------

    def get(self, schema: ModelSchema, key: Key) -> Row | None:
        """Read one row by key."""
        with self._lock:
            return self._read(self._db, schema, key)

    def get_many(self, schema: ModelSchema, keys: Sequence[Key]) -> list[Row | None]:
        """Read rows by key, in order."""
        with self._lock:
            return [self._read(self._db, schema, key) for key in keys]

    def _rows(self, spec: QuerySpec) -> list[Row]:
        """The rows a query reads: the live ones, or all it holds with ``include_expired``."""
        schema = spec.schema
        with self._lock:
            live, now = ("", []) if spec.include_expired else _live(schema)
            found = self._db.execute(
                f"SELECT row FROM {self._table(schema)} WHERE 1{live}", now
            ).fetchall()
        return [self._decode(schema, text) for (text,) in found]

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        """Filter, order and slice with the core's reference implementation."""
        return iter(select_rows(self._rows(spec), spec))

    def count(self, spec: QuerySpec) -> int:
        """Count the matching rows."""
        matches = compile_filter(spec.filter)
        return sum(1 for row in self._rows(spec) if matches(row))

    def exists(self, spec: QuerySpec) -> bool:
        """Tell whether a row matches."""
        matches = compile_filter(spec.filter)
        return any(matches(row) for row in self._rows(spec))


def _live(schema: ModelSchema) -> tuple[str, list[int]]:
    """`` AND <the row has not expired>`` and its parameter, or nothing without TTL."""
    if schema.ttl_field is None:
        return "", []
    return " AND (expires IS NULL OR expires > ?)", [_now()]


def _now() -> int:
    """The ORM clock's time, as stored expiries are: microseconds since the epoch."""
    return epoch_microseconds(clock.now())


def _check_version(schema: ModelSchema, key: Key, stored: Row, expected: int) -> None:
    """Refuse a write based on another version than the stored one (optimistic locking)."""
    actual = stored[schema.version_field or ""]
    if actual != expected:
        raise ConcurrentModificationError(schema.name, schema.key_dict(key), expected, actual)
