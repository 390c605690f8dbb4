"""Conditional writes: whether a write's ``condition=`` holds on the stored row.

Backends that check a condition on their own storage (the in-memory backend under its lock)
and those that must explain a refusal after the fact (DynamoDB reads the row once its
conditional request was refused) decide and report it here, so every backend raises the
same error for the same row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConditionFailedError
from ..schema import ModelSchema
from .filters import Filter, describe
from .predicate import compile_filter

__all__ = ["condition_failed", "require"]


def condition_failed(
    schema: ModelSchema, key: tuple[Any, ...], condition: Filter
) -> ConditionFailedError:
    """The error of a write refused because ``condition`` did not hold on row ``key``."""
    return ConditionFailedError(schema.name, schema.key_dict(key), describe(condition))


def require(
    schema: ModelSchema,
    key: tuple[Any, ...],
    stored: Mapping[str, Any],
    condition: Filter | None,
) -> None:
    """Raise unless ``condition`` (if any) holds on the ``stored`` row.

    Raises:
        ConditionFailedError: It does not hold.
    """
    if condition is not None and not compile_filter(condition)(stored):
        raise condition_failed(schema, key, condition)
