"""An example third-party backend: RestMachine ORM on the standard library's sqlite3."""

from __future__ import annotations

from .backend import SQLiteBackend

__all__ = ["SQLiteBackend"]
