"""A file database keeps rows across connections; constraints are SQLite's own."""

import datetime as dt
import sqlite3

import pytest
from restmachine_orm_sqlite import SQLiteBackend

from restmachine_orm import DuplicateKeyError, Field, Model, clock


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


class Pass(Model):
    id: str = Field(primary_key=True)
    holder: str = ""
    expires: dt.datetime | None = Field(None, ttl=True)


def test_a_table_made_before_its_rows_expired_gains_the_expiry_column(tmp_path):
    # The layout of a table made before the model had a ttl=True field: no expiry column.
    path = str(tmp_path / "passes.db")
    old = sqlite3.connect(path)
    old.execute('CREATE TABLE "Pass" (k0 TEXT NOT NULL, row TEXT NOT NULL, PRIMARY KEY (k0))')
    old.execute('INSERT INTO "Pass" VALUES (?, ?)', ['"p0"', '{"id": "p0", "holder": "old"}'])
    old.commit()
    old.close()
    Pass.model_backend = SQLiteBackend(path)
    start = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    with clock.using(lambda: start):
        assert Pass.get(id="p0").holder == "old"
        Pass.create(id="p1", expires=start + dt.timedelta(seconds=1))
        assert sorted(p.id for p in Pass.all()) == ["p0", "p1"]
    with clock.using(lambda: start + dt.timedelta(seconds=1)):
        assert [p.id for p in Pass.all()] == ["p0"]
    del Pass.model_backend
