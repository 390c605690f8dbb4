"""``transaction()`` on DynamoDB: every action of a transaction in one ``TransactWriteItems``.

Each action becomes the writes its own method would send for its row: the row's action
(conditioned as that method conditions it, plus the action's ``condition``), then the claims
and releases of the row's unique values. A row whose unique values move, or whose indexed
field an expression computes, is read first and written by compare-and-set, as ``update``
does; so is a deleted row holding unique values. All of it goes in one request, whose client
token makes a resend (after a lost answer) apply once.

A cancellation is explained as each action alone would have been refused: its row, read
again, judged by the core's ``refusal``; a value it claims, held by another row. When nothing
explains it, a concurrent write got in between: the rows are read and the request rebuilt,
as often as ``row_contention`` allows. Rows the request cannot know (an update computed by
the server, an upsert) are read once it succeeded, with one ``BatchGetItem``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from restmachine_orm import DuplicateKeyError, OrmError, QueryError, TransactionError
from restmachine_orm.backends.actions import Action, refusal, written
from restmachine_orm.backends.base import Row
from restmachine_orm.query.changes import is_computed
from restmachine_orm.query.filters import Filter
from restmachine_orm.query.predicate import compile_filter
from restmachine_orm.schema import ModelSchema

from ._batch import read_batch
from ._claims import Claimant, Hold
from ._expiry import absent, expiry_attribute, present
from ._expressions import Expressions
from ._flow import Flow
from ._items import get_row
from ._serialize import from_item
from ._table import CancellationReason, Table, wait
from ._transactions import Diagnosis, Transaction, send_together
from ._versions import version_condition
from ._writes import also, assignments, deletion, moves_claims, rewriting
from .errors import DynamoDBError

__all__ = ["MAX_BYTES", "MAX_ITEMS", "transact"]

#: DynamoDB's limits on one ``TransactWriteItems``: its items, and its size.
MAX_ITEMS = 100
MAX_BYTES = 4 * 1024 * 1024

# Below this many items a request cannot reach MAX_BYTES (an item holds at most 400 KB).
_ITEMS_TO_WEIGH = 10


@dataclass
class _Plan:
    """What one action sends, and the row it leaves when known without reading it."""

    action: Action
    transaction: Transaction
    new: Row | None
    read_after: bool = field(default=False, kw_only=True)


class _Rebuild(Exception):
    """Nothing explains the cancellation: a row changed meanwhile; read and build again."""


def transact(table: Table, actions: Sequence[Action]) -> Flow[list[Row | None]]:
    """Write every action, or none (see ``Backend.transact``).

    Raises:
        TransactionError: An action was refused; nothing was written.
        QueryError: The request would exceed DynamoDB's limits; nothing was sent.
        DynamoDBError: Concurrent writes kept changing the rows (``row_contention``).
    """
    trust_previous = True  # the first build trusts the rows the callers last saw
    for pause in table.retries.row_contention.pauses():
        yield from wait(pause)
        olds: list[Row | None] = []
        for action in actions:
            old = action.previous if trust_previous else None
            if old is None and _reads_first(action):
                old = yield from _row(table, action)
            olds.append(old)
        trust_previous = False
        refused = [_refusal_of_read(a, old) for a, old in zip(actions, olds, strict=True)]
        if any(refused):
            yield from _judged(table, actions)  # raises, unless they changed meanwhile
            continue
        plans = [_plan(table, a, old) for a, old in zip(actions, olds, strict=True)]
        items = [entry.request for plan in plans for entry in plan.transaction.actions]
        _check_limits(actions, items)
        if _touches_an_item_twice(table, items):
            yield from _judged(table, actions)
            continue
        try:
            yield from send_together(
                table, [plan.transaction for plan in plans], _diagnosis(table, actions)
            )
        except _Rebuild:
            continue
        return (yield from _results(table, plans))
    schema = actions[0].schema
    raise DynamoDBError(
        f"{schema.name}: the transaction of {len(actions)} actions kept meeting concurrent "
        f"changes on table {table.name!r} after {table.retries.row_contention.attempts} "
        "attempts; nothing was written"
    )


def _reads_first(action: Action) -> bool:
    """Whether the action is built from its stored row (compare-and-set).

    So are the writes that move unique values (or the expiry their sentinels carry), the
    deletes that release them, the updates computing an indexed field, and the upserts of
    a model whose rows expire (an expired row is replaced as if absent).
    """
    schema, row = action.schema, action.row or {}
    if action.verb == "upsert":
        return bool(schema.unique_fields) or schema.ttl_field is not None
    if action.verb == "delete":
        return bool(schema.unique_fields)
    if action.verb != "update":
        return False
    return moves_claims(schema, row) or any(
        is_computed(row.get(name)) for name in schema.indexed_fields
    )


def _refusal_of_read(action: Action, old: Row | None) -> OrmError | None:
    """A row read to build an action may already refuse it (then no request is sent)."""
    if not _reads_first(action) or (old is None and action.verb == "upsert"):
        return None
    return refusal(action, old)


def _plan(table: Table, action: Action, old: Row | None) -> _Plan:
    """The writes one action sends (``old``: its stored row, for those read first)."""
    schema, key, condition = action.schema, action.key, action.condition
    item_key = table.keys.item_key(schema, key)
    if _reads_first(action):
        if action.verb == "delete":
            assert old is not None
            return _Plan(action, deletion(table, schema, key, old, condition), None)
        assert action.row is not None
        changes = {n: v for n, v in action.row.items() if n not in schema.key_fields}
        transaction, new = rewriting(
            table,
            schema,
            key,
            changes,
            old,
            keep_created=action.verb == "upsert",
            condition=condition,
        )
        return _Plan(action, transaction, new)
    ex = Expressions()

    def exists() -> str:
        # Placeholders are bound only when used: DynamoDB refuses unused ones.
        return present(ex, table.keys.pk, schema) + version_condition(
            ex, schema, action.expected_version
        )

    expiry = None if action.row is None else expiry_attribute(schema, action.row)
    transaction = Transaction(
        table, schema, item_key, row_exists=action.verb != "insert", expiry=expiry
    )
    if action.verb == "insert":
        assert action.row is not None
        transaction.add(
            "Put",
            Item=table.keys.item(schema, action.row),
            ConditionExpression=_creatable(ex, table, schema, condition),
            **ex.request(),
        )
        for name in schema.unique_fields:
            if action.row[name] is not None:
                transaction.claim(name, action.row[name])
        return _Plan(action, transaction, action.row)
    if action.verb in ("check", "delete"):
        transaction.add(
            "ConditionCheck" if action.verb == "check" else "Delete",
            Key=item_key,
            ConditionExpression=exists() + also(table, ex, schema, condition),
            **ex.request(),
        )
        return _Plan(action, transaction, None)
    assert action.row is not None
    if action.verb == "upsert":
        transaction.add(
            "Update",
            Key=item_key,
            UpdateExpression=assignments(
                table, ex, schema, action.row, keep=schema.auto_now_add, count=schema.version_field
            ),
            **ex.request(),
        )
        return _Plan(action, transaction, None, read_after=True)
    changes = {n: v for n, v in action.row.items() if n not in schema.key_fields}
    transaction.add(
        "Update",
        Key=item_key,
        UpdateExpression=assignments(table, ex, schema, changes, creates=False, key=action.key),
        ConditionExpression=exists() + also(table, ex, schema, condition),
        **ex.request(),
    )
    return _Plan(action, transaction, None, read_after=True)


def _creatable(ex: Expressions, table: Table, schema: ModelSchema, condition: Filter | None) -> str:
    """The condition of a create's ``Put``: no row (or an expired one), and ``condition``.

    The create's own condition holds on the absent row it is checked on: that is the
    condition on no stored values at all, decided here: on the item an expired
    row leaves, DynamoDB would check it on the expired values instead.
    """
    if condition is None or compile_filter(condition)({}):
        return absent(ex, table.keys.pk, schema)
    # Refused whatever is stored; the cancellation is then explained action by action.
    pk = ex.name(table.keys.pk)
    return f"attribute_exists({pk}) AND attribute_not_exists({pk})"


def _check_limits(actions: Sequence[Action], items: list[dict[str, object]]) -> None:
    """Refuse, before sending, a request DynamoDB would refuse for its size."""
    schema = actions[0].schema
    if len(items) > MAX_ITEMS:
        raise QueryError(
            f"{schema.name}: the transaction's {len(actions)} actions need {len(items)} "
            f"items in one TransactWriteItems (each unique value claimed or released is one "
            f"more), and DynamoDB takes at most {MAX_ITEMS}; split it. Nothing was sent"
        )
    if len(items) > _ITEMS_TO_WEIGH:
        size = len(json.dumps(items, separators=(",", ":")).encode())
        if size > MAX_BYTES:
            raise QueryError(
                f"{schema.name}: the transaction's request is {size} bytes, and DynamoDB "
                f"takes at most {MAX_BYTES} in one TransactWriteItems; split it. Nothing "
                "was sent"
            )


def _touches_an_item_twice(table: Table, items: list[dict[str, object]]) -> bool:
    """Whether two items address one table item (a value one row releases, another claims).

    The core keeps rows and claims distinct; only a release and a claim of the same unique
    value can meet here, and DynamoDB refuses such a request outright.
    """
    keys = table.keys
    seen = set()
    for item in items:
        (request,) = item.values()
        assert isinstance(request, dict)
        address = keys.address(request.get("Key") or request["Item"])
        if address in seen:
            return True
        seen.add(address)
    return False


def _diagnosis(table: Table, actions: Sequence[Action]) -> Diagnosis:
    """The explanation of a cancellation with failed conditions: judge every action."""

    def diagnose(
        transactions: list[Transaction], reasons: tuple[CancellationReason, ...]
    ) -> Flow[None]:
        yield from _judged(table, actions)
        raise _Rebuild()

    return diagnose


def _judged(table: Table, actions: Sequence[Action]) -> Flow[None]:
    """Judge each action on the rows as they are now; raise the reasons if any is refused.

    Returns when none is: the rows changed since the request was built.

    Raises:
        TransactionError: Some action is refused; ``reasons`` are aligned with ``actions``.
    """
    reasons: list[OrmError | None] = []
    for action in actions:
        stored = yield from _row(table, action)
        reason = refusal(action, stored)
        if reason is None:
            reason = yield from _claim_refusal(table, action, stored)
        reasons.append(reason)
    if any(reasons):
        raise TransactionError(reasons)


def _claim_refusal(table: Table, action: Action, stored: Row | None) -> Flow[OrmError | None]:
    """The ``DuplicateKeyError`` of a unique value the action would take from another row."""
    new = written(action, stored)
    if new is None:
        return None
    schema = action.schema
    owner = {"M": table.keys.item_key(schema, action.key)}
    claimant = Claimant(table, schema, owner)
    for name in schema.unique_fields:
        value = new.get(name)
        if value is None or (stored or {}).get(name) == value:
            continue
        if (yield from claimant.hold(name, value)) is Hold.OTHER:
            return DuplicateKeyError(schema.name, (name,), value, unique=True)
    return None


def _row(table: Table, action: Action) -> Flow[Row | None]:
    schema = action.schema
    return get_row(table, schema, table.keys.item_key(schema, action.key))


def _results(table: Table, plans: list[_Plan]) -> Flow[list[Row | None]]:
    """Each action's stored row once written; those the server computed are read back."""
    unknown = [plan for plan in plans if plan.read_after]
    found = {}
    if unknown:
        wanted = [table.keys.item_key(p.action.schema, p.action.key) for p in unknown]
        found = yield from read_batch(table, wanted)
    results: list[Row | None] = []
    for plan in plans:
        action = plan.action
        if plan.read_after:
            item = found.get(table.keys.address(table.keys.item_key(action.schema, action.key)))
            if item is None:
                raise DynamoDBError(
                    f"{action.schema.name}({action.schema.key_dict(action.key)}): the "
                    "transaction was written, but another writer deleted the row before it "
                    "could be read back"
                )
            results.append(from_item(action.schema, item))
        else:
            results.append(plan.new)  # None for a delete or a check
    return results
