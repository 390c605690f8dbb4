"""What the DynamoDB backend can do, known without importing it (or boto3)."""

from __future__ import annotations

__all__ = ["FEATURES"]

#: The backend's capabilities (names from ``restmachine_orm.CAPABILITIES``): no
#: ``sort_key_range``, since a range on the sort key is filtered, not read from the key.
FEATURES = frozenset(
    {
        "transactions",
        "order_by_any_field",
        "offset",
        "conditions",
        "atomic_updates",
        "ttl",
        "faults",
    }
)
