"""DynamoDB's JSON on the wire: request bodies out, answers in, binary values as base64.

DynamoDB's JSON protocol carries binary attribute values (``{"B": ...}``, ``{"BS": [...]}``)
as base64 text. Going out, the only ``bytes`` a request holds are such values, so the JSON
encoder's fallback turns every ``bytes`` into base64 wherever it is. Coming back, base64 text
turns into ``bytes`` only in an attribute value's position: a one-key object ``{"B": text}``
or ``{"BS": [text, ...]}``. Elsewhere a ``"B"`` key is a name chosen by the user (an
attribute or a table called ``B``), whose value is an object or a list of objects, never
text, so it is left alone.
"""

from __future__ import annotations

import base64
import json
from typing import Any

__all__ = ["decode", "encode"]

_ENCODE = json.JSONEncoder(
    separators=(",", ":"), default=lambda value: _base64(value), check_circular=False
).encode


def _base64(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"a DynamoDB request cannot hold a {type(value).__name__}: {value!r}")


def encode(body: Any) -> bytes:
    """The compact JSON document of a request body, ``bytes`` values in base64."""
    return _ENCODE(body).encode()


def _blobs(document: dict[str, Any]) -> Any:
    """``object_hook``: a binary attribute value becomes ``bytes``, anything else stays."""
    if len(document) == 1:
        value = document.get("B")
        if type(value) is str:
            return {"B": base64.b64decode(value)}
        values = document.get("BS")
        if type(values) is list and all(type(item) is str for item in values):
            return {"BS": [base64.b64decode(item) for item in values]}
    return document


def decode(raw: bytes) -> Any:
    """The JSON document of an answer (``{}`` when it is empty), binary values as ``bytes``.

    Raises:
        ValueError: ``raw`` is not JSON.
    """
    if not raw:
        return {}
    # Most answers hold no binary value: those skip the per-object hook (C speed).
    if b'"B"' in raw or b'"BS"' in raw:
        return json.loads(raw, object_hook=_blobs)
    return json.loads(raw)
