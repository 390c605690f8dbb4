"""The single-table key scheme: where each model's items and unique sentinels live.

A row of model ``User`` keyed ``id="u1"`` is stored at ``pk="User#u1"``, ``sk="User"``; a
composite key ``(tenant, id)`` gives ``pk="Order#t1"``, ``sk="Order#o1"``. A unique value is
claimed by a sentinel item at ``pk="User#email#a@x"``, ``sk="#unique"``: no row's sort key
starts with ``#``, so sentinels and rows never collide, and every item carries the entity
attribute naming its model (or ``#unique``) so scans can tell them apart.

A field declared ``index=True`` gets a global secondary index ``by_<field>`` keyed on the
attribute ``_by_<field>`` = ``"User#<value>"``; models sharing a field name share the index,
the model prefix keeps them apart, and rows whose value is ``None`` stay out of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from restmachine_orm import ModelDefinitionError, ModelSchema
from restmachine_orm.backends.base import Key, Row

from ._expiry import expiry_attribute
from ._serialize import AttributeValue, Item, text_of, to_item

__all__ = ["SENTINEL", "Address", "ItemKey", "KeyScheme"]

SENTINEL = "#unique"

ItemKey = dict[str, AttributeValue]
"""An item's table key as DynamoDB takes it: ``{pk: {"S": ...}, sk: {"S": ...}}``."""

Address = tuple[str, str]
"""An item's table key as a hashable ``(pk, sk)`` text pair (``KeyScheme.address``)."""


@dataclass(frozen=True)
class KeyScheme:
    """Names of the table's key and entity attributes, and how values map onto them.

    Attributes:
        pk: The table's partition key attribute.
        sk: The table's sort key attribute.
        entity: The attribute naming the model an item belongs to.
        owner: The attribute of a sentinel holding the owning row's partition key.
        expiry: The table's TTL attribute: the epoch seconds after which DynamoDB may
            delete a row of a model with ``Field(ttl=True)``, and its sentinels.
    """

    pk: str = "pk"
    sk: str = "sk"
    entity: str = "_type"
    owner: str = "_owner"
    expiry: str = "_ttl"

    def check(self, schema: ModelSchema) -> None:
        """Refuse a model whose field names collide with the table's own attributes.

        Raises:
            ModelDefinitionError: A field is named like the key or entity attribute.
        """
        clash = sorted(
            {self.pk, self.sk, self.entity, self.owner, self.expiry} & set(schema.fields)
        )
        if clash:
            raise ModelDefinitionError(
                f"{schema.name}: field {', '.join(map(repr, clash))} collides with the DynamoDB "
                "table's key attributes; pass other names to DynamoDBBackend(pk_attribute=..., "
                "sk_attribute=...)"
            )

    def if_absent(self) -> dict[str, Any]:
        """The condition of a put that creates an item: none has its key yet."""
        return {
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": self.pk},
        }

    def partition_value(self, schema: ModelSchema, value: Any) -> str:
        """The partition key string of a model's rows whose partition field is ``value``."""
        return f"{schema.name}#{text_of(value)}"

    def item_key(self, schema: ModelSchema, key: Key) -> ItemKey:
        """The table key of the row with this key (the values of ``schema.key_fields``)."""
        sort = schema.name if len(key) == 1 else f"{schema.name}#{text_of(key[1])}"
        return {
            self.pk: {"S": self.partition_value(schema, key[0])},
            self.sk: {"S": sort},
        }

    def index_name(self, field: str) -> str:
        """The global secondary index of an indexed field."""
        return f"by_{field}"

    def index_attribute(self, field: str) -> str:
        """The attribute an indexed field's index is keyed on."""
        return f"_by_{field}"

    def index_value(self, schema: ModelSchema, value: Any) -> str:
        """The index key of a model's rows whose indexed field holds ``value``."""
        return f"{schema.name}#{text_of(value)}"

    def address(self, item: Mapping[str, AttributeValue]) -> Address:
        """The ``(pk, sk)`` pair of an item, or of its ``ItemKey``."""
        return item[self.pk]["S"], item[self.sk]["S"]

    def key_at(self, address: Address) -> ItemKey:
        """The ``ItemKey`` of a ``(pk, sk)`` pair: ``address`` the other way round."""
        return {self.pk: {"S": address[0]}, self.sk: {"S": address[1]}}

    def item(self, schema: ModelSchema, row: Row) -> Item:
        """The item storing a row: its attributes, table key, index keys and entity."""
        item = to_item(schema, row)
        for name in schema.indexed_fields:
            if row[name] is not None:
                item[self.index_attribute(name)] = {"S": self.index_value(schema, row[name])}
        item.update(self.item_key(schema, schema.key_of(row)))
        item[self.entity] = {"S": schema.name}
        if schema.ttl_field is not None:
            expiry = expiry_attribute(schema, row)
            if expiry is not None:
                item[self.expiry] = expiry
        return item

    def sentinel_key(self, schema: ModelSchema, field: str, value: Any) -> ItemKey:
        """The table key of the sentinel that claims ``field=value`` for the model."""
        return {
            self.pk: {"S": f"{schema.name}#{field}#{text_of(value)}"},
            self.sk: {"S": SENTINEL},
        }
