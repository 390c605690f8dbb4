"""Models shared by the core tests."""

from __future__ import annotations

import datetime as dt

from restmachine_orm import Field, Model


class User(Model):
    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    name: str
    age: int = Field(ge=0, default=0)
    nickname: str | None = None
    tags: list[str] = []
    created_at: dt.datetime | None = Field(None, auto_now_add=True)
    updated_at: dt.datetime | None = Field(None, auto_now=True)


class Message(Model):
    thread: str = Field(partition_key=True)
    seq: int = Field(sort_key=True)
    body: str
