"""Opaque pagination cursors: the ordering values of the last row of a page."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from pydantic_core import to_jsonable_python

from ..errors import QueryError
from ..schema import ModelSchema
from .ordering import OrderBy

__all__ = ["decode_cursor", "encode_cursor"]


def _signature(order: Sequence[OrderBy]) -> list[str]:
    return [("-" if descending else "") + field for field, descending in order]


def encode_cursor(schema: ModelSchema, order: Sequence[OrderBy], position: Sequence[Any]) -> str:
    """Encode a seek position (ordering values of a row) as a URL-safe string."""
    payload = {
        "model": schema.name,
        "order": _signature(order),
        "after": to_jsonable_python(list(position)),
    }
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode_cursor(schema: ModelSchema, order: Sequence[OrderBy], cursor: str) -> tuple[Any, ...]:
    """Decode a cursor made by ``encode_cursor`` for the same model and ordering.

    Raises:
        QueryError: The cursor is malformed or belongs to another ordering.
    """
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        model, signature, values = payload["model"], payload["order"], payload["after"]
    except (AttributeError, binascii.Error, ValueError, TypeError, KeyError, UnicodeError):
        raise QueryError(f"{schema.name}: malformed pagination cursor {cursor!r}") from None
    if model != schema.name:
        raise QueryError(
            f"{schema.name}: this cursor belongs to a query of {model!r}; "
            "pass it to the same query it came from"
        )
    expected = _signature(order)
    if signature != expected or not isinstance(values, list) or len(values) != len(order):
        raise QueryError(
            f"{schema.name}: this cursor was made for ordering {signature!r}, "
            f"not {expected!r}; pass it to the same query it came from"
        )
    return tuple(
        None if value is None else schema.validate_value(field, value, purpose="cursor")
        for (field, _), value in zip(order, values, strict=True)
    )
