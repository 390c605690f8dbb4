"""Writes that claim or release unique values: one ``TransactWriteItems`` each.

A row and the sentinels of its unique values change together or not at all. The row's own
action always comes first, conditioned on the row being as the caller believes; when that
condition fails the caller reads the row and rebuilds the transaction, so a unique value is
never left claimed by nobody.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from restmachine_orm import DuplicateKeyError, ModelSchema

from ._expressions import Expressions
from ._keys import SENTINEL, KeyScheme
from ._requests import error_code, translated
from ._serialize import AttributeValue
from .errors import DynamoDBError

__all__ = ["RowConditionFailed", "Transaction", "unique_condition"]

_ATTEMPTS = 6


class RowConditionFailed(Exception):
    """The row's action failed its condition: missing, present, or changed meanwhile."""


@dataclass
class Transaction:
    """The actions of one ``TransactWriteItems`` for one row of one model.

    Attributes:
        keys: The table's key scheme.
        schema: The model written.
        table: The table name.
        row_key: The table key of the row.
        row_exists: Whether the row's action requires the row to exist (update, delete)
            or to be absent (insert); how a failure is explained when reasons are missing.
        actions: The request's ``TransactItems``; the row's own action is added first.
        claims: Action index to the (field, value) whose sentinel it creates.
    """

    keys: KeyScheme
    schema: ModelSchema
    table: str
    row_key: dict[str, AttributeValue]
    row_exists: bool
    actions: list[dict[str, Any]] = field(default_factory=list)
    claims: dict[int, tuple[str, Any]] = field(default_factory=dict)

    @property
    def owner(self) -> AttributeValue:
        """What a sentinel carries to name the row that claimed it: the row's table key."""
        return {"M": self.row_key}

    def add(self, kind: str, **request: Any) -> None:
        """Add an action (``Put``, ``Update``, ``Delete``) on the table."""
        self.actions.append({kind: {"TableName": self.table, **request}})

    def claim(self, name: str, value: Any) -> None:
        """Create the sentinel of ``name=value``; the transaction fails if it exists."""
        self.claims[len(self.actions)] = (name, value)
        item = {
            **self.keys.sentinel_key(self.schema, name, value),
            self.keys.entity: {"S": SENTINEL},
            self.keys.owner: self.owner,
        }
        self.add(
            "Put",
            Item=item,
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": self.keys.pk},
        )

    def release(self, name: str, value: Any) -> None:
        """Delete the sentinel of ``name=value``."""
        self.add("Delete", Key=self.keys.sentinel_key(self.schema, name, value))

    def send(self, client: Any) -> None:
        """Send it, retrying conflicts with concurrent transactions.

        Raises:
            DuplicateKeyError: A claimed unique value belongs to another row.
            RowConditionFailed: The row's own condition failed.
        """
        for attempt in range(_ATTEMPTS):
            with translated(client, self.table, "TransactWriteItems"):
                try:
                    client.transact_write_items(TransactItems=self.actions)
                    return
                except ClientError as error:
                    if error_code(error) != "TransactionCanceledException":
                        raise
                    codes = _reason_codes(error)
            if "ConditionalCheckFailed" in codes or not codes:
                self._diagnose(client, codes)
            # Only conflicts with other transactions are left: nothing was written.
            time.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise DynamoDBError(
            f"{self.schema.name}: TransactWriteItems on table {self.table!r} kept conflicting "
            f"with concurrent writes after {_ATTEMPTS} attempts"
        )

    def _diagnose(self, client: Any, codes: list[str]) -> None:
        # The row's own condition is reported first, as the in-memory backend checks the
        # key before unique values.
        if codes:
            failed = [i for i, code in enumerate(codes) if code == "ConditionalCheckFailed"]
        elif self._row_present(client) != self.row_exists:
            failed = [0]
        else:
            # Some local servers give no reasons: check the claims by reading their sentinels.
            failed = [
                i
                for i, (name, value) in self.claims.items()
                if self._taken_by_other(client, name, value)
            ] or [0]
        if 0 in failed:
            raise RowConditionFailed()
        for index in failed:
            if index in self.claims:
                name, value = self.claims[index]
                raise DuplicateKeyError(self.schema.name, (name,), value, unique=True)
        raise RowConditionFailed()

    def _row_present(self, client: Any) -> bool:
        with translated(client, self.table, "GetItem"):
            found = client.get_item(TableName=self.table, Key=self.row_key, ConsistentRead=True)
        return "Item" in found

    def _taken_by_other(self, client: Any, name: str, value: Any) -> bool:
        with translated(client, self.table, "GetItem"):
            found = client.get_item(
                TableName=self.table,
                Key=self.keys.sentinel_key(self.schema, name, value),
                ConsistentRead=True,
            ).get("Item")
        return found is not None and found.get(self.keys.owner) != self.owner


def _reason_codes(error: ClientError) -> list[str]:
    reasons = error.response.get("CancellationReasons") or []
    return [
        str(reason.get("Code", "None")) if isinstance(reason, dict) else "None"
        for reason in reasons
    ]


def unique_condition(
    ex: Expressions, keys: KeyScheme, schema: ModelSchema, old: dict[str, Any]
) -> str:
    """A condition that the row exists and still holds the unique values in ``old``."""
    parts = [f"attribute_exists({ex.name(keys.pk)})"]
    for name in schema.unique_fields:
        value = old.get(name)
        path = ex.name(name)
        parts.append(
            f"attribute_not_exists({path})" if value is None else f"{path} = {ex.value(value)}"
        )
    return " AND ".join(parts)
