"""``DynamoDBBackend``: the Backend contract on one DynamoDB table (single-table design)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from restmachine_orm import Backend, DuplicateKeyError, Model, NotFoundError
from restmachine_orm.backends.base import Key, Row
from restmachine_orm.query import QuerySpec
from restmachine_orm.schema import ModelSchema

from . import _batch, _create_many, _reads
from ._expressions import Expressions
from ._features import FEATURES
from ._keys import KeyScheme
from ._requests import error_code, translation
from ._serialize import AttributeValue, from_item, to_item
from ._table import add_indexes, create_table, existing_indexes
from ._transactions import RowConditionFailed, Transaction, unique_condition
from ._versions import expected_version, refused, stored_version, version_condition
from .errors import DynamoDBError

__all__ = ["DEFAULT_CONFIG", "DynamoDBBackend"]

#: botocore settings used when the backend makes its own client: throttling and transient
#: errors are retried by botocore's standard retry mode, with bounded timeouts.
DEFAULT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=15
)
_STALE_RETRIES = 5


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
            config: botocore ``Config`` of the client to make (``DEFAULT_CONFIG`` if omitted).
            pk_attribute: Name of the table's partition key attribute.
            sk_attribute: Name of the table's sort key attribute.
            entity_attribute: Name of the attribute holding each item's model name.
        """
        self.table_name = table_name
        self.client: Any = client or boto3.client(
            "dynamodb",
            region_name=region_name,
            endpoint_url=endpoint_url,
            config=config or DEFAULT_CONFIG,
        )
        self.keys = KeyScheme(pk_attribute, sk_attribute, entity_attribute)
        self._checked: set[type[Any]] = set()
        self._indexes: set[str] | None = None

    def create_table(self, models: Sequence[type[Model]] = ()) -> None:
        """Create the table (on-demand billing) unless it exists; wait until it is ACTIVE.

        Args:
            models: Models whose ``index=True`` fields get their global secondary index
                (added to an existing table if it lacks them).
        """
        create_table(self.client, self.table_name, self.keys, _indexed(models))
        self._indexes = None

    def ensure_indexes(self, models: Sequence[type[Model]]) -> None:
        """Add the global secondary indexes these models declare, if the table lacks them."""
        wanted = _indexed(models)
        known = self.index_names()
        if any(self.keys.index_name(field) not in known for field in wanted):
            add_indexes(self.client, self.table_name, self.keys, wanted)
            self._indexes = known | {self.keys.index_name(field) for field in wanted}

    def index_names(self) -> set[str]:
        """The table's global secondary indexes (read once, then remembered)."""
        if self._indexes is None:
            self._indexes = existing_indexes(self.client, self.table_name)
        return self._indexes

    # -- helpers ------------------------------------------------------------------------

    def _schema(self, schema: ModelSchema) -> ModelSchema:
        if schema.model not in self._checked:
            self.keys.check(schema)
            self._checked.add(schema.model)
        return schema

    def item(self, schema: ModelSchema, row: Row) -> dict[str, AttributeValue]:
        """The item storing a row: its attributes, table key and entity attribute."""
        item = to_item(row)
        for name in schema.indexed_fields:
            if row[name] is not None:
                item[self.keys.index_attribute(name)] = {
                    "S": self.keys.index_value(schema, row[name])
                }
        item.update(self.keys.item_key(schema, schema.key_of(row)))
        item[self.keys.entity] = {"S": schema.name}
        return item

    def call(self, operation: str, **request: Any) -> Any:
        """Send one request on the table, e.g. ``call("Query", ...)``; errors translated."""
        request["TableName"] = self.table_name
        return self._send(operation, request)

    def call_batch(self, operation: str, **request: Any) -> Any:
        """Send a batch request (it names its table inside ``RequestItems``)."""
        return self._send(operation, request)

    def _conditional(self, operation: str, **request: Any) -> Any | None:
        """Send a conditional request; ``None`` when its condition failed."""
        request["TableName"] = self.table_name
        return self._send(operation, request, conditional=True)

    def _send(self, operation: str, request: dict[str, Any], *, conditional: bool = False) -> Any:
        # Every request of the backend passes here: plain try/except costs less than a
        # context manager, and the translation is the one `translated` blocks raise.
        try:
            return getattr(self.client, _snake(operation))(**request)
        except ClientError as error:
            if conditional and error_code(error) == "ConditionalCheckFailedException":
                return None
            raise translation(error, self.client, self.table_name, operation) from error
        except BotoCoreError as error:
            raise translation(error, self.client, self.table_name, operation) from error

    def _read_row(self, schema: ModelSchema, key: Key) -> Row | None:
        item = self.call("GetItem", Key=self.keys.item_key(schema, key), ConsistentRead=True).get(
            "Item"
        )
        return None if item is None else from_item(schema, item)

    def _contended(self, schema: ModelSchema, key: Key, action: str) -> DynamoDBError:
        # Every attempt met a row changed since it was read: say so, rather than guess.
        return DynamoDBError(
            f"{schema.name}({schema.key_dict(key)}): the {action} kept meeting concurrent "
            f"changes to the row on table {self.table_name!r} after {_STALE_RETRIES} attempts; "
            "nothing was written"
        )

    def key_taken(self, schema: ModelSchema, key: Key) -> DuplicateKeyError:
        """The error of a create whose key another row has."""
        shown = key[0] if len(key) == 1 else key
        return DuplicateKeyError(schema.name, schema.key_fields, shown, unique=False)

    # -- writes -------------------------------------------------------------------------

    def insert(self, schema: ModelSchema, row: Row) -> None:
        """Store a new row: conditional ``PutItem``, or one transaction with its claims."""
        schema = self._schema(schema)
        key = schema.key_of(row)
        item = self.item(schema, row)
        if all(row[name] is None for name in schema.unique_fields):
            if self._conditional("PutItem", Item=item, **self.keys.if_absent()) is None:
                raise self.key_taken(schema, key)
            return
        for _ in range(_STALE_RETRIES):
            try:
                self.creation(schema, row, item).send(self.client)
                return
            except RowConditionFailed:
                if self._read_row(schema, key) is not None:
                    raise self.key_taken(schema, key) from None
        raise self._contended(schema, key, "create")

    def creation(
        self, schema: ModelSchema, row: Row, item: dict[str, AttributeValue]
    ) -> Transaction:
        """The transaction creating a row: its item if absent, and a claim per unique value."""
        key = self.keys.item_key(schema, schema.key_of(row))
        transaction = Transaction(self.keys, schema, self.table_name, key, False)
        transaction.add("Put", Item=item, **self.keys.if_absent())
        for name in schema.unique_fields:
            if row[name] is not None:
                transaction.claim(name, row[name])
        return transaction

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
        ex = Expressions()
        request = {
            "TableName": self.table_name,
            "Key": self.keys.item_key(schema, key),
            # The condition keeps this from creating an item: the entity is there already.
            "UpdateExpression": self._assignments(ex, schema, changes, creates=False),
            "ConditionExpression": f"attribute_exists({ex.name(self.keys.pk)})"
            + version_condition(ex, schema, expected),
            "ReturnValues": "ALL_NEW",
            **ex.request(),
        }
        answer = self._send("UpdateItem", request, conditional=True)
        if answer is not None:
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
            answer = self.call(
                "UpdateItem",
                Key=self.keys.item_key(schema, key),
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
        item_key = self.keys.item_key(schema, key)
        expected = (
            None
            if schema.version_field is None or previous is None
            else previous[schema.version_field]
        )
        if not schema.unique_fields:
            ex = Expressions()
            condition = f"attribute_exists({ex.name(self.keys.pk)})" + version_condition(
                ex, schema, expected
            )
            answer = self._conditional(
                "DeleteItem", Key=item_key, ConditionExpression=condition, **ex.request()
            )
            if answer is None:
                if expected is None:
                    raise NotFoundError(schema.name, schema.key_dict(key))
                refused(schema, key, self._read_row(schema, key), expected)
            return
        old = previous
        for _ in range(_STALE_RETRIES):
            if old is None:
                old = self._read_row(schema, key)
                if old is None:
                    raise NotFoundError(schema.name, schema.key_dict(key))
                if expected is not None and stored_version(schema, old) != expected:
                    refused(schema, key, old, expected)
            ex = Expressions()
            transaction = Transaction(self.keys, schema, self.table_name, item_key, True)
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
                transaction.send(self.client)
                return
            except RowConditionFailed:
                old = None  # changed or gone meanwhile: read it again
        raise self._contended(schema, key, "delete")

    def _row_condition(self, ex: Expressions, schema: ModelSchema, old: Row) -> str:
        """The row exists and is still ``old``: its unique values and its version."""
        return unique_condition(ex, self.keys, schema, old) + version_condition(
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
        item_key = self.keys.item_key(schema, key)
        expected = None if keep_created else expected_version(schema, changes)
        old = previous
        for _ in range(_STALE_RETRIES):
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
                else f"attribute_not_exists({ex.name(self.keys.pk)})"
            )
            transaction = Transaction(self.keys, schema, self.table_name, item_key, old is not None)
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
                transaction.send(self.client)
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
            return f"{ex.name(self.keys.entity)} = {ex.value(schema.name)}"

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
                index = ex.name(self.keys.index_attribute(name))
                if value is None:
                    removes.append(index)
                else:
                    sets.append(f"{index} = {ex.value(self.keys.index_value(schema, value))}")
        if not sets and not removes:
            # Nothing changed: an update still needs an action, and this one is harmless.
            sets.append(entity())
        parts = [f"SET {', '.join(sets)}"] if sets else []
        parts += [f"REMOVE {', '.join(removes)}"] if removes else []
        return " ".join(parts)

    # -- reads --------------------------------------------------------------------------

    def query(self, spec: QuerySpec) -> Iterator[Row]:
        """Yield the selected rows (see ``restmachine_orm_dynamodb._reads``)."""
        return _reads.select(self, self._schema(spec.schema), spec)

    def count(self, spec: QuerySpec) -> int:
        """Count matches; ``Select=COUNT`` when the server can evaluate the filter."""
        return _reads.count(self, self._schema(spec.schema), spec)

    def exists(self, spec: QuerySpec) -> bool:
        """Tell whether a row matches, reading no further than the first match."""
        return next(iter(_reads.rows(self, self._schema(spec.schema), spec)), None) is not None

    def clear(self, schema: ModelSchema | None = None) -> None:
        """Delete every item of one model (rows and sentinels), or of the whole table."""
        _batch.clear(self, schema)

    def insert_many(self, schema: ModelSchema, rows: Sequence[Row]) -> None:
        """Store new rows after checking that none of their keys or values is taken.

        See ``restmachine_orm_dynamodb._create_many`` for the requests it sends.
        """
        _create_many.insert_many(self, self._schema(schema), rows)

    def get_many(self, schema: ModelSchema, keys: Sequence[Key]) -> list[Row | None]:
        """Read rows with ``BatchGetItem`` (100 keys a request), in the order of ``keys``."""
        return _batch.get_many(self, self._schema(schema), keys)


def _indexed(models: Sequence[type[Model]]) -> set[str]:
    return {name for model in models for name in model.orm_schema().indexed_fields}


@functools.cache
def _snake(operation: str) -> str:
    # Called for every request: the method name of an operation is worked out once.
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
