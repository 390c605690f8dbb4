"""The models the conformance suite stores: every key shape, constraint and value type."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

from restmachine_orm import Field, Model

__all__ = [
    "SUITE_MODELS",
    "Account",
    "Awkward",
    "Color",
    "Event",
    "Hooked",
    "Labeled",
    "Lease",
    "Member",
    "Sample",
]


class Color(str, enum.Enum):
    """An enum stored by value."""

    RED = "red"
    BLUE = "blue"


class Member(Model):
    """A primary key, a unique field, optional and auto-set fields."""

    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    name: str
    age: int = Field(ge=0, default=0)
    nickname: str | None = None
    tags: list[str] = []
    created_at: dt.datetime | None = Field(None, auto_now_add=True)
    updated_at: dt.datetime | None = Field(None, auto_now=True)


class Event(Model):
    """A composite key: partition and sort."""

    stream: str = Field(partition_key=True)
    seq: int = Field(sort_key=True)
    kind: str = "note"


class Sample(Model):
    """One field of each supported value type."""

    id: str = Field(primary_key=True)
    integer: int = 0
    real: float = 0.0
    exact: decimal.Decimal = decimal.Decimal("0")
    flag: bool = False
    text: str = ""
    moment: dt.datetime | None = None
    day: dt.date | None = None
    items: list[int] = []
    mapping: dict[str, Any] = {}
    optional: str | None = None
    color: Color = Color.RED


class Hooked(Model):
    """Hooks that change and observe writes."""

    id: str = Field(primary_key=True)
    title: str
    saves: int = 0

    def before_save(self) -> None:
        """Normalise the title and count writes."""
        self.title = self.title.strip()
        self.saves += 1


class Account(Model):
    """A versioned row (optimistic locking) with a unique field."""

    id: str = Field(primary_key=True)
    handle: str = Field(unique=True)
    owner: str = ""
    balance: int = 0
    note: str = ""
    version: int = Field(version=True)


class Awkward(Model):
    """Field names that are DynamoDB reserved words or not ASCII, and an untyped mapping."""

    key: str = Field(partition_key=True)
    order: str = Field(sort_key=True)
    name: str = ""
    count: int = 0
    status: str | None = None
    größe: int = 0
    data: dict[str, Any] = {}


class Labeled(Model):
    """Sets changed in place (``F("labels") | {...}``), a set that may be ``None``, a code."""

    id: str = Field(primary_key=True)
    code: str | None = Field(None, unique=True)
    labels: set[str] = set()
    scores: frozenset[int] = frozenset()
    colors: set[Color] = set()
    maybe: set[str] | None = None


class Lease(Model):
    """A row that expires (``Field(ttl=True)``), with a unique token, a stamp and a version."""

    id: str = Field(primary_key=True)
    token: str | None = Field(None, unique=True)
    holder: str = ""
    hits: int = 0
    expires: dt.datetime | None = Field(None, ttl=True)
    created_at: dt.datetime | None = Field(None, auto_now_add=True)
    version: int = Field(version=True)


SUITE_MODELS: list[type[Model]] = [Member, Event, Sample, Hooked, Account, Awkward, Labeled]
"""Every model of the suite, for ``get_test_models``."""
