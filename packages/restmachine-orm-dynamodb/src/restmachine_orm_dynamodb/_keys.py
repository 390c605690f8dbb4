"""The single-table key scheme: where each model's items and unique sentinels live.

A row's table key is built by its model's key layout (``restmachine_orm.keys``): the
templates of ``model_keys``, or the default ones. By default a row of model ``User`` keyed
``id="u1"`` is stored at ``pk="User#u1"``, ``sk="User"``; a composite key ``(tenant, id)``
gives ``pk="Order#t1"``, ``sk="Order#o1"``. A unique value is
claimed by a sentinel item at ``pk="User#email#a@x"``, ``sk="#unique"``: no row's sort key
starts with ``#``, so sentinels and rows never collide, and every item carries the entity
attribute naming its model (or ``#unique``) so scans can tell them apart.

A field declared ``index=True`` gets a global secondary index ``by_<field>`` keyed on the
attribute ``_by_<field>`` = ``"User#<value>"``; models sharing a field name share the index,
the model prefix keeps them apart, and rows whose value is ``None`` stay out of it. An
index declared in ``model_keys`` is keyed on the attributes it names, built by its
templates, and a row with ``None`` in one of its fields stays out of it likewise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from restmachine_orm import ModelDefinitionError, ModelSchema
from restmachine_orm.backends.base import Key, Row
from restmachine_orm.keys import SENTINEL_SORT_KEY, IndexLayout, KeyLayout

from ._expiry import expiry_attribute
from ._serialize import AttributeValue, Item, text_of, to_item

__all__ = ["SENTINEL", "Address", "Gsi", "ItemKey", "KeyScheme", "index_key"]

SENTINEL = SENTINEL_SORT_KEY

ItemKey = dict[str, AttributeValue]
"""An item's table key as DynamoDB takes it: ``{pk: {"S": ...}, sk: {"S": ...}}``."""

Address = tuple[str, str]
"""An item's table key as a hashable ``(pk, sk)`` text pair (``KeyScheme.address``)."""


@dataclass(frozen=True, order=True)
class Gsi:
    """A global secondary index as the table defines it: its name and key attributes."""

    name: str
    pk_attribute: str
    sk_attribute: str | None = None

    @property
    def attributes(self) -> tuple[str, ...]:
        """Its key attributes, partition first."""
        return (
            (self.pk_attribute,)
            if self.sk_attribute is None
            else (
                self.pk_attribute,
                self.sk_attribute,
            )
        )


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
        own = {self.pk, self.sk, self.entity, self.owner, self.expiry}
        clash = sorted(own & set(schema.fields))
        if clash:
            raise ModelDefinitionError(
                f"{schema.name}: field {', '.join(map(repr, clash))} collides with the DynamoDB "
                "table's key attributes; pass other names to DynamoDBBackend(pk_attribute=..., "
                "sk_attribute=...)"
            )
        for index in _declared_indexes(schema):
            taken = sorted(own & {index.pk_attribute, index.sk_attribute})
            if taken:
                raise ModelDefinitionError(
                    f"{schema.name}: index {index.name!r} is keyed on "
                    f"{', '.join(map(repr, taken))}, one of the DynamoDB table's own "
                    "attributes; give it other attribute names (pk_attribute=...)"
                )

    def if_absent(self) -> dict[str, Any]:
        """The condition of a put that creates an item: none has its key yet."""
        return {
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": self.pk},
        }

    def item_key(self, schema: ModelSchema, key: Key) -> ItemKey:
        """The table key of the row with this key (the values of ``schema.key_fields``)."""
        layout = _layout(schema)
        values = dict(zip(schema.key_fields, key, strict=True))
        return {
            self.pk: {"S": layout.pk.render(values)},
            self.sk: {"S": layout.sk.render(values)},
        }

    def gsis(self, schema: ModelSchema) -> list[Gsi]:
        """The global secondary indexes a model's rows need: its fields' and its declared."""
        found = [
            Gsi(self.index_name(name), self.index_attribute(name)) for name in schema.indexed_fields
        ]
        found += [
            Gsi(index.name, index.pk_attribute, index.sk_attribute)
            for index in _declared_indexes(schema)
        ]
        return found

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
        for index in _declared_indexes(schema):
            item.update(index_key(index, row) or {})
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


def index_key(index: IndexLayout, values: Mapping[str, Any]) -> dict[str, AttributeValue] | None:
    """A declared index's key attributes for these values, or ``None``.

    ``None`` when one of its fields is ``None``: the row stays out of the index (sparse).
    """
    if any(values[name] is None for name in index.fields):
        return None
    key = {index.pk_attribute: {"S": index.pk.render(values)}}
    if index.sk is not None and index.sk_attribute is not None:
        key[index.sk_attribute] = {"S": index.sk.render(values)}
    return key


def _layout(schema: ModelSchema) -> KeyLayout:
    layout = schema.layout
    if layout is None:
        schema.require_key()  # raises: the model has no key
        raise AssertionError("a model with a key has a layout")
    return layout


def _declared_indexes(schema: ModelSchema) -> tuple[IndexLayout, ...]:
    layout = schema.layout
    return () if layout is None else tuple(layout.indexes.values())
