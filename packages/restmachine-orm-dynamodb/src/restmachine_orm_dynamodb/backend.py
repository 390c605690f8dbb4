"""``DynamoDBBackend``: the Backend contract on one DynamoDB table (single-table design)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import boto3
from botocore.config import Config

from restmachine_orm import Backend, Model, NotFoundError
from restmachine_orm.backends.base import Key, Row
from restmachine_orm.query import QuerySpec
from restmachine_orm.schema import ModelSchema

from . import _batch, _create_many, _reads
from ._expressions import Expressions
from ._features import FEATURES
from ._keys import KeyScheme
from ._retries import RetryConfig
from ._serialize import from_item
from ._table import CONDITIONAL_CHECK_FAILED, Refusal, Table
from ._transactions import RowConditionFailed, Transaction, creation, key_taken, unique_condition
from ._versions import expected_version, refused, stored_version, version_condition
from .errors import DynamoDBError

__all__ = ["DEFAULT_CONFIG", "DynamoDBBackend"]

#: botocore settings used when the backend makes its own client: throttling and transient
#: errors are retried by botocore's standard retry mode, with bounded timeouts.
DEFAULT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=15
)


class DynamoDBBackend(Backend):
    """Stores every model in one DynamoDB table, keyed by model name and key fields.

    Point operations send one request each (conditional ``PutItem``, ``GetItem``,
    ``UpdateItem``, ``DeleteItem``); models with unique fields claim their values with
    sentinel items in the same ``TransactWriteItems``. Queries use ``Query`` when the
    filter fixes the partition key, ``GetItem`` when it fixes a whole key or a unique value,
    and ``Scan`` otherwise; ordering other than the natural one happens client-side.
    """

    capabilities: ClassVar[frozenset[str]] = FEATURES

    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        config: Config | None = None,
        retries: RetryConfig | None = None,
        pk_attribute: str = "pk",
        sk_attribute: str = "sk",
        entity_attribute: str = "_type",
    ) -> None:
        """Use ``table_name`` through ``client``, or a client made from the other options.

        Args:
            table_name: The table holding every model.
            client: A boto3 DynamoDB client; made from the options below when omitted.
            region_name: AWS region of the client to make.
            endpoint_url: Endpoint of the client to make (e.g. DynamoDB Local).
            config: botocore ``Config`` of the client to make (``DEFAULT_CONFIG`` if omitted);
                its retry mode retries throttled and failed requests.
            retries: The backend's own retries: unprocessed batch items, cancelled
                transactions, contended rows and claims (``RetryConfig()`` if omitted).
            pk_attribute: Name of the table's partition key attribute.
            sk_attribute: Name of the table's sort key attribute.
            entity_attribute: Name of the attribute holding each item's model name.
        """
        client = client or boto3.client(
            "dynamodb",
            region_name=region_name,
            endpoint_url=endpoint_url,
            config=config or DEFAULT_CONFIG,
        )
        self._table = Table(
            client,
            table_name,
            KeyScheme(pk_attribute, sk_attribute, entity_attribute),
            retries or RetryConfig(),
        )
        self._checked: set[type[Any]] = set()

    @property
    def client(self) -> Any:
        """The boto3 DynamoDB client every request goes through."""
        return self._table.client

    @property
    def table_name(self) -> str:
        """The name of the table holding every model."""
        return self._table.name

    @property
    def keys(self) -> KeyScheme:
        """The table's key scheme: its key and entity attributes, and where items live."""
        return self._table.keys

    # -- table administration -----------------------------------------------------------

    def create_table(self, models: Sequence[type[Model]] = ()) -> None:
        """Create the table (on-demand billing) unless it exists; wait until it is ACTIVE.

        Args:
            models: Models whose ``index=True`` fields get their global secondary index
                (added to an existing table if it lacks them).
        """
        self._table.create(_indexed(models))

    def ensure_indexes(self, models: Sequence[type[Model]]) -> None:
        """Add the global secondary indexes these models declare, if the table lacks them."""
        self._table.add_indexes(_indexed(models))

    def index_names(self) -> set[str]:
        """The table's global secondary indexes (read once, then remembered)."""
        return self._table.index_names()

    # -- helpers ------------------------------------------------------------------------

    def _schema(self, schema: ModelSchema) -> ModelSchema:
        if schema.model not in self._checked:
            self._table.keys.check(schema)
            self._checked.add(schema.model)
        return schema

    def _read_row(self, schema: ModelSchema, key: Key) -> Row | None:
        item = self._table.read(self._table.keys.item_key(schema, key))
        return None if item is None else from_item(schema, item)

    def _contended(self, schema: ModelSchema, key: Key, action: str) -> DynamoDBError:
        # Every attempt met a row changed since it was read: say so, rather than guess.
        return DynamoDBError(
            f"{schema.name}({schema.key_dict(key)}): the {action} kept meeting concurrent "
            f"changes to the row on table {self._table.name!r} after "
            f"{self._table.retries.row_contention.attempts} attempts; nothing was written"
        )

    def _row_attempts(self) -> Iterator[None]:
        """One step per try of a write whose row may change under it, waiting between."""
        table = self._table
        for pause in table.retries.row_contention.pauses():
            table.pause(pause)
            yield None

    # -- writes -------------------------------------------------------------------------

    def insert(self, schema: ModelSchema, row: Row) -> None:
        """Store a new row: conditional ``PutItem``, or one transaction with its claims."""
        schema = self._schema(schema)
        key = schema.key_of(row)
        table = self._table
        item = table.keys.item(schema, row)
        if all(row[name] is None for name in schema.unique_fields):
            if table.conditional("PutItem", Item=item, **table.keys.if_absent()) is None:
                raise key_taken(schema, key)
            return
        for _ in self._row_attempts():
            try:
                creation(table, schema, row, item).send()
                return
            except RowConditionFailed:
                if self._read_row(schema, key) is not None:
                    raise key_taken(schema, key) from None
        raise self._contended(schema, key, "create")

    def get(self, schema: ModelSchema, key: Key) -> Row | None:
        """Read a row with one consistent ``GetItem``."""
        return self._read_row(self._schema(schema), key)

    def update(
        self, schema: ModelSchema, key: Key, changes: Row, previous: Row | None = None
    ) -> Row:
        """Change fields with one ``UpdateItem`` (one transaction if unique values change)."""
        schema = self._schema(schema)
        key_fields = schema.key_fields
        if not changes.keys().isdisjoint(key_fields):  # a save's changes hold no key field
            changes = {n: v for n, v in changes.items() if n not in key_fields}
        # A unique value in the changes goes through the claims even when ``previous`` holds
        # it already: the stored row may have moved on since the caller read it.
        if schema.unique_fields and any(n in changes for n in schema.unique_fields):
            return self._rewrite(schema, key, changes, previous, keep_created=False)
        expected = expected_version(schema, changes)
        table = self._table
        ex = Expressions()
        request = {
            "TableName": table.name,
            "Key": table.keys.item_key(schema, key),
            # The condition keeps this from creating an item: the entity is there already.
            "UpdateExpression": self._assignments(ex, schema, changes, creates=False),
            "ConditionExpression": f"attribute_exists({ex.name(table.keys.pk)})"
            + version_condition(ex, schema, expected),
            "ReturnValues": "ALL_NEW",
            **ex.request(),
        }
        # Sent from here, not through ``Table.conditional``: one frame less on the hot path.
        answer = table.send("UpdateItem", request, refusal=CONDITIONAL_CHECK_FAILED)
        if type(answer) is not Refusal:
            return from_item(schema, answer["Attributes"])
        if expected is None:
            raise NotFoundError(schema.name, schema.key_dict(key))
        refused(schema, key, self._read_row(schema, key), expected)

    def upsert(self, schema: ModelSchema, row: Row) -> Row:
        """Insert or replace a row whole, keeping ``auto_now_add`` values of a replaced one."""
        schema = self._schema(schema)
        key = schema.key_of(row)
        if not schema.unique_fields:
            ex = Expressions()
            answer = self._table.call(
                "UpdateItem",
                Key=self._table.keys.item_key(schema, key),
                UpdateExpression=self._assignments(
                    ex, schema, row, keep=schema.auto_now_add, count=schema.version_field
                ),
                ReturnValues="ALL_NEW",
                **ex.request(),
            )
            return from_item(schema, answer["Attributes"])
        changes = {n: v for n, v in row.items() if n not in schema.key_fields}
        return self._rewrite(schema, key, changes, None, keep_created=True)

    def delete(self, schema: ModelSchema, key: Key, previous: Row | None = None) -> None:
        """Delete a row: ``DeleteItem``, or one transaction releasing its unique values."""
        schema = self._schema(schema)
        table = self._table
        item_key = table.keys.item_key(schema, key)
        expected = (
            None
            if schema.version_field is None or previous is None
            else previous[schema.version_field]
        )
        if not schema.unique_fields:
            ex = Expressions()
            condition = f"attribute_exists({ex.name(table.keys.pk)})" + version_condition(
                ex, schema, expected
            )
            answer = table.conditional(
                "DeleteItem", Key=item_key, ConditionExpression=condition, **ex.request()
            )
            if answer is None:
                if expected is None:
                    raise NotFoundError(schema.name, schema.key_dict(key))
                refused(schema, key, self._read_row(schema, key), expected)
            return
        old = previous
        for _ in self._row_attempts():
            if old is None:
                old = self._read_row(schema, key)
                if old is None:
                    raise NotFoundError(schema.name, schema.key_dict(key))
                if expected is not None and stored_version(schema, old) != expected:
                    refused(schema, key, old, expected)
            ex = Expressions()
            transaction = Transaction(table, schema, item_key, row_exists=True)
            transaction.add(
                "Delete",
                Key=item_key,
                ConditionExpression=self._row_condition(ex, schema, old),
                **ex.request(),
            )
            for name in schema.unique_fields:
                if old.get(name) is not None:
                    transaction.release(name, old[name])
            try:
                transaction.send()
                return
            except RowConditionFailed:
                old = None  # changed or gone meanwhile: read it again
        raise self._contended(schema, key, "delete")

    def _row_condition(self, ex: Expressions, schema: ModelSchema, old: Row) -> str:
        """The row exists and is still ``old``: its unique values and its version."""
        return unique_condition(ex, self._table.keys, schema, old) + version_condition(
            ex, schema, stored_version(schema, old)
        )

    def _rewrite(
        self,
        schema: ModelSchema,
        key: Key,
        changes: Row,
        previous: Row | None,
        *,
        keep_created: bool,
    ) -> Row:
        """Write a row whose unique values may move, claiming and releasing in one transaction.

        ``keep_created`` makes it an upsert: a missing row is created, and a replaced row
        keeps its ``auto_now_add`` values. Otherwise a missing row is ``NotFoundError``.
        """
        table = self._table
        item_key = table.keys.item_key(schema, key)
        expected = None if keep_created else expected_version(schema, changes)
        old = previous
        for _ in self._row_attempts():
            if old is None:
                old = self._read_row(schema, key)
            if old is None and not keep_created:
                raise NotFoundError(schema.name, schema.key_dict(key))
            if expected is not None and old is not None and stored_version(schema, old) != expected:
                refused(schema, key, old, expected)
            base = old or {}
            new = {**base, **changes, **schema.key_dict(key)}
            if keep_created and old is not None:
                new.update({n: old[n] for n in schema.auto_now_add})
            if keep_created and schema.version_field is not None:
                new[schema.version_field] = int(base.get(schema.version_field) or 0) + 1
            ex = Expressions()
            condition = (
                self._row_condition(ex, schema, old)
                if old is not None
                else f"attribute_not_exists({ex.name(table.keys.pk)})"
            )
            transaction = Transaction(table, schema, item_key, row_exists=old is not None)
            body = {n: v for n, v in new.items() if n not in schema.key_fields}
            transaction.add(
                "Update",
                Key=item_key,
                UpdateExpression=self._assignments(ex, schema, {**schema.key_dict(key), **body}),
                ConditionExpression=condition,
                **ex.request(),
            )
            for name in schema.unique_fields:
                before, after = base.get(name), new.get(name)
                if before == after:
                    continue
                if after is not None:
                    transaction.claim(name, after)
                if before is not None:
                    transaction.release(name, before)
            try:
                transaction.send()
                return new
            except RowConditionFailed:
                old = None  # changed, created or deleted meanwhile: read it again
        raise self._contended(schema, key, "write")

    def _assignments(
        self,
        ex: Expressions,
        schema: ModelSchema,
        changes: Row,
        keep: tuple[str, ...] = (),
        count: str | None = None,
        *,
        creates: bool = True,
    ) -> str:
        """``SET`` the non-``None`` changes, ``REMOVE`` the rest.

        ``keep`` fields are set only if absent; the ``count`` field is raised by one from
        its stored value (0 when absent) instead of taking the value in ``changes``. When
        the update ``creates`` the item if missing, it also sets the entity attribute.
        """

        def entity() -> str:
            # Bound only when used: DynamoDB refuses placeholders an expression leaves unused.
            return f"{ex.name(self._table.keys.entity)} = {ex.value(schema.name)}"

        sets = [entity()] if creates else []
        removes = []
        for name, value in changes.items():
            path = ex.name(name)
            if name == count:
                sets.append(f"{path} = if_not_exists({path}, {ex.value(0)}) + {ex.value(1)}")
            elif value is None:
                removes.append(path)
            elif name in keep:
                sets.append(f"{path} = if_not_exists({path}, {ex.value(value)})")
            else:
                sets.append(f"{path} = {ex.value(value)}")
            if name in schema.indexed_fields:
                # Keep the field's index attribute in step; None leaves the sparse index.
                index = ex.name(self._table.keys.index_attribute(name))
                if value is None:
                    removes.append(index)
                else:
                    sets.append(
                        f"{index} = {ex.value(self._table.keys.index_value(schema, value))}"
                    )
        if not sets and not removes:
            # Nothing changed: an update still needs an action, and this one is harmless.
            sets.append(entity())
        parts = [f"SET {', '.join(sets)}"] if sets else []
        parts += [f"REMOVE {', '.join(removes)}"] if removes else []
        return " ".join(parts)

    # -- reads --------------------------------------------------------------------------

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        """Yield the selected rows (see ``restmachine_orm_dynamodb._reads``)."""
        return _reads.select(self._table, self._schema(spec.schema), spec)

    def count(self, spec: QuerySpec) -> int:
        """Count matches; ``Select=COUNT`` when the server can evaluate the filter."""
        return _reads.count(self._table, self._schema(spec.schema), spec)

    def exists(self, spec: QuerySpec) -> bool:
        """Tell whether a row matches, reading no further than the first match."""
        rows = _reads.rows(self._table, self._schema(spec.schema), spec)
        return next(iter(rows), None) is not None

    def clear(self, schema: ModelSchema | None = None) -> None:
        """Delete every item of one model (rows and sentinels), or of the whole table."""
        _batch.clear(self._table, schema)

    def insert_many(self, schema: ModelSchema, rows: Sequence[Row]) -> None:
        """Store new rows after checking that none of their keys or values is taken.

        See ``restmachine_orm_dynamodb._create_many`` for the requests it sends.
        """
        _create_many.insert_many(self._table, self._schema(schema), rows)

    def get_many(self, schema: ModelSchema, keys: Sequence[Key]) -> list[Row | None]:
        """Read rows with ``BatchGetItem`` (100 keys a request), in the order of ``keys``."""
        return _batch.get_many(self._table, self._schema(schema), keys)


def _indexed(models: Sequence[type[Model]]) -> set[str]:
    return {name for model in models for name in model.orm_schema().indexed_fields}
