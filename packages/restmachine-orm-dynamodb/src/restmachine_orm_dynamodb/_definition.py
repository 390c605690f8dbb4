"""The table's definition: the one ``CreateTable`` request, and what is derived from it.

``TableDefinition.request()`` is the request ``Table.create`` sends. The other forms of the
table that ``python -m restmachine_orm_dynamodb`` shows (a CloudFormation resource, a
Terraform resource) are translations of that request, and ``differences`` compares a live
table with it: all of them read the same request, so they cannot tell different stories.
TTL is not part of ``CreateTable`` (DynamoDB sets it with ``UpdateTimeToLive``), so the
definition gives it separately (``ttl()``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from restmachine_orm import Model, ModelDefinitionError

from ._keys import Gsi, KeyScheme

__all__ = [
    "ON_DEMAND",
    "PROVISIONED",
    "TTL_ON",
    "Billing",
    "TableDefinition",
    "cloudformation",
    "differences",
    "terraform",
]

#: DynamoDB's billing mode names.
ON_DEMAND = "PAY_PER_REQUEST"
PROVISIONED = "PROVISIONED"
#: The TTL statuses that mean "on" (``ENABLING`` is on its way there).
TTL_ON = ("ENABLED", "ENABLING")


@dataclass(frozen=True)
class Billing:
    """How the table (and each of its indexes) is billed.

    Attributes:
        mode: ``"PAY_PER_REQUEST"`` (on-demand) or ``"PROVISIONED"``.
        read: Read capacity units, of the table and of each index (provisioned only).
        write: Write capacity units, of the table and of each index (provisioned only).
    """

    mode: str = ON_DEMAND
    read: int = 0
    write: int = 0

    def throughput(self) -> dict[str, int] | None:
        """The ``ProvisionedThroughput`` of the table and its indexes (``None`` on-demand)."""
        if self.mode != PROVISIONED:
            return None
        return {"ReadCapacityUnits": self.read, "WriteCapacityUnits": self.write}


@dataclass(frozen=True)
class TableDefinition:
    """What the table must be for the models: keys, indexes, TTL, billing.

    Attributes:
        name: The table's name.
        keys: The key scheme (which attributes are the table's keys, how indexes are named).
        indexes: The global secondary indexes the table must have, sorted by name.
        expiring: Whether DynamoDB's TTL must be on (a model has ``Field(ttl=True)``).
        billing: How the table is billed.
    """

    name: str
    keys: KeyScheme
    indexes: tuple[Gsi, ...] = ()
    expiring: bool = False
    billing: Billing = field(default_factory=Billing)

    @classmethod
    def of(
        cls,
        name: str,
        keys: KeyScheme,
        indexes: Iterable[Gsi] = (),
        *,
        expiring: bool = False,
        billing: Billing | None = None,
    ) -> TableDefinition:
        """The definition with these indexes (in any order, repeats allowed).

        Raises:
            ModelDefinitionError: Two indexes of one name are keyed on other attributes.
        """
        unique = tuple(sorted(set(indexes)))
        for first, second in itertools.pairwise(unique):
            if first.name == second.name:
                raise ModelDefinitionError(
                    f"index {first.name!r} is keyed on {first.attributes} for one model and "
                    f"on {second.attributes} for another; one table has one definition of "
                    "each index (an index=True field's index is named by_<field>)"
                )
        return cls(name, keys, unique, expiring, billing or Billing())

    @classmethod
    def for_models(
        cls, name: str, keys: KeyScheme, models: Sequence[type[Model]], billing: Billing
    ) -> TableDefinition:
        """The definition the models need: their indexes, TTL if one of them expires.

        Raises:
            ModelDefinitionError: A model's field is named like one of the table's attributes.
        """
        schemas = [model.orm_schema() for model in models]
        for schema in schemas:
            keys.check(schema)
        return cls.of(
            name,
            keys,
            (gsi for schema in schemas for gsi in keys.gsis(schema)),
            expiring=any(schema.ttl_field is not None for schema in schemas),
            billing=billing,
        )

    @staticmethod
    def attributes(gsi: Gsi) -> list[dict[str, str]]:
        """The ``AttributeDefinitions`` entries of an index's key attributes."""
        return [{"AttributeName": name, "AttributeType": "S"} for name in gsi.attributes]

    def index(self, gsi: Gsi) -> dict[str, Any]:
        """A global secondary index, as ``CreateTable`` takes it.

        Every index projects ALL attributes: a query on it reads whole rows.
        """
        key_schema = [{"AttributeName": gsi.pk_attribute, "KeyType": "HASH"}]
        if gsi.sk_attribute is not None:
            key_schema.append({"AttributeName": gsi.sk_attribute, "KeyType": "RANGE"})
        index: dict[str, Any] = {
            "IndexName": gsi.name,
            "KeySchema": key_schema,
            "Projection": {"ProjectionType": "ALL"},
        }
        throughput = self.billing.throughput()
        if throughput is not None:
            index["ProvisionedThroughput"] = throughput
        return index

    def request(self) -> dict[str, Any]:
        """The ``CreateTable`` request: string ``pk``/``sk`` keys, one index per field."""
        keys = self.keys
        request: dict[str, Any] = {
            "TableName": self.name,
            "AttributeDefinitions": [
                {"AttributeName": keys.pk, "AttributeType": "S"},
                {"AttributeName": keys.sk, "AttributeType": "S"},
                *{
                    entry["AttributeName"]: entry
                    for gsi in self.indexes
                    for entry in self.attributes(gsi)
                }.values(),
            ],
            "KeySchema": [
                {"AttributeName": keys.pk, "KeyType": "HASH"},
                {"AttributeName": keys.sk, "KeyType": "RANGE"},
            ],
            "BillingMode": self.billing.mode,
        }
        throughput = self.billing.throughput()
        if throughput is not None:
            request["ProvisionedThroughput"] = throughput
        if self.indexes:
            request["GlobalSecondaryIndexes"] = list(map(self.index, self.indexes))
        return request

    def ttl(self) -> dict[str, Any] | None:
        """The ``TimeToLiveSpecification`` to enable, or ``None`` when no model expires."""
        if not self.expiring:
            return None
        return {"AttributeName": self.keys.expiry, "Enabled": True}


# -- translations --------------------------------------------------------------------------


def cloudformation(definition: TableDefinition) -> dict[str, Any]:
    """A CloudFormation template holding the table as an ``AWS::DynamoDB::Table``.

    The resource's properties carry the ``CreateTable`` request's names unchanged (they are
    the same in both), plus ``TimeToLiveSpecification``. The table is retained when the
    stack deletes or replaces it: it holds data.
    """
    properties = dict(definition.request())
    ttl = definition.ttl()
    if ttl is not None:
        properties["TimeToLiveSpecification"] = ttl
    logical = "".join(part.capitalize() for part in re.split(r"[^0-9A-Za-z]+", definition.name))
    resource = {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"DynamoDB table {definition.name} of RestMachine ORM models",
        "Resources": {f"{logical}Table": resource},
    }


def terraform(definition: TableDefinition) -> dict[str, Any]:
    """An ``aws_dynamodb_table`` resource in Terraform's JSON syntax (``.tf.json``)."""
    request = definition.request()
    keys = _keys(request["KeySchema"])
    table: dict[str, Any] = {
        "name": request["TableName"],
        "billing_mode": request["BillingMode"],
        "hash_key": keys["HASH"],
        "range_key": keys["RANGE"],
        **_capacity(request),
        "attribute": [
            {"name": one["AttributeName"], "type": one["AttributeType"]}
            for one in request["AttributeDefinitions"]
        ],
    }
    indexes = request.get("GlobalSecondaryIndexes", ())
    if indexes:
        table["global_secondary_index"] = list(map(_terraform_index, indexes))
    ttl = definition.ttl()
    if ttl is not None:
        table["ttl"] = {"attribute_name": ttl["AttributeName"], "enabled": ttl["Enabled"]}
    # Terraform's resource names: letters, digits, underscores and dashes, not a digit first.
    label = re.sub(r"[^0-9A-Za-z_-]", "_", definition.name)
    label = f"_{label}" if label[:1].isdigit() else label
    return {"resource": {"aws_dynamodb_table": {label: table}}}


def _terraform_index(index: Mapping[str, Any]) -> dict[str, Any]:
    """One ``global_secondary_index`` block of Terraform's ``aws_dynamodb_table``."""
    keys = _keys(index["KeySchema"])
    block: dict[str, Any] = {"name": index["IndexName"], "hash_key": keys["HASH"]}
    if "RANGE" in keys:
        block["range_key"] = keys["RANGE"]
    return {
        **block,
        "projection_type": index["Projection"]["ProjectionType"],
        **_capacity(index),
    }


def _keys(schema: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """A ``KeySchema`` as ``{"HASH": attribute, "RANGE": attribute}``."""
    return {key["KeyType"]: key["AttributeName"] for key in schema}


def _capacity(request: Mapping[str, Any]) -> dict[str, int]:
    """Terraform's ``read_capacity``/``write_capacity`` of a provisioned table or index."""
    throughput = request.get("ProvisionedThroughput")
    if throughput is None:
        return {}
    return {
        "read_capacity": throughput["ReadCapacityUnits"],
        "write_capacity": throughput["WriteCapacityUnits"],
    }


# -- comparison with a live table ----------------------------------------------------------


def differences(
    definition: TableDefinition, table: Mapping[str, Any], ttl: Mapping[str, Any]
) -> list[str]:
    """How a live table falls short of the definition, one sentence per difference.

    Only what the models rely on is compared: the key schema, the key attributes' types,
    each index (its key and projection) and TTL. Billing and indexes or TTL the models do
    not use are the table owner's business.

    Args:
        definition: What the models need.
        table: The table, as ``DescribeTable`` describes it.
        ttl: Its TTL, as ``DescribeTimeToLive`` describes it (``TimeToLiveDescription``).
    """
    wanted = definition.request()
    found: list[str] = []
    have, want = _key_text(table.get("KeySchema", ())), _key_text(wanted["KeySchema"])
    if have != want:
        found.append(f"key schema is {have}; the models need {want}")
    types = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", ())}
    for attribute in wanted["AttributeDefinitions"]:
        name, kind = attribute["AttributeName"], attribute["AttributeType"]
        if types.get(name, kind) != kind:  # an absent one is told as a key or index difference
            found.append(f"attribute {name!r} has type {types[name]}; the models need {kind}")
    live = {index["IndexName"]: index for index in table.get("GlobalSecondaryIndexes", ())}
    for index in wanted.get("GlobalSecondaryIndexes", ()):
        found += _index_differences(index, live.get(index["IndexName"]))
    spec = definition.ttl()
    if spec is not None:
        status, on = ttl.get("TimeToLiveStatus", "DISABLED"), ttl.get("AttributeName")
        if status not in TTL_ON:
            found.append(f"TTL is off ({status}); the models need it on {spec['AttributeName']!r}")
        elif on != spec["AttributeName"]:
            found.append(f"TTL is on {on!r}; the models need it on {spec['AttributeName']!r}")
    return found


def _index_differences(wanted: Mapping[str, Any], live: Mapping[str, Any] | None) -> list[str]:
    name, want = wanted["IndexName"], _key_text(wanted["KeySchema"])
    if live is None:
        return [f"global secondary index {name!r} ({want}) is missing"]
    found = []
    have = _key_text(live.get("KeySchema", ()))
    if have != want:
        found.append(f"index {name!r} has key schema {have}; the models need {want}")
    projection = live.get("Projection", {}).get("ProjectionType")
    need = wanted["Projection"]["ProjectionType"]
    if projection != need:
        found.append(f"index {name!r} projects {projection}; the models need {need}")
    return found


def _key_text(schema: Iterable[Mapping[str, str]]) -> str:
    """A ``KeySchema`` as text, e.g. ``HASH pk, RANGE sk``."""
    return ", ".join(f"{key['KeyType']} {key['AttributeName']}" for key in schema) or "none"
