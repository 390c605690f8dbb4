"""The models the conformance suite stores: every key shape, constraint and value type.

``SUITE_MODELS`` is what most classes store; ``SINGLE_TABLE_MODELS`` (suite 1.8) declare key
templates (``model_keys``): an order, its lines and its notes sharing one partition, posts in
one fixed partition, and ledger entries that may never be scanned. Their literal prefixes
(``SUITEPURCHASE#``...) are the suite's own, so that no other model of a process can build
the same keys.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

from pydantic import BaseModel, PrivateAttr

from restmachine_orm import Field, IndexKeys, Keys, Model, after_load, after_save, before_save
from restmachine_orm.mixins import ExpirationMixin, TimestampMixin

__all__ = [
    "SINGLE_TABLE_MODELS",
    "SUITE_MODELS",
    "Account",
    "Audited",
    "Awkward",
    "Bulletin",
    "Cached",
    "Color",
    "Event",
    "Hooked",
    "Journal",
    "Labeled",
    "Lease",
    "Ledger",
    "Member",
    "Purchase",
    "PurchaseLine",
    "PurchaseNote",
    "Sample",
    "Stamped",
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


class Audited(BaseModel):
    """A mixin with a field and a hook: counts the writes of a row."""

    __slots__ = ()

    writes: int = 0

    @before_save
    def count_write(self) -> None:
        """Count this write (runs before the model's own hooks: base classes first)."""
        self.writes += 1


class Journal(Audited, Model):
    """Decorated hooks, one inherited from a mixin; each records itself in ``trail``."""

    id: str = Field(primary_key=True)
    title: str
    slug: str = ""
    _trail: list[str] = PrivateAttr(default_factory=list)

    @before_save
    def make_slug(self) -> None:
        """Derive the slug from the title and the write count; ``"move"`` moves the key."""
        self.slug = f"{self.title.lower().replace(' ', '-')}-{self.writes}"
        if self.title == "move":
            self.id = f"{self.id}-moved"  # refused: hooks never change keys
        self._trail.append("make_slug")

    @after_save
    def saved(self) -> None:
        """Record a successful write."""
        self._trail.append("saved")

    @after_load
    def loaded(self) -> None:
        """Record a read."""
        self._trail.append("loaded")

    @property
    def trail(self) -> list[str]:
        """The hooks that ran on this instance, in order."""
        return self._trail


class Stamped(TimestampMixin, Model):
    """``TimestampMixin`` with the model's own fields."""

    id: str = Field(primary_key=True)
    body: str = ""
    views: int = 0


class Cached(TimestampMixin, ExpirationMixin, Model):
    """Both mixins at once, with the model's own fields."""

    id: str = Field(primary_key=True)
    value: str = ""


SUITE_MODELS: list[type[Model]] = [
    Member,
    Event,
    Sample,
    Hooked,
    Account,
    Awkward,
    Labeled,
    Journal,
    Stamped,
]
"""Every model of the suite, for ``get_test_models``."""


class Purchase(Model):
    """An order, the head row of its partition, found by buyer or region through indexes.

    Its sort key (``SUITEPURCHASE``) begins the sort keys of its lines and notes, so only
    the entity of a row tells them apart in a read of the partition. Both indexes are
    sparse: a row without a buyer is in no ``suite_gsi1`` partition, one without
    ``shipped`` in no ``suite_gsi2`` one. The status is followed by ``#`` in a template,
    so a status may not contain it.
    """

    model_keys = Keys(
        pk="SUITEPURCHASE#{purchase_id}",
        sk="SUITEPURCHASE",
        indexes={
            "suite_gsi1": IndexKeys(pk="SUITEBUYER#{buyer}", sk="{status}#{placed}"),
            "suite_gsi2": IndexKeys(pk="SUITEREGION#{region}", sk="SUITESHIPPED#{shipped}"),
        },
    )

    purchase_id: str = Field(primary_key=True)
    buyer: str | None = None
    status: str = "new"
    placed: int = 0
    region: str = "eu"
    shipped: str | None = None
    reference: str | None = Field(None, unique=True)
    total: int = 0


class PurchaseLine(Model):
    """A line of an order, in the order's partition."""

    model_keys = Keys(pk="SUITEPURCHASE#{purchase_id}", sk="SUITEPURCHASE#LINE#{line}")

    purchase_id: str = Field(partition_key=True)
    line: str = Field(sort_key=True)
    quantity: int = 1
    sku: str = ""


class PurchaseNote(Model):
    """A numbered note of an order, in the order's partition: its number is key text."""

    model_keys = Keys(pk="SUITEPURCHASE#{purchase_id}", sk="SUITEPURCHASE#NOTE#{number}")

    purchase_id: str = Field(partition_key=True)
    number: int = Field(sort_key=True)
    text: str = ""


class Bulletin(Model):
    """Posts in one fixed partition: the day leads the sort key, followed by ``#``."""

    model_keys = Keys(pk="SUITEBULLETIN", sk="SUITEPOST#{day}#{seq}")

    day: str = Field(partition_key=True)
    seq: int = Field(sort_key=True)
    body: str = ""


class Ledger(Model, allow_scan=False):
    """Entries that are never scanned: read by key, account, code or buyer.

    Its index shares ``suite_gsi1`` and its partition key template with ``Purchase``: a
    buyer's partition of the index holds the rows of both models.
    """

    model_keys = Keys(
        pk="SUITELEDGER#{account}",
        sk="SUITEENTRY#{entry}",
        indexes={"suite_gsi1": IndexKeys(pk="SUITEBUYER#{buyer}", sk="SUITEENTRY#{entry}")},
    )

    account: str = Field(partition_key=True)
    entry: str = Field(sort_key=True)
    buyer: str | None = None
    code: str | None = Field(None, unique=True)
    amount: int = 0


SINGLE_TABLE_MODELS: list[type[Model]] = [Purchase, PurchaseLine, PurchaseNote, Bulletin, Ledger]
"""The models with key templates (suite 1.8), for ``get_test_models``."""
