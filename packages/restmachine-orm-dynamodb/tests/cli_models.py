"""Models for the table CLI's tests (``test_cli.py``), imported by the CLI's subprocess.

What the table must have for them, written out by hand in ``test_cli.py``: the indexes
``by_owner`` (both models' ``owner``) and ``by_assignee``, and TTL (``Task.due``).
"""

from __future__ import annotations

from datetime import datetime

from restmachine_orm import Field, Model

NOT_A_MODEL = "a module attribute that is no model"


class Named(Model):
    """An abstract base (no key field): left out when the module's models are gathered."""

    title: str = ""


class Project(Named):
    id: str = Field(primary_key=True)
    owner: str = Field(index=True)


class Task(Named):
    project: str = Field(partition_key=True)
    number: int = Field(sort_key=True)
    owner: str = Field(index=True)
    assignee: str | None = Field(None, index=True)
    due: datetime | None = Field(None, ttl=True)
