"""Reusable groups of fields for models: ``TimestampMixin`` and ``ExpirationMixin``.

List a mixin before ``Model`` among the bases (``class Page(TimestampMixin, Model)``); mixins
combine with each other and with the model's own fields, and behave the same on every
backend, since they are made of the ORM's own field options.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from . import clock
from .fields import Field
from .query.expiry import expires_at

__all__ = ["ExpirationMixin", "TimestampMixin"]


class TimestampMixin(BaseModel):
    """``created_at``, set once when the row is created, and ``updated_at``, on every write.

    Both are timezone-aware UTC times from the ORM's clock (``restmachine_orm.clock``),
    stamped by every write: create, create_many, upsert, save and update, their async and
    transaction twins included. An upsert that replaces a row keeps its ``created_at``.

    Attributes:
        created_at: When the row was created; ``None`` until it is.
        updated_at: When the row was last written; ``None`` until it is.
    """

    __slots__ = ()

    created_at: dt.datetime | None = Field(None, auto_now_add=True)
    updated_at: dt.datetime | None = Field(None, auto_now=True)


class ExpirationMixin(BaseModel):
    """``expires_at``: the model's time to live (``Field(ttl=True)``), ``None`` for never.

    Once ``expires_at`` has passed by the ORM's clock, the row is absent from every read on
    every backend, and a create may take its key again; ``Query.include_expired()`` still
    returns the expired rows a backend holds. The model's backend needs the ``ttl``
    capability.

    Attributes:
        expires_at: When the row expires; a naive datetime is taken as UTC.
    """

    __slots__ = ()

    expires_at: dt.datetime | None = Field(None, ttl=True)

    def is_expired(self) -> bool:
        """Whether ``expires_at`` has passed by the ORM's clock (``False`` when ``None``)."""
        return self.expires_at is not None and expires_at(self.expires_at) <= clock.now()
