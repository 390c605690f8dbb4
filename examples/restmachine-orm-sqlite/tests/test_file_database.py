"""A file database keeps rows across connections; constraints are SQLite's own."""

import sqlite3

import pytest
from restmachine_orm_sqlite import SQLiteBackend

from restmachine_orm import DuplicateKeyError, Field, Model


class Note(Model):
    id: str = Field(primary_key=True)
    slug: str = Field(unique=True)


def test_rows_survive_reopening_the_file(tmp_path):
    path = str(tmp_path / "notes.db")
    Note.model_backend = SQLiteBackend(path)
    Note.create(id="n1", slug="first")
    Note.model_backend = SQLiteBackend(path)
    assert Note.get(id="n1").slug == "first"
    with pytest.raises(DuplicateKeyError):
        Note.create(id="n2", slug="first")
    rows = sqlite3.connect(path).execute('SELECT k0, u_slug FROM "Note"').fetchall()
    assert rows == [('"n1"', '"first"')]
    del Note.model_backend
