"""Point writes as flows: create, update, upsert and delete of one row.

A row without unique fields is written by one conditional request. A row with unique fields
is written by one ``TransactWriteItems`` with its claims and releases; when the row turns out
to have changed since it was read, it is read again and the transaction rebuilt, as often as
the table's ``row_contention`` allows. ``may_send_more_than_one_write`` tells the async
runner which writes must run to their end once started.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NoReturn

from restmachine_orm import NotFoundError
from restmachine_orm.backends.base import Key, Row
from restmachine_orm.query.changes import (
    AddToSet,
    Append,
    Increment,
    RemoveFromSet,
    apply_changes,
    expected_version,
    is_computed,
)
from restmachine_orm.query.conditions import condition_failed, require
from restmachine_orm.query.filters import Filter
from restmachine_orm.schema import ModelSchema

from ._expiry import absent, expiry_attribute, present
from ._expressions import Expressions
from ._flow import Flow
from ._items import get_row
from ._keys import ItemKey, index_key
from ._once import PRUNE_AT, Mark, guarded, landed, marked, stale_marks
from ._serialize import Item, from_item, stored_as_absent
from ._table import CONDITIONAL_CHECK_FAILED, Refusal, Table, wait
from ._transactions import RowConditionFailed, Transaction, creation, key_taken, unique_condition
from ._versions import refused, stored_version, version_condition
from .errors import DynamoDBError

__all__ = [
    "also",
    "assignments",
    "delete",
    "deletion",
    "insert",
    "may_send_more_than_one_write",
    "moves_claims",
    "rewriting",
    "row_condition",
    "update",
    "upsert",
]


def may_send_more_than_one_write(schema: ModelSchema) -> bool:
    """Whether a point write of this model may send several write requests.

    Writes of models with unique fields may: a claim may delete an orphaned sentinel first,
    and a row that changed meanwhile is read and written again.
    """
    return bool(schema.unique_fields)


def insert(table: Table, schema: ModelSchema, row: Row) -> Flow[None]:
    """Store a new row: conditional ``PutItem``, or one transaction with its claims."""
    key = schema.key_of(row)
    item = table.keys.item(schema, row)
    if all(row[name] is None for name in schema.unique_fields):
        yield from marked(table.lanes, partial(_put_new, table, schema, key, item))
        return
    for pause in table.retries.row_contention.pauses():
        yield from wait(pause)
        try:
            yield from creation(table, schema, row, item).send()
            return
        except RowConditionFailed:
            if (yield from _read(table, schema, key)) is not None:
                raise key_taken(schema, key) from None
    raise _contended(table, schema, key, "create")


def _put_new(
    table: Table, schema: ModelSchema, key: Key, item: Item, mark: Mark | None
) -> Flow[None]:
    """``PutItem`` where no row has the key; a retry finding its own landed item is done."""
    ex = Expressions()
    request = {
        "TableName": table.name,
        "Item": item if mark is None else {**item, **mark.attribute()},
        "ConditionExpression": absent(ex, table.keys.pk, schema),
        **ex.request(),
    }
    answer = yield from table.send(
        "PutItem", request, refusal=CONDITIONAL_CHECK_FAILED, resend=guarded(mark)
    )
    if type(answer) is Refusal and landed(mark, answer) is None:
        raise key_taken(schema, key)


def update(
    table: Table,
    schema: ModelSchema,
    key: Key,
    changes: Row,
    previous: Row | None,
    condition: Filter | None = None,
) -> Flow[Row]:
    """Change fields with one ``UpdateItem`` (one transaction if unique values change).

    ``condition`` joins the request's ``ConditionExpression``: checked by DynamoDB,
    atomically with the write.
    """
    key_fields = schema.key_fields
    if not changes.keys().isdisjoint(key_fields):  # a save's changes hold no key field
        changes = {n: v for n, v in changes.items() if n not in key_fields}
    # A unique value in the changes goes through the claims even when ``previous`` holds
    # it already: the stored row may have moved on since the caller read it. So does a
    # new expiry, which the row's sentinels take in the same transaction.
    if moves_claims(schema, changes):
        return (
            yield from _rewrite(
                table, schema, key, changes, previous, keep_created=False, condition=condition
            )
        )
    write = partial(_update_item, table, schema, key, changes, condition)
    return (yield from marked(table.lanes, write))


def _update_item(
    table: Table,
    schema: ModelSchema,
    key: Key,
    changes: Row,
    condition: Filter | None,
    mark: Mark | None,
) -> Flow[Row]:
    """One marked ``UpdateItem`` of an existing row; the stored row after it."""
    expected = expected_version(schema, changes)
    ex = Expressions()
    item_key = table.keys.item_key(schema, key)
    request = {
        "TableName": table.name,
        "Key": item_key,
        # The condition keeps this from creating an item: the entity is there already.
        "UpdateExpression": assignments(
            table, ex, schema, changes, creates=False, key=key, mark=mark
        ),
        "ConditionExpression": present(ex, table.keys.pk, schema)
        + version_condition(ex, schema, expected)
        + also(table, ex, schema, condition),
        "ReturnValues": "ALL_NEW",
        **ex.request(),
    }
    stored = yield from _updated(table, item_key, request, mark)
    if stored is None:
        return (yield from _explain(table, schema, key, expected, condition))
    row = from_item(schema, stored)
    for name in schema.indexed_fields:
        if is_computed(changes.get(name)):
            yield from _reindex(table, schema, key, name, row[name])
    return row


def _updated(
    table: Table, item_key: ItemKey, request: dict[str, Any], mark: Mark | None
) -> Flow[Item | None]:
    """Send a marked ``UpdateItem``; the item as stored after it (``None``: refused).

    A resend refused because this very write landed is no refusal: the stored item it
    carries is the answer. An item holding many marks has its old ones pruned.
    """
    answer = yield from table.send(
        "UpdateItem", request, refusal=CONDITIONAL_CHECK_FAILED, resend=guarded(mark)
    )
    stored = landed(mark, answer) if type(answer) is Refusal else answer["Attributes"]
    if stored is not None and len(stored) > PRUNE_AT:
        yield from _prune(table, item_key, stored)
    return stored


def _prune(table: Table, item_key: ItemKey, item: Item) -> Flow[None]:
    """Remove an item's old write marks once it holds many (see ``_once``).

    Each is removed only if it still holds the id seen: a lane written meanwhile keeps
    its new mark, and the whole removal is then left for a later write.
    """
    stale = stale_marks(item)
    if not stale:
        return
    ex = Expressions()
    held = " AND ".join(f"{ex.name(name)} = {ex.value(wid)}" for name, wid in stale.items())
    yield from table.conditional(
        "UpdateItem",
        Key=item_key,
        UpdateExpression="REMOVE " + ", ".join(ex.name(name) for name in stale),
        ConditionExpression=held,
        **ex.request(),
    )


def moves_claims(schema: ModelSchema, changes: Row) -> bool:
    """Whether ``changes`` touch the row's sentinels: a unique value, or the expiry they carry."""
    if not schema.unique_fields:
        return False
    ttl = schema.ttl_field
    return any(n in changes for n in schema.unique_fields) or (ttl is not None and ttl in changes)


def _reindex(table: Table, schema: ModelSchema, key: Key, name: str, value: object) -> Flow[None]:
    """Set an indexed field's index attribute after an expression computed the field.

    Its value is known only once the update answered, so it is set by a second request,
    conditioned on the field still holding that value: when a later write moved it on, that
    write sets the index itself, and this one leaves it be. In between, the index (which is
    eventually consistent anyway) may still show the row under its former value.
    """
    ex = Expressions()
    yield from table.conditional(
        "UpdateItem",
        Key=table.keys.item_key(schema, key),
        UpdateExpression=f"SET {ex.name(table.keys.index_attribute(name))} = "
        f"{ex.value(table.keys.index_value(schema, value))}",
        ConditionExpression=f"{ex.name(name)} = {ex.value(value)}",
        **ex.request(),
    )


def upsert(table: Table, schema: ModelSchema, row: Row) -> Flow[Row]:
    """Insert or replace a row whole, keeping ``auto_now_add`` values of a replaced one."""
    key = schema.key_of(row)
    if not schema.unique_fields and schema.ttl_field is None:
        return (yield from marked(table.lanes, partial(_replace, table, schema, key, row)))
    # A row with unique values moves them by compare-and-set; a row that may have expired
    # is read first too, since an expired row is replaced as if it were not there.
    changes = {n: v for n, v in row.items() if n not in schema.key_fields}
    return (yield from _rewrite(table, schema, key, changes, None, keep_created=True))


def _replace(table: Table, schema: ModelSchema, key: Key, row: Row, mark: Mark | None) -> Flow[Row]:
    """One marked ``UpdateItem`` writing the whole row, made if missing; the stored row."""
    ex = Expressions()
    item_key = table.keys.item_key(schema, key)
    request = {
        "TableName": table.name,
        "Key": item_key,
        "UpdateExpression": assignments(
            table, ex, schema, row, keep=schema.auto_now_add, count=schema.version_field, mark=mark
        ),
        "ReturnValues": "ALL_NEW",
        **ex.request(),
    }
    stored = yield from _updated(table, item_key, request, mark)
    if stored is None:  # only its own landed write can refuse it
        raise DynamoDBError(f"{schema.name}: upsert refused by table {table.name!r} (no condition)")
    return from_item(schema, stored)


def delete(
    table: Table,
    schema: ModelSchema,
    key: Key,
    previous: Row | None,
    condition: Filter | None = None,
) -> Flow[None]:
    """Delete a row: ``DeleteItem``, or one transaction releasing its unique values.

    ``condition`` joins the row's ``ConditionExpression``, as for ``update``.
    """
    item_key = table.keys.item_key(schema, key)
    expected = (
        None if schema.version_field is None or previous is None else previous[schema.version_field]
    )
    if not schema.unique_fields:
        ex = Expressions()
        answer = yield from table.conditional(
            "DeleteItem",
            Key=item_key,
            ConditionExpression=present(ex, table.keys.pk, schema)
            + version_condition(ex, schema, expected)
            + also(table, ex, schema, condition),
            **ex.request(),
        )
        if answer is None:
            yield from _explain(table, schema, key, expected, condition)
        return
    old = previous
    for pause in table.retries.row_contention.pauses():
        yield from wait(pause)
        if old is None:
            old = yield from _read(table, schema, key)
            if old is None:
                raise NotFoundError(schema.name, schema.key_dict(key))
            if expected is not None and stored_version(schema, old) != expected:
                refused(schema, key, old, expected)
            require(schema, key, old, condition)
        transaction = deletion(table, schema, key, old, condition)
        try:
            yield from transaction.send()
            return
        except RowConditionFailed:
            old = None  # changed or gone meanwhile: read it again
    raise _contended(table, schema, key, "delete")


def deletion(
    table: Table, schema: ModelSchema, key: Key, old: Row, condition: Filter | None
) -> Transaction:
    """The transaction deleting the ``old`` row (if it is still that) and its unique values."""
    item_key = table.keys.item_key(schema, key)
    ex = Expressions()
    transaction = Transaction(table, schema, item_key, row_exists=True)
    transaction.add(
        "Delete",
        Key=item_key,
        ConditionExpression=row_condition(table, ex, schema, old)
        + also(table, ex, schema, condition),
        **ex.request(),
    )
    for name in schema.unique_fields:
        if old.get(name) is not None:
            transaction.release(name, old[name])
    return transaction


def _read(table: Table, schema: ModelSchema, key: Key) -> Flow[Row | None]:
    return get_row(table, schema, table.keys.item_key(schema, key))


def also(table: Table, ex: Expressions, schema: ModelSchema, condition: Filter | None) -> str:
    """`` AND <condition>`` for a write's ``ConditionExpression``, or nothing.

    No parentheses of its own: the compiled filter brackets every ``OR`` and ``NOT`` it
    holds, and DynamoDB refuses redundant ones.
    """
    return "" if condition is None else f" AND {ex.filter(condition, table.keys.pk, schema)}"


def _explain(
    table: Table, schema: ModelSchema, key: Key, expected: int | None, condition: Filter | None
) -> Flow[NoReturn]:
    """Say why a conditional write was refused, reading the row when that takes it.

    Raises:
        NotFoundError: The row is gone (or its existence was all the write checked).
        ConcurrentModificationError: The version moved since the caller read the row.
        ConditionFailedError: The row is there at the expected version: the caller's
            condition did not hold when the write was tried.
    """
    if expected is None and condition is None:
        raise NotFoundError(schema.name, schema.key_dict(key))
    stored = yield from _read(table, schema, key)
    if stored is None:
        raise NotFoundError(schema.name, schema.key_dict(key))
    if expected is not None and stored_version(schema, stored) != expected:
        refused(schema, key, stored, expected)
    if condition is not None:
        raise condition_failed(schema, key, condition)
    assert expected is not None  # neither was given: raised above without reading
    refused(schema, key, stored, expected)


def _contended(table: Table, schema: ModelSchema, key: Key, action: str) -> DynamoDBError:
    # Every attempt met a row changed since it was read: say so, rather than guess.
    return DynamoDBError(
        f"{schema.name}({schema.key_dict(key)}): the {action} kept meeting concurrent "
        f"changes to the row on table {table.name!r} after "
        f"{table.retries.row_contention.attempts} attempts; nothing was written"
    )


def row_condition(
    table: Table, ex: Expressions, schema: ModelSchema, old: Row, changes: Row | None = None
) -> str:
    """The row exists and is still ``old``: its unique values and version, and more.

    The more: the stored value of every field an expression in ``changes`` computes from,
    since the write sends the value computed from ``old`` (a compare-and-set).
    """
    computed = "".join(
        f" AND attribute_not_exists({ex.name(name)})"
        if stored_as_absent(schema, name, old.get(name))
        else f" AND {ex.name(name)} = {ex.value(old[name])}"
        for name, change in (changes or {}).items()
        if is_computed(change)
    )
    return (
        unique_condition(ex, table.keys, schema, old)
        + version_condition(ex, schema, stored_version(schema, old))
        + computed
    )


def _rewrite(
    table: Table,
    schema: ModelSchema,
    key: Key,
    changes: Row,
    previous: Row | None,
    *,
    keep_created: bool,
    condition: Filter | None = None,
) -> Flow[Row]:
    """Write a row whose unique values may move, claiming and releasing in one transaction.

    ``keep_created`` makes it an upsert: a missing row is created, and a replaced row
    keeps its ``auto_now_add`` values. Otherwise a missing row is ``NotFoundError``.
    """
    expected = None if keep_created else expected_version(schema, changes)
    old = previous
    for pause in table.retries.row_contention.pauses():
        yield from wait(pause)
        if old is None:
            old = yield from _read(table, schema, key)
        if old is None and not keep_created:
            raise NotFoundError(schema.name, schema.key_dict(key))
        if expected is not None and old is not None and stored_version(schema, old) != expected:
            refused(schema, key, old, expected)
        if old is not None and old is not previous:  # read just now: check it here first
            require(schema, key, old, condition)
        transaction, new = rewriting(
            table, schema, key, changes, old, keep_created=keep_created, condition=condition
        )
        try:
            yield from transaction.send()
            return new
        except RowConditionFailed:
            old = None  # changed, created or deleted meanwhile: read it again
    raise _contended(table, schema, key, "write")


def rewriting(
    table: Table,
    schema: ModelSchema,
    key: Key,
    changes: Row,
    old: Row | None,
    *,
    keep_created: bool,
    condition: Filter | None = None,
) -> tuple[Transaction, Row]:
    """The transaction writing ``changes`` over ``old`` (read just before), and the row it leaves.

    The row's update is conditioned on the row still being ``old`` (a compare-and-set), and
    comes with the claims and releases of the unique values that move. ``old`` is ``None``
    only for an upsert (``keep_created``) of a row that did not exist.
    """
    item_key = table.keys.item_key(schema, key)
    base = old or {}
    new = {**apply_changes(base, changes), **schema.key_dict(key)}
    if keep_created and old is not None:
        new.update({n: old[n] for n in schema.auto_now_add})
    if keep_created and schema.version_field is not None:
        new[schema.version_field] = int(base.get(schema.version_field) or 0) + 1
    ex = Expressions()
    condition_expression = (
        row_condition(table, ex, schema, old, changes) + also(table, ex, schema, condition)
        if old is not None
        else absent(ex, table.keys.pk, schema)
    )
    transaction = Transaction(
        table, schema, item_key, row_exists=old is not None, expiry=expiry_attribute(schema, new)
    )
    body = {n: v for n, v in new.items() if n not in schema.key_fields}
    transaction.add(
        "Update",
        Key=item_key,
        UpdateExpression=assignments(table, ex, schema, {**schema.key_dict(key), **body}),
        ConditionExpression=condition_expression,
        **ex.request(),
    )
    retimed = schema.ttl_field is not None and base.get(schema.ttl_field) != new[schema.ttl_field]
    for name in schema.unique_fields:
        before, after = base.get(name), new.get(name)
        if before == after:
            if retimed and after is not None:
                transaction.retime(name, after)
            continue
        if after is not None:
            transaction.claim(name, after)
        if before is not None:
            transaction.release(name, before)
    return transaction, new


def assignments(
    table: Table,
    ex: Expressions,
    schema: ModelSchema,
    changes: Row,
    keep: tuple[str, ...] = (),
    count: str | None = None,
    *,
    creates: bool = True,
    key: Key | None = None,
    mark: Mark | None = None,
) -> str:
    """``SET`` the non-``None`` changes, ``REMOVE`` the rest; ``ADD``/``DELETE`` set elements.

    ``keep`` fields are set only if absent; the ``count`` field is raised by one from
    its stored value (0 when absent) instead of taking the value in ``changes``. When
    the update ``creates`` the item if missing, it also sets the entity attribute. ``key``
    is the row's key when ``changes`` leave its fields out (index keys may be built on them).
    ``mark`` is the write's mark, set along (see ``_once``).
    """
    keys = table.keys

    def entity() -> str:
        # Bound only when used: DynamoDB refuses placeholders an expression leaves unused.
        return f"{ex.name(keys.entity)} = {ex.value(schema.name)}"

    sets = [entity()] if creates else []
    if mark is not None:
        sets.append(mark.assignment(ex))
    removes: list[str] = []
    adds: list[str] = []
    deletes: list[str] = []
    for name, value in changes.items():
        path = ex.name(name)
        if isinstance(value, (AddToSet, RemoveFromSet)):
            # DynamoDB's own set operations: ADD makes the set when missing, DELETE removes
            # the attribute once the set is empty (which reads back as an empty set).
            chosen = adds if isinstance(value, AddToSet) else deletes
            chosen.append(f"{path} {ex.value(value.values)}")
            continue
        if isinstance(value, Increment):
            sets.append(f"{path} = if_not_exists({path}, {ex.value(0)}) + {ex.value(value.amount)}")
            continue
        if isinstance(value, Append):
            sets.append(
                f"{path} = list_append(if_not_exists({path}, {ex.value([])}), "
                f"{ex.value(list(value.values))})"
            )
            continue
        if name == count:
            sets.append(f"{path} = if_not_exists({path}, {ex.value(0)}) + {ex.value(1)}")
        elif stored_as_absent(schema, name, value):
            removes.append(path)
        elif name in keep:
            sets.append(f"{path} = if_not_exists({path}, {ex.value(value)})")
        else:
            sets.append(f"{path} = {ex.value(value)}")
        if name == schema.ttl_field:
            # Keep DynamoDB's own TTL attribute in step with the expiry.
            expiry, seconds = ex.name(keys.expiry), expiry_attribute(schema, changes)
            if seconds is None:
                removes.append(expiry)
            else:
                sets.append(f"{expiry} = {ex.encoded(seconds)}")
        if name in schema.indexed_fields:
            # Keep the field's index attribute in step; None leaves the sparse index.
            index = ex.name(keys.index_attribute(name))
            if value is None:
                removes.append(index)
            else:
                sets.append(f"{index} = {ex.value(keys.index_value(schema, value))}")
    layout = schema.layout
    values = changes if key is None else {**schema.key_dict(key), **changes}
    for declared in layout.indexes.values() if layout is not None else ():
        # The core sends every field of a declared index's key, or none (partial changes
        # are refused before anything is sent): rebuild the key, or leave the index.
        touched = any(name in changes for name in declared.fields)
        if not touched or not all(name in values for name in declared.fields):
            continue
        index_keys = index_key(declared, values)
        for attribute in (declared.pk_attribute, declared.sk_attribute):
            if attribute is None:
                continue
            if index_keys is None:
                removes.append(ex.name(attribute))
            else:
                sets.append(f"{ex.name(attribute)} = {ex.encoded(index_keys[attribute])}")
    if not (sets or removes or adds or deletes):
        # Nothing changed: an update still needs an action, and this one is harmless.
        sets.append(entity())
    clauses = (("SET", sets), ("REMOVE", removes), ("ADD", adds), ("DELETE", deletes))
    return " ".join(f"{verb} {', '.join(parts)}" for verb, parts in clauses if parts)
