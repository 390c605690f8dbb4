"""Which field assignments can skip pydantic's validator because it would change nothing.

Assigning to a field of a ``Model`` runs pydantic's ``validate_assignment``. For a field
declared as a bare ``int``, ``str`` or ``bool`` (optionally ``| None``) with no constraint,
validator or transformation anywhere on the way, pydantic hands back a value of exactly
that type as it is. Such an assignment is the most common write a program does before
``save()``, and the validator call is a large share of a save's own CPU time, so the model
stores those values directly, as pydantic would, and leaves everything else to pydantic.

The decision is read off the model's compiled core schema, and only shapes known to be
inert are accepted: anything unrecognised, from a new pydantic feature to a custom type,
goes through pydantic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

__all__ = ["plain_assignments"]

_PLAIN_TYPES: dict[str, type] = {"int": int, "str": str, "bool": bool}

# Keys that may appear on the schemas around a field without changing what an assignment
# of an exactly typed value does. Everything else (strict, constraints, frozen, function
# validators, string transformations in the config...) disqualifies.
_MODEL_KEYS = {"type", "cls", "config", "custom_init", "metadata", "ref", "root_model", "schema"}
_FIELDS_KEYS = {"type", "fields", "model_name", "computed_fields"}
_FIELD_KEYS = {"type", "schema", "metadata", "serialization_alias", "validation_alias"}
_DEFAULT_KEYS = {"type", "schema", "default", "default_factory", "validate_default"}
_CONFIG_KEYS = {"title", "extra_fields_behavior", "allow_inf_nan", "validate_default"}


def plain_assignments(model: type[BaseModel]) -> dict[str, tuple[type, ...]]:
    """The fields of ``model`` whose values of exactly these types pydantic keeps as given.

    Empty when the model's schema is not the plain shape this module knows, e.g. when a
    model validator, a frozen config or a string transformation applies to every field.
    """
    schema: Mapping[str, Any] = model.__pydantic_core_schema__
    if schema.get("type") != "model" or not schema.keys() <= _MODEL_KEYS:
        return {}
    if not schema.get("config", {}).keys() <= _CONFIG_KEYS or model.model_config.get("frozen"):
        return {}
    fields_schema = schema["schema"]
    if fields_schema.get("type") != "model-fields" or not fields_schema.keys() <= _FIELDS_KEYS:
        return {}
    plain: dict[str, tuple[type, ...]] = {}
    for name, field in fields_schema["fields"].items():
        accepted = _accepted_types(field)
        if accepted and not model.model_fields[name].frozen:
            plain[name] = accepted
    return plain


def _accepted_types(field: Mapping[str, Any]) -> tuple[type, ...]:
    """The value types a field's schema passes through unchanged (``()``: leave to pydantic)."""
    if field.get("type") != "model-field" or not field.keys() <= _FIELD_KEYS:
        return ()
    inner = field["schema"]
    if inner.get("type") == "default":
        if not inner.keys() <= _DEFAULT_KEYS:
            return ()
        inner = inner["schema"]
    accepted: tuple[type, ...] = ()
    if inner.get("type") == "nullable" and inner.keys() == {"type", "schema"}:
        accepted = (type(None),)
        inner = inner["schema"]
    # Exactly {"type": ...}: any other key is a constraint or strictness setting.
    kind = _PLAIN_TYPES.get(inner.get("type", "")) if inner.keys() == {"type"} else None
    return () if kind is None else (kind, *accepted)
