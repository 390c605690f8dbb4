"""Models the core tests share, declared exactly as users declare them."""

from __future__ import annotations

import datetime as dt

from restmachine_orm import Field, Model


class User(Model):
    """A single-key model with a unique field, a constrained field, a list and timestamps."""

    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    name: str
    age: int = Field(ge=0, default=0)
    nickname: str | None = None
    tags: list[str] = Field(default_factory=list)
    created_at: dt.datetime | None = Field(None, auto_now_add=True)
    updated_at: dt.datetime | None = Field(None, auto_now=True)


class Message(Model):
    """A composite-key model: a partition (thread) and a sort key (seq)."""

    thread: str = Field(partition_key=True)
    seq: int = Field(sort_key=True)
    body: str
    author: str | None = None


class Account(Model):
    """A flat model (only scalar fields) with two unique fields, one of them optional."""

    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    handle: str | None = Field(None, unique=True)
    name: str = ""


class Person(Model):
    """A model with a field of every orderable kind, mostly optional, to query."""

    id: str = Field(primary_key=True)
    name: str
    nick: str | None = None
    age: int | None = None
    score: float = 0.0
    active: bool = True
    born: dt.date | None = None
    seen: dt.datetime | None = None
    tags: list[str] = Field(default_factory=list)
    meta: dict[str, int] = Field(default_factory=dict)
