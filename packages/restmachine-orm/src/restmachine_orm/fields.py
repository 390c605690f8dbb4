"""``Field``: pydantic's ``Field`` plus the storage options the ORM understands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import AfterValidator
from pydantic import Field as _PydanticField
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = ["Field", "FieldOptions"]


@dataclass(frozen=True)
class FieldOptions:
    """The ORM's options of one field, kept in the pydantic field's metadata.

    Attributes:
        primary_key: The field alone identifies a row.
        partition_key: The field is the partition (hash) part of a composite key.
        sort_key: The field is the sort (range) part of a composite key.
        unique: No two rows may hold the same non-``None`` value.
        auto_now_add: Set to the current UTC time when the row is created, never changed after.
        auto_now: Set to the current UTC time on every write.
        index: Backends with secondary indexes answer equality filters on it from one.
        version: The row's version number, for optimistic locking: set to 1 on create,
            raised by one on every write, and a ``save()`` or ``delete()`` of an instance
            read at an older version fails with ``ConcurrentModificationError``.
        ttl: The row's expiry time: once it has passed, the row is absent for every read
            and write, and its key and unique values are free to take again.
    """

    primary_key: bool = False
    partition_key: bool = False
    sort_key: bool = False
    unique: bool = False
    auto_now_add: bool = False
    auto_now: bool = False
    index: bool = False
    version: bool = False
    ttl: bool = False

    @property
    def is_key(self) -> bool:
        """Whether the field is part of the row's key."""
        return self.primary_key or self.partition_key or self.sort_key


def _reject_empty_key(value: Any) -> Any:
    # Key values become storage keys; DynamoDB cannot store an empty string there, so no
    # backend accepts one and a model behaves the same everywhere.
    if value == "":
        raise ValueError("a key field must not be an empty string")
    return value


def Field(
    default: Any = PydanticUndefined,
    *,
    primary_key: bool = False,
    partition_key: bool = False,
    sort_key: bool = False,
    unique: bool = False,
    auto_now_add: bool = False,
    auto_now: bool = False,
    index: bool = False,
    version: bool = False,
    ttl: bool = False,
    **kwargs: Any,
) -> Any:
    """Declare a model field: pydantic's ``Field`` with storage options.

    The default comes first, as in pydantic, so ``Field(None, auto_now_add=True)`` and
    ``Field(ge=0, default=0)`` both work. Every other pydantic keyword is passed through.

    Args:
        default: The default value; leave it out for a required field.
        primary_key: The field alone identifies a row.
        partition_key: The partition part of a composite key (with a ``sort_key`` field).
        sort_key: The sort part of a composite key.
        unique: No two rows may hold the same value (``None`` is never taken).
        auto_now_add: Set to the current UTC time on create, kept after that.
        auto_now: Set to the current UTC time on every create, save and upsert.
        index: Keep a secondary index on the field where the backend has them (DynamoDB:
            a global secondary index), so ``where(field=value)`` need not scan.
        version: Make this ``int`` field the row's version for optimistic locking: the ORM
            sets it (1 on create, +1 on every write) and refuses a stale ``save()`` or
            ``delete()`` with ``ConcurrentModificationError``, writing nothing.
        ttl: Make this ``datetime`` field the row's expiry (time to live; one per model):
            once the time it holds has passed (by the ORM's clock), the row is absent from
            every read on every backend, and a create may take its key and unique values
            again. ``None`` never expires. A naive datetime is taken as UTC.
        **kwargs: Any keyword pydantic's ``Field`` accepts (``ge``, ``max_length``, ...).

    Returns:
        A pydantic ``FieldInfo`` carrying the options in its metadata.
    """
    options = FieldOptions(
        primary_key=primary_key,
        partition_key=partition_key,
        sort_key=sort_key,
        unique=unique,
        auto_now_add=auto_now_add,
        auto_now=auto_now,
        index=index,
        version=version,
        ttl=ttl,
    )
    if (auto_now or auto_now_add or version) and default is PydanticUndefined and not kwargs:
        # The ORM sets the value on write: declaring it must not make callers pass one.
        default = 0 if version else None
    info: FieldInfo = _PydanticField(default, **kwargs)
    info.metadata.append(options)
    if options.is_key:
        info.metadata.append(AfterValidator(_reject_empty_key))
    return info


def options_of(info: FieldInfo) -> FieldOptions:
    """Return the ORM options stored in a pydantic field (defaults when there are none)."""
    for item in info.metadata:
        if isinstance(item, FieldOptions):
            return item
    return _NO_OPTIONS


_NO_OPTIONS = FieldOptions()
